"""The contract between the service and the reconcile engine: one call per run.

The service owns *when* a run happens (schedule, webhooks, start-up), one at a time, and
what is reported about it (logs, metrics, ``/status``, readiness). The engine owns *what* a
run does. They meet in one callable::

    RunFn = Callable[[RunRequest], RunOutcome]

What the engine must do inside each call:

1. **Fetch git first.** Every run fetches the tracked ref and checks out the fetched commit
   before anything else; a webhook only says "something was pushed", never what.
2. Call ``request.on_revision(sha)`` as soon as the commit is known, so the service binds
   ``revision`` to every log event of the run (and shows it even if the run fails later).
3. Report each DataRobot API response through ``request.on_api_request(method, route,
   status)`` (``route`` is the *template*, e.g. ``/api/v2/customModels/{id}/``, to keep
   metric labels bounded; ``status`` 0 means no response, e.g. a dropped connection).
4. Check ``request.stop.is_set()`` between actions. When set (the namespace lock was
   lost, a second signal, or a SIGTERM whose shutdown grace is nearly used up: a first
   SIGTERM lets the run finish), finish the writes in flight, start no new ones, and
   return an outcome whose ``errors`` says what was left undone (a later run converges).
5. Return a :class:`RunOutcome`. Raising is allowed but crude: the service records a
   ``failed`` run with the exception's type and message. Messages must hold no secrets
   (the service scrubs known secrets again, as a second line of defence).

The engine may run actions in worker threads; to keep ``run_id``/``revision`` in their log
events, submit work with ``contextvars.copy_context().run``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Trigger: TypeAlias = Literal["startup", "schedule", "webhook:github", "webhook:gitlab"]
Result: TypeAlias = Literal["success", "failed", "no-op"]
ApiRequestObserver: TypeAlias = Callable[[str, str, int], None]
"""``(method, route template, status)`` for one DataRobot API response."""

TRIGGERS: tuple[Trigger, ...] = ("startup", "schedule", "webhook:github", "webhook:gitlab")
RESULTS: tuple[Result, ...] = ("success", "failed", "no-op")


def _ignore(*_args: object) -> None:
    return None


@dataclass(frozen=True)
class RunRequest:
    """What the service hands the engine for one run.

    ``last_success_revision`` is the commit of the last successful run of this process
    (``None`` at first), which lets the engine tell drift from git changes.
    ``pushed_revision`` is the commit a webhook announced for this run, if one did.
    """

    run_id: str
    trigger: Trigger
    stop: threading.Event = field(default_factory=threading.Event, compare=False)
    last_success_revision: str | None = None
    on_api_request: ApiRequestObserver = field(default=_ignore, compare=False)
    on_revision: Callable[[str], None] = field(default=_ignore, compare=False)
    pushed_revision: str | None = None

    @property
    def stop_requested(self) -> bool:
        """True once the engine should start no new action."""
        return self.stop.is_set()


@dataclass(frozen=True)
class ActionCounts:
    """How many actions of each kind a run applied (``failed``: actions that failed;
    ``builds`` and ``tests``: quality gate steps that ran to the end)."""

    created: int = 0
    updated: int = 0
    versions: int = 0
    shared: int = 0
    deleted: int = 0
    failed: int = 0
    builds: int = 0
    tests: int = 0

    @property
    def writes(self) -> int:
        """Changes made to DataRobot (failed actions excluded; builds and tests change no
        object's definition, so they are not counted as drift corrections either)."""
        return self.created + self.updated + self.versions + self.shared + self.deleted

    def to_json(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "versions": self.versions,
            "shared": self.shared,
            "deleted": self.deleted,
            "failed": self.failed,
            "builds": self.builds,
            "tests": self.tests,
        }


@dataclass(frozen=True)
class ResourceCount:
    """How many managed resources of a ``kind`` (``CustomModel``, ``CustomJob``) are in a
    ``state`` after the run. Suggested states: ``in-sync``, ``changed`` (written this run),
    ``failed``, ``orphaned`` (owned, manifest gone, not pruned)."""

    kind: str
    state: str
    count: int


@dataclass(frozen=True)
class GateReport:
    """One quality gate step of a run: ``step`` ``build`` or ``test``; ``result``
    ``passed`` or ``failed``; ``detail`` says which version and why."""

    key: str
    step: Literal["build", "test"]
    result: Literal["passed", "failed"]
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"key": self.key, "step": self.step, "result": self.result, "detail": self.detail}


@dataclass(frozen=True)
class RunOutcome:
    """What one run did, as the engine reports it.

    ``revision`` is the commit applied (``None`` when the run failed before it knew one).
    ``drift_corrections`` counts changes made to undo edits made outside git; leave it
    ``None`` and the service derives it: every write of a run whose revision equals the
    last successful run's revision is a drift correction, otherwise none.
    ``drift_fields`` counts, by field (an API field name, ``runtimeParameters``,
    ``sharing``, ``files``), the values such a run put back.
    ``changes`` says per object what was applied (``"CustomModel/x: version 1.3
    created"``), ``blocked`` names the actions the plan refused, and ``failed_gate`` the
    gate that stopped the run (``"manifest validation"``), for notifications.
    ``gates`` reports each dependency build and custom model test the run carried out.
    """

    result: Result
    revision: str | None = None
    counts: ActionCounts = ActionCounts()
    resources: tuple[ResourceCount, ...] = ()
    errors: tuple[str, ...] = ()
    drift_corrections: int | None = None
    drift_fields: tuple[tuple[str, int], ...] = ()
    changes: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    failed_gate: str | None = None
    gates: tuple[GateReport, ...] = ()

    def __post_init__(self) -> None:
        if self.result not in RESULTS:
            raise ValueError(f"result must be one of {RESULTS}, not {self.result!r}")

    @property
    def succeeded(self) -> bool:
        """True for ``success`` and ``no-op``: the namespace equals the revision."""
        return self.result != "failed"

    @classmethod
    def crashed(cls, exc: BaseException, revision: str | None = None) -> RunOutcome:
        """The outcome recorded when the run function raised instead of returning."""
        return cls(result="failed", revision=revision, errors=(f"{type(exc).__name__}: {exc}",))

    def resources_by_kind_and_state(self) -> Mapping[tuple[str, str], int]:
        totals: dict[tuple[str, str], int] = {}
        for item in self.resources:
            key = (item.kind, item.state)
            totals[key] = totals.get(key, 0) + item.count
        return totals


RunFn: TypeAlias = Callable[[RunRequest], RunOutcome]
"""One reconcile run: fetch git, plan, apply; see the module docstring for the contract."""
