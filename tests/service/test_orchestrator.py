"""One reconcile (plan → lock → plan again → apply) serves ``apply`` and ``serve`` alike."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from controller.engine.reconciling import Engine
from controller.model.plans import Plan
from controller.service.engine_runs import EngineRunner
from controller.service.orchestrator import Moment, Orchestrator, open_session
from controller.service.runs import RunRequest
from controller.settings import EngineSettings
from tests.fixtures.workspace import Workspace


class Counted:
    """Counts the calls of a method, and calls it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> None:
        self.calls = 0
        original = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)


class FakeLocking:
    """A lock that is free at once (``free``), or held by another controller that applies
    everything (``others``) before it is free; ``meanwhile`` runs on the first attempt."""

    def __init__(self, *, free: bool, meanwhile: Any = None) -> None:
        self.free = free
        self.meanwhile = meanwhile
        self.held_times = 0

    def try_take(self, namespace: str) -> bool:
        if self.meanwhile is not None:
            self.meanwhile()
        return self.free

    @contextlib.contextmanager
    def held(self, stop: threading.Event) -> Iterator[None]:
        self.held_times += 1
        yield


def _orchestrator(
    workspace: Workspace, locking: FakeLocking, moments: list[Moment], opened_times: list[int]
) -> Orchestrator:
    @contextlib.contextmanager
    def counted_session() -> Iterator[Any]:
        opened_times.append(1)
        with open_session(
            workspace.git_settings(), workspace.api, EngineSettings(), environ=os.environ, ci=None
        ) as s:
            yield s

    def show(plan: Plan, moment: Moment) -> None:
        moments.append(moment)

    return Orchestrator(counted_session, locking=locking, show=show)


def test_a_locked_apply_asks_once_whether_the_checkout_may_be_applied(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    checks = Counted(monkeypatch, Engine, "check_can_apply")
    result = workspace.cli("apply", "--repo", str(workspace.repo.path))
    assert result.code == 0, result.err
    assert "namespace_lock_released" in result.out + result.err  # it was a locked apply
    assert checks.calls == 1


def test_apply_and_serve_both_reconcile_through_the_orchestrator(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    reconciles = Counted(monkeypatch, Orchestrator, "reconcile")
    workspace.add_model("churn")
    workspace.commit("churn")
    assert workspace.cli("apply", "--repo", str(workspace.repo.path)).code == 0
    assert reconciles.calls == 1
    workspace.add_model("fraud")
    workspace.commit("fraud")
    runner = EngineRunner(workspace.git_settings(), workspace.api, EngineSettings(), os.environ)
    outcome = runner(RunRequest(run_id="r1", trigger="schedule"))
    assert outcome.result == "success", outcome.errors
    assert outcome.counts.created == 1
    assert reconciles.calls == 2


def test_a_plan_another_controller_made_moot_before_the_lock_is_shown_and_not_applied(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    moments: list[Moment] = []
    opened_times: list[int] = []
    writes_by_the_other = None

    def other_applies() -> None:
        nonlocal writes_by_the_other
        workspace.converge()
        writes_by_the_other = workspace.writes()

    locking = FakeLocking(free=True, meanwhile=other_applies)
    done = _orchestrator(workspace, locking, moments, opened_times).reconcile(threading.Event())
    assert moments == ["planned", "changed-under-lock"]
    assert done.plan.is_empty
    assert done.result is None
    assert workspace.writes() == writes_by_the_other  # nothing applied twice
    assert len(opened_times) == 1
    assert locking.held_times == 1


def test_waiting_for_the_lock_plans_again_on_a_new_checkout(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    moments: list[Moment] = []
    opened_times: list[int] = []
    locking = FakeLocking(free=False)
    orchestrator = _orchestrator(workspace, locking, moments, opened_times)
    done = orchestrator.reconcile(threading.Event())
    assert moments == ["planned", "planned-after-wait"]
    assert len(opened_times) == 2
    assert locking.held_times == 1
    assert done.result is not None
    assert done.result.ok
    assert workspace.plan().plan.is_empty


def test_a_stop_asked_for_before_applying_writes_nothing(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    stop = threading.Event()
    stop.set()
    done = _orchestrator(workspace, FakeLocking(free=True), [], []).reconcile(stop)
    assert done.stopped
    assert done.result is None
    assert workspace.writes() == 0
