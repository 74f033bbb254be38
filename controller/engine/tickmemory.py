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
        self._desired: _Kept[DesiredState] | None = None
        self._matched: _Kept[MatchResult] | None = None
        self._evidence: _Kept[Evidence] | None = None
        self._elsewhere: _Kept[frozenset[ResourceKey]] | None = None
        self._plan: _Kept[Plan] | None = None
        self.reused: dict[str, int] = {}

    def desired(self, key: Hashable | None, load: Callable[[], DesiredState]) -> DesiredState:
        """The desired state loaded for ``key`` last tick, or ``load()`` (remembered)."""
        kept = self._desired
        if key is not None and kept is not None and kept.key == (key,):
            return self._count("desired", kept.value)
        value = load()
        self._desired = self._store(_Kept((key,), value)) if key is not None else None
        return value

    def matched(
        self,
        desired: DesiredState,
        snapshot: LiveSnapshot,
        namespace: str,
        match: Callable[[], MatchResult],
    ) -> MatchResult:
        kept = self._matched
        if kept is not None and _same(kept.key, (desired, snapshot, namespace)):
            return self._count("matched", kept.value)
        value = match()
        self._matched = self._store(_Kept((desired, snapshot, namespace), value))
        return value

    def evidence(
        self, scope: DesiredState, matched: MatchResult, gather: Callable[[], Evidence]
    ) -> Evidence:
        kept = self._evidence
        if kept is not None and _same(kept.key, (scope, matched)):
            return self._count("evidence", kept.value)
        value = gather()
        self._evidence = self._store(_Kept((scope, matched), value))
        return value

    def elsewhere(
        self, desired: DesiredState, load: Callable[[], frozenset[ResourceKey]]
    ) -> frozenset[ResourceKey]:
        kept = self._elsewhere
        if kept is not None and _same(kept.key, (desired,)):
            return self._count("elsewhere", kept.value)
        value = load()
        self._elsewhere = self._store(_Kept((desired,), value))
        return value

    def plan(self, inputs: PlanInputs, matched: MatchResult, make: Callable[[], Plan]) -> Plan:
        """The last plan when ``inputs`` equal its inputs and ``matched`` is its matching."""
        kept = self._plan
        if kept is not None and kept.key[1] is matched and kept.key[0] == inputs:
            return self._count("plan", kept.value)
        value = make()
        self._plan = self._store(_Kept((inputs, matched), value))
        return value

    def _store(self, kept: _Kept[T]) -> _Kept[T] | None:
        return kept if self._keep else None

    def _count(self, what: str, value: T) -> T:
        with self._lock:
            self.reused[what] = self.reused.get(what, 0) + 1
        return value


def _same(kept: tuple[object, ...], now: tuple[object, ...]) -> bool:
    """The desired state and matching are the same *objects* (never compared field by
    field: that costs as much as loading); anything else, equal."""
    if len(kept) != len(now):
        return False
    for old, new in zip(kept, now, strict=True):
        if isinstance(old, DesiredState | MatchResult):
            if old is not new:
                return False
        elif old != new:
            return False
    return True
