"""What a ``serve`` tick takes over from the tick before, when its inputs did not move.

``serve`` plans every interval, and most ticks find nothing changed: the same commit, the
same DataRobot. A :class:`TickMemory` (kept by the service, one per process) lets such a
tick skip what only repeats the last one:

- the desired state, when the checkout is the same commit with the same uncommitted files
  (keyed by :func:`checkout_key`: the commit and, for a working tree, each uncommitted
  path's size and modification time); an invalid manifest is never remembered, so it is
  reported on every tick;
- the matching of manifests to live objects, when the desired state is the one remembered
  and the snapshot equals the last one;
- the evidence, when the desired state and the matching are the ones remembered;
- the plan, when its inputs equal the last plan's (planning is a pure function of them).

Every tick still reads DataRobot (the list pages, sharing, gates): drift made by hand
changes the snapshot, and the tick plans again. Equal snapshots compare cheaply because the
client's :class:`~controller.remote.pages.PageMemo` gives unchanged pages' objects back
themselves. One run uses the memory at a time (the service's worker).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from controller.engine.evidence import Evidence
from controller.engine.ownership import MatchResult
from controller.engine.plan import PlanInputs
from controller.model.desired import DesiredState, ResourceKey
from controller.model.live import LiveSnapshot
from controller.model.plans import Plan
from controller.sources import Checkout

T = TypeVar("T")


@dataclass(frozen=True)
class _Kept(Generic[T]):
    key: tuple[object, ...]
    value: T


def checkout_key(checkout: Checkout, *settings: Hashable) -> Hashable | None:
    """What the desired state of ``checkout`` depends on besides ``settings``; ``None``
    when it cannot be told cheaply (an untracked folder, whose files git does not list)."""
    dirty: list[tuple[str, int, int, int]] = []
    for path in checkout.dirty_paths:
        if path.endswith("/"):
            return None
        try:
            stat = os.stat(checkout.toplevel / path)
        except FileNotFoundError:
            dirty.append((path, -1, -1, -1))  # deleted: stays deleted until it is not
            continue
        except OSError:
            return None
        dirty.append((path, stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return (checkout.sha, str(checkout.root), tuple(dirty), *settings)


class TickMemory:
    """The last tick's desired state, matching, evidence and plan (see the module).

    ``keep=False`` remembers nothing (a command's engine: every plan computed anew).
    """

    def __init__(self, *, keep: bool = True) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self._kept: dict[str, _Kept[object]] = {}
        self.reused: dict[str, int] = {}

    def desired(self, key: Hashable | None, load: Callable[[], DesiredState]) -> DesiredState:
        """The desired state loaded for ``key`` last tick, or ``load()`` (remembered)."""
        if key is None:
            self._kept.pop("desired", None)
            return load()
        return self._recall("desired", (key,), load)

    def matched(
        self,
        desired: DesiredState,
        snapshot: LiveSnapshot,
        namespace: str,
        match: Callable[[], MatchResult],
    ) -> MatchResult:
        return self._recall("matched", (desired, snapshot, namespace), match)

    def derived(self, name: str, matched: MatchResult, *key: object, make: Callable[[], T]) -> T:
        """What is worked out from ``matched`` alone (and ``key``): the last value while
        ``matched`` is the remembered matching."""
        return self._recall(name, (matched, *key), make)

    def evidence(
        self, scope: DesiredState, matched: MatchResult, gather: Callable[[], Evidence]
    ) -> Evidence:
        return self._recall("evidence", (scope, matched), gather)

    def elsewhere(
        self, desired: DesiredState, load: Callable[[], frozenset[ResourceKey]]
    ) -> frozenset[ResourceKey]:
        return self._recall("elsewhere", (desired,), load)

    def plan(self, inputs: PlanInputs, matched: MatchResult, make: Callable[[], Plan]) -> Plan:
        """The last plan when ``matched`` is its matching and ``inputs`` equal its inputs."""
        return self._recall("plan", (matched, inputs), make)

    def _recall(self, name: str, key: tuple[object, ...], make: Callable[[], T]) -> T:
        kept = self._kept.get(name)
        if kept is not None and _same(kept.key, key):
            with self._lock:
                self.reused[name] = self.reused.get(name, 0) + 1
            return kept.value  # type: ignore[return-value]
        value = make()
        if self._keep:
            self._kept[name] = _Kept(key, value)
        return value


def _same(kept: tuple[object, ...], now: tuple[object, ...]) -> bool:
    """The desired state and matching are the same *objects* (never compared field by
    field: that costs as much as loading); anything else, equal. In order: the first
    difference ends the comparison."""
    if len(kept) != len(now):
        return False
    for old, new in zip(kept, now, strict=True):
        if isinstance(old, DesiredState | MatchResult):
            if old is not new:
                return False
        elif old != new:
            return False
    return True
