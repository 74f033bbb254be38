"""One reconcile, for ``dr-gitops apply`` and ``dr-gitops serve`` alike: plan, take the
namespace lock, plan again, apply.

The straight line (as Flux's ``reconcile``)::

    with open_session() as s:                    # a git checkout, a client, the engine
        planned = plan(s)                        # a saved plan is checked against it
        nothing to do?          → done           # the lock is never asked for
        engine.check_can_apply(planned)          # once: a refusal writes nothing, not even
        approve(plan)?                           #   the lock
        lock.try_take()?  → plan again under the lock, approve, apply
    otherwise (another controller holds it):     # wait without keeping the checkout open
    with lock.held(), open_session() as s:
        plan, check, approve, apply              # a new checkout: checked again

``serve`` holds its lock for its whole life, so it passes no :class:`Locking` and applies
the plan it made; ``apply`` takes the lock only once there is something to apply
(:class:`~controller.service.apply_lock.ApplyLocking`). What to show, whether a person
approves, and what a service checks about the checkout are the caller's, through hooks.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal, Protocol

from controller.engine.outcomes import ApplyResult, Reporter
from controller.engine.reconciling import Engine, Planned
from controller.engine.tickmemory import TickMemory
from controller.model.plans import Plan
from controller.remote import DataRobotClient, PageMemo, RequestHook
from controller.settings import ApiSettings, EngineSettings, GitSettings
from controller.sources import CiFacts, GitSource, open_source

Moment = Literal["planned", "changed-under-lock", "planned-after-wait"]
"""When a plan is shown: the first plan; a plan made again under the lock that differs
from the first; the plan made once the lock, held by another controller, was free."""


@dataclass(frozen=True)
class Session:
    """What one reconcile works with: the opened source, the client and the engine."""

    source: GitSource
    client: DataRobotClient
    engine: Engine


@contextlib.contextmanager
def open_session(
    git: GitSettings,
    api: ApiSettings,
    engine: EngineSettings,
    *,
    environ: Mapping[str, str],
    ci: CiFacts | None,
    on_request: RequestHook | None = None,
    memory: TickMemory | None = None,
    pages: PageMemo | None = None,
) -> Iterator[Session]:
    """Open the git source and a DataRobot client from settings values, and build the
    engine. ``environ`` is the environment git runs with; ``ci`` what the CI system says
    about the commit (``None`` outside CI, and always for ``serve``). ``memory`` and
    ``pages`` are what ``serve`` keeps from one run to the next (a run whose commit and
    DataRobot did not move takes the last run's desired state, decoded pages and plan)."""
    with (
        open_source(git, environ=environ, manifests_path=engine.path) as source,
        DataRobotClient(api, on_request=on_request, page_memo=pages) as client,
    ):
        yield Session(source, client, Engine(client, engine, ci=ci, memory=memory))


class Locking(Protocol):
    """The namespace lock as a reconcile takes it."""

    def try_take(self, namespace: str) -> bool:
        """One attempt without waiting; True when held."""
        ...

    def held(self, stop: threading.Event) -> AbstractContextManager[None]:
        """Hold the lock (waiting for it as configured); sets ``stop`` when it is lost."""
        ...


@dataclass(frozen=True)
class Reconciled:
    """What a reconcile did: the plan it made (and applied, when ``result`` is set).
    ``declined``: a person did not approve it; ``stopped``: a stop was asked for before
    applying began."""

    planned: Planned
    plan: Plan
    result: ApplyResult | None = None
    declined: bool = False
    stopped: bool = False


def _always(_plan: Plan) -> bool:
    return True


def _silent(_plan: Plan, _moment: Moment) -> None:
    return None


def _applying(_plan: Plan, _stop: threading.Event) -> AbstractContextManager[Reporter | None]:
    return contextlib.nullcontext()


@dataclass(frozen=True)
class Orchestrator:
    """Plan → lock → plan again → apply, with the caller's hooks.

    ``open_session`` opens a checkout, a client and the engine (and closes them);
    ``locking`` is ``None`` when the caller holds the lock already (``serve``). ``saved``
    is a plan saved by ``plan --out``: the plan made now is checked against it and applied
    in its stead. ``inspect`` sees the source before planning (``serve`` checks the pushed
    commit and the namespace there); ``show`` sees each plan worth showing; ``approve``
    may decline one; ``applying`` surrounds the writes. ``stop`` asks that no new action
    start (a lost lock sets it too).
    """

    open_session: Callable[[], AbstractContextManager[Session]]
    locking: Locking | None = None
    saved: Plan | None = None
    inspect: Callable[[GitSource], None] | None = None
    show: Callable[[Plan, Moment], None] = _silent
    approve: Callable[[Plan], bool] = _always
    applying: Callable[[Plan, threading.Event], AbstractContextManager[Reporter | None]] = _applying
    """Entered around the writes of a plan, it gives the reporter of their progress
    (``apply`` shows a bar, and lets a first Ctrl-C set ``stop`` meanwhile)."""
    after_apply: Callable[[Session, Reconciled], None] | None = None
    """Called after the writes, the session still open (``serve`` reads the objects again
    for its status page)."""
    wait_for_gates: bool = True
    """False leaves builds and tests still running pending (``serve``: a long build never
    holds up the next run)."""

    def reconcile(self, stop: threading.Event) -> Reconciled:
        """One reconcile; raises what planning and the checks raise (nothing written)."""
        locking = self.locking
        with self.open_session() as s:
            planned, plan, done = self._plan_and_check(s, "planned")
            if done is not None:
                return done
            if locking is None:
                return self._apply(s, planned, plan, stop)
            if locking.try_take(planned.namespace):
                with locking.held(stop):
                    return self._again_under_lock(s, plan, stop)
        # Another controller holds the namespace: wait for it without keeping the checkout
        # open (the lock logs whom it waits for), then plan again on a new checkout (checked
        # again, since it is another one): the holder may have applied meanwhile.
        with locking.held(stop), self.open_session() as s:
            planned, plan, done = self._plan_and_check(s, "planned-after-wait")
            if done is not None:
                return done
            return self._apply(s, planned, plan, stop)

    def _plan_and_check(
        self, s: Session, moment: Moment
    ) -> tuple[Planned, Plan, Reconciled | None]:
        """Plan, show it, and ask whether it may be applied: the reconcile is over (the
        third value) when there is nothing to do or a person declined."""
        if self.inspect is not None:
            self.inspect(s.source)
        planned, plan = self._plan(s)
        self.show(plan, moment)
        if plan.is_empty:
            return planned, plan, Reconciled(planned, plan)
        s.engine.check_can_apply(planned)
        if not self.approve(plan):
            return planned, plan, Reconciled(planned, plan, declined=True)
        return planned, plan, None

    def _again_under_lock(self, s: Session, before: Plan, stop: threading.Event) -> Reconciled:
        """Another controller may have applied between the plan and the lock: plan again on
        the same checkout (whose check holds), show and approve it if it differs, apply."""
        planned, plan = self._plan(s)
        if _actions(plan) != _actions(before):
            self.show(plan, "changed-under-lock")
            if not plan.is_empty and not self.approve(plan):
                return Reconciled(planned, plan, declined=True)
        return self._apply(s, planned, plan, stop)

    def _plan(self, s: Session) -> tuple[Planned, Plan]:
        planned = s.engine.plan(s.source)
        if self.saved is None:
            return planned, planned.plan
        return planned, s.engine.check_saved(self.saved, planned)

    def _apply(self, s: Session, planned: Planned, plan: Plan, stop: threading.Event) -> Reconciled:
        if plan.is_empty:
            return Reconciled(planned, plan)
        if stop.is_set():
            return Reconciled(planned, plan, stopped=True)
        with self.applying(plan, stop) as reporter:
            result = s.engine.apply(
                planned, plan=plan, reporter=reporter, stop=stop, wait_for_gates=self.wait_for_gates
            )
        done = Reconciled(planned, plan, result)
        if self.after_apply is not None:
            self.after_apply(s, done)
        return done


def _actions(plan: Plan) -> object:
    """What a person approves of a plan: its actions (a plan made again differs in its
    basis and time, which nobody approves)."""
    return plan.actions
