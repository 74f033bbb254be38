"""The runner: backoff, coalescing, and what it records of each run."""

from __future__ import annotations

import threading

import pytest

from controller.service import RunOutcome, RunRequest
from controller.service.history import RunHistory
from controller.service.metrics import ServiceMetrics
from controller.service.runner import Backoff, Runner
from controller.service.runs import ActionCounts


def test_backoff_doubles_from_the_initial_delay_up_to_the_cap() -> None:
    backoff = Backoff(interval=300, initial=30, maximum=1800)
    delays = [backoff.delay(n) for n in range(10)]
    assert delays == [300, 30, 60, 120, 240, 480, 960, 1800, 1800, 1800]
    assert backoff.delay(10_000) == 1800


class GatedRun:
    """A run that blocks until released, so tests can ask for runs while one is going."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Semaphore(0)
        self.triggers: list[str] = []

    def __call__(self, request: RunRequest) -> RunOutcome:
        self.triggers.append(request.trigger)
        self.started.release()
        assert self.release.acquire(timeout=10)
        return RunOutcome(result="success", revision="a" * 40, counts=ActionCounts(updated=1))


@pytest.fixture
def gated() -> tuple[GatedRun, Runner, list[float]]:
    run, delays = GatedRun(), []
    runner = Runner(
        run,
        history=RunHistory(10),
        metrics=ServiceMetrics(),
        backoff=Backoff(60, 1, 10),
        on_finished=delays.append,
    )
    runner.start()
    return run, runner, delays


def test_a_webhook_during_a_run_queues_exactly_one_more_run(gated) -> None:  # type: ignore[no-untyped-def]
    run, runner, _ = gated
    assert runner.request("startup", queue_if_busy=True) == "started"
    assert run.started.acquire(timeout=5)
    assert runner.request("webhook:github", queue_if_busy=True) == "queued"
    assert runner.request("webhook:gitlab", queue_if_busy=True) == "coalesced"
    assert runner.request("schedule", queue_if_busy=False) == "coalesced"
    run.release.release()
    assert run.started.acquire(timeout=5)
    run.release.release()
    runner.close()
    assert runner.join(5)
    assert run.triggers == ["startup", "webhook:github"]


def test_a_schedule_tick_during_a_run_is_dropped(gated) -> None:  # type: ignore[no-untyped-def]
    run, runner, delays = gated
    runner.request("startup", queue_if_busy=True)
    assert run.started.acquire(timeout=5)
    assert runner.request("schedule", queue_if_busy=False) == "busy"
    run.release.release()
    runner.close()
    assert runner.join(5)
    assert run.triggers == ["startup"]
    assert delays == [60]


def test_closing_drops_the_pending_run_and_lets_the_current_one_finish(gated) -> None:  # type: ignore[no-untyped-def]
    run, runner, _ = gated
    runner.request("startup", queue_if_busy=True)
    assert run.started.acquire(timeout=5)
    runner.request("webhook:github", queue_if_busy=True)
    runner.close()
    assert not runner.stop_event.is_set()
    assert runner.request("webhook:github", queue_if_busy=True) == "stopping"
    run.release.release()
    assert runner.join(5)
    assert run.triggers == ["startup"]


def test_a_run_that_raises_is_recorded_as_failed_and_the_runner_goes_on() -> None:
    calls: list[str] = []

    def run(request: RunRequest) -> RunOutcome:
        calls.append(request.run_id)
        request.on_revision("b" * 40)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return RunOutcome(result="no-op", revision="b" * 40)

    history, finished = RunHistory(10), threading.Semaphore(0)
    runner = Runner(
        run,
        history=history,
        metrics=ServiceMetrics(),
        backoff=Backoff(60, 1, 10),
        on_finished=lambda _delay: finished.release(),
    )
    runner.start()
    for _ in range(2):
        runner.request("schedule", queue_if_busy=False)
        assert finished.acquire(timeout=5)
    runner.close()
    second, first = history.recent()
    assert (first.result, first.errors, first.revision) == (
        "failed",
        ("RuntimeError: boom",),
        "b" * 40,
    )
    assert second.result == "no-op"
    assert history.consecutive_failures == 0


def test_writes_at_an_unchanged_revision_count_as_drift_corrections() -> None:
    outcomes = iter(
        [
            RunOutcome(result="success", revision="a" * 40, counts=ActionCounts(created=2)),
            RunOutcome(result="success", revision="a" * 40, counts=ActionCounts(updated=1)),
            RunOutcome(result="success", revision="c" * 40, counts=ActionCounts(versions=1)),
            RunOutcome(result="success", revision="c" * 40, drift_corrections=5),
        ]
    )
    history, finished = RunHistory(10), threading.Semaphore(0)
    runner = Runner(
        lambda _request: next(outcomes),
        history=history,
        metrics=ServiceMetrics(),
        backoff=Backoff(60, 1, 10),
        on_finished=lambda _delay: finished.release(),
    )
    runner.start()
    for _ in range(4):
        runner.request("schedule", queue_if_busy=False)
        assert finished.acquire(timeout=5)
    runner.close()
    assert [r.drift_corrections for r in reversed(history.recent())] == [0, 1, 0, 5]


def test_a_run_returning_something_else_is_recorded_as_failed() -> None:
    history, finished = RunHistory(10), threading.Semaphore(0)

    def run(request: RunRequest) -> RunOutcome:
        request.on_revision("d" * 40)
        return None  # type: ignore[return-value]

    runner = Runner(
        run,
        history=history,
        metrics=ServiceMetrics(),
        backoff=Backoff(60, 1, 10),
        on_finished=lambda _delay: finished.release(),
    )
    runner.start()
    runner.request("schedule", queue_if_busy=False)
    assert finished.acquire(timeout=5)
    runner.close()
    (record,) = history.recent()
    assert record.result == "failed"
    assert record.revision == "d" * 40
    assert "returned NoneType" in record.errors[0]
