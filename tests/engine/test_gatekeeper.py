"""The gatekeeper's waiting, without a server: polls back off with the time waited, a
timeout cancels, a stop request ends the wait, nothing is started when one runs."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from controller.engine.gatekeeper import GateError, Gatekeeper, Subject
from controller.model.gates import LiveTest, TestSpec
from controller.model.params import DependencyBuild, VersionTest
from controller.model.values import Fields
from controller.remote.gatecalls import TrainingState, poll

SUBJECT = Subject("CustomModel/m", "m1", "v1", "1.0")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


class FakeRemote:
    """Just the calls the gatekeeper makes; a test runs for ``test_seconds`` of the clock."""

    def __init__(self, clock: Clock, *, build: str | None = None, test_seconds: float = 1.0):
        self.clock = clock
        self.build = build
        self.test_seconds = test_seconds
        self.started_builds = 0
        self.started_tests = 0
        self.cancelled: list[str] = []
        self.tests: list[LiveTest] = []
        self.test_started_at = 0.0

    def get_dependency_build(self, *_: Any) -> str | None:
        return self.build

    def start_dependency_build(self, *_: Any) -> str:
        self.started_builds += 1
        self.build = "success"
        return "submitted"

    def version_dependencies(self, *_: Any) -> int:
        return 1

    def training_state(self, *_: Any) -> TrainingState:
        return TrainingState(in_progress=False)

    def list_model_tests(self, *_: Any, **__: Any) -> list[LiveTest]:
        return [self._current(t) for t in self.tests]

    def create_model_test(self, *_: Any) -> str:
        self.started_tests += 1
        self.test_started_at = self.clock.now
        self.tests.insert(0, LiveTest(f"t{self.started_tests}", "v1", "in_progress"))
        return ""

    def get_model_test(self, test_id: str) -> LiveTest:
        return next(self._current(t) for t in self.tests if t.id == test_id)

    def cancel_model_test(self, test_id: str) -> None:
        self.cancelled.append(test_id)

    def model_test_log_tail(self, *_: Any) -> str:
        return ""

    def _current(self, test: LiveTest) -> LiveTest:
        ended = self.clock.now - self.test_started_at >= self.test_seconds
        if test.overall_status == "in_progress" and not self.cancelled and ended:
            return LiveTest(test.id, "v1", "succeeded")
        return test


def _test_action(timeout: float = 60) -> VersionTest:
    return VersionTest("v1", "version 1.0", timeout, body=Fields(TestSpec().body()))


def test_polls_wait_a_fifth_of_the_time_waited_between_bounds() -> None:
    clock = Clock()
    value, finished = poll(
        lambda: clock.now, lambda now: now >= 100, timeout=1000, sleep=clock.sleep, clock=clock
    )
    assert finished
    assert clock.sleeps[:3] == [0.2, 0.2, 0.2]
    assert max(clock.sleeps) == 10.0
    assert value - 100 <= 10.0  # seen ended at most one (capped) interval late
    assert len(clock.sleeps) < 40


def test_a_test_is_started_once_and_waited_for() -> None:
    clock = Clock()
    remote = FakeRemote(clock, test_seconds=5)
    keeper = Gatekeeper(remote, sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    detail, gate = keeper.test(SUBJECT, _test_action())
    assert gate.passed
    assert "gate passed for version 1.0" in detail
    assert remote.started_tests == 1
    # Again (a re-run): the passed test of this version and configuration is taken.
    keeper.test(SUBJECT, _test_action())
    assert remote.started_tests == 1


def test_a_test_past_its_timeout_is_cancelled() -> None:
    clock = Clock()
    remote = FakeRemote(clock, test_seconds=1000)
    keeper = Gatekeeper(remote, sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    with pytest.raises(GateError, match="did not finish within 30s"):
        keeper.test(SUBJECT, _test_action(timeout=30))
    assert remote.cancelled == ["t1"]


def test_a_stop_request_ends_the_wait_without_cancelling() -> None:
    clock = Clock()
    stop = threading.Event()
    remote = FakeRemote(clock, test_seconds=1000)

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now > 5:
            stop.set()

    keeper = Gatekeeper(remote, sleep=sleep, clock=clock, stop=stop)  # type: ignore[arg-type]
    with pytest.raises(GateError, match="the next run waits for it"):
        keeper.test(SUBJECT, _test_action(timeout=600))
    assert remote.cancelled == []
    assert clock.now < 10


def test_a_failed_build_is_not_started_again() -> None:
    clock = Clock()
    remote = FakeRemote(clock, build="failed")
    keeper = Gatekeeper(remote, sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    remote.dependency_build_log_tail = lambda *_: "ERROR: no matching distribution"  # type: ignore[attr-defined]
    with pytest.raises(GateError, match="not started again without a change"):
        keeper.build(SUBJECT, DependencyBuild("v1", "version 1.0"))
    assert remote.started_builds == 0
