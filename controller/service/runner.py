"""Running reconcile one run at a time, on request, and reporting each run.

The scheduler and the webhooks only *ask* for a run (:meth:`Runner.request`); one worker
thread does the runs. Asking while a run is pending coalesces with it. Asking while a run
is in progress either queues one more run right after it (webhooks: the push may have
landed after the run fetched) or is dropped (schedule ticks: the run in progress is as
fresh as the tick). This is why runs are not APScheduler jobs themselves: with
``max_instances=1`` APScheduler would drop a webhook that arrives during a run.

Webhook-triggered runs are also spaced: one starts at least ``webhook_spacing`` seconds
after the previous webhook-triggered one started; until then the request stays pending, so
a flood of (valid, distinct) deliveries costs one run per spacing, not one per delivery.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import structlog

from controller.logs import get_logger, redactor
from controller.service.history import RunHistory, RunRecord
from controller.service.metrics import ServiceMetrics
from controller.service.runs import RunFn, RunOutcome, RunRequest, Trigger

log = get_logger(__name__)

Admission = Literal["started", "queued", "coalesced", "busy", "stopping"]


@dataclass(frozen=True)
class Backoff:
    """Delay before the next scheduled run: the interval after a success; after ``n``
    failures in a row, ``initial * 2**(n-1)`` capped at ``maximum``."""

    interval: float
    initial: float
    maximum: float

    def delay(self, consecutive_failures: int) -> float:
        if consecutive_failures <= 0:
            return self.interval
        exponent = min(consecutive_failures - 1, 62)  # 2**62 times anything exceeds any cap
        return float(min(self.initial * 2**exponent, self.maximum))


@dataclass(frozen=True)
class CurrentRun:
    run_id: str
    trigger: Trigger
    started_at: float
    pushed_revision: str | None = None


class Runner:
    """The worker thread that calls the run function (see the module docstring).

    ``on_finished(delay)`` is called after each run with the seconds until the next
    scheduled one (the service reschedules its tick with it). ``on_recorded(record,
    outcome, failures_before)`` is told each run once it is recorded (notifications); it
    must not block, and what it raises is logged, never the run's business.
    """

    def __init__(
        self,
        run: RunFn,
        *,
        history: RunHistory,
        metrics: ServiceMetrics,
        backoff: Backoff,
        on_finished: Callable[[float], None],
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        webhook_spacing: float = 0.0,
        on_recorded: Callable[[RunRecord, RunOutcome, int], None] | None = None,
        dry_run: Callable[[], bool] = lambda: False,
    ) -> None:
        self._run = run
        self._dry_run = dry_run
        self._webhook_spacing = webhook_spacing
        self._last_webhook_start: float | None = None
        self._on_recorded = on_recorded
        self._history = history
        self._metrics = metrics
        self._backoff = backoff
        self._on_finished = on_finished
        self._wall = wall
        self._monotonic = monotonic
        self.stop_event = threading.Event()
        self._cond = threading.Condition()
        self._pending: Trigger | None = None
        self._current: CurrentRun | None = None
        self._closing = False
        self._held = False
        self._pushed: str | None = None
        self._thread = threading.Thread(target=self._loop, name="dr-gitops-runner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request(
        self, trigger: Trigger, *, queue_if_busy: bool, revision: str | None = None
    ) -> Admission:
        """Ask for a run; returns what became of the request. ``revision``: the commit a
        webhook announced (the next run is told the newest one)."""
        with self._cond:
            if self._closing:
                return "stopping"
            if self._pending is None and self._current is not None and not queue_if_busy:
                return "busy"
            self._pushed = revision or self._pushed
            if self._pending is not None:
                return "coalesced"
            self._pending = trigger
            self._cond.notify_all()
            return "queued" if self._current is not None or self._held else "started"

    @property
    def current(self) -> CurrentRun | None:
        return self._current

    @property
    def pending(self) -> Trigger | None:
        return self._pending

    def hold(self) -> None:
        """Start no run until :meth:`release`; requests meanwhile wait (coalesced)."""
        with self._cond:
            self._held = True

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    def close(self) -> None:
        """Take no more requests and drop a pending one; the run in progress goes on (set
        :attr:`stop_event` to ask it to start no new action)."""
        with self._cond:
            self._closing = True
            self._pending = None
            self._cond.notify_all()

    def join(self, timeout: float | None) -> bool:
        """Wait for the worker to finish; True if it did within ``timeout``."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closing:
                    if self._pending is None or self._held:
                        self._cond.wait()
                    elif (hold_off := self._webhook_hold_off()) > 0:
                        self._cond.wait(hold_off)  # later webhooks coalesce meanwhile
                    else:
                        break
                trigger, self._pending = self._pending, None
                pushed, self._pushed = self._pushed, None
                if self._closing or trigger is None:
                    return
                run = CurrentRun(uuid.uuid4().hex[:12], trigger, self._wall(), pushed)
                self._current = run
                if trigger.startswith("webhook:"):
                    self._last_webhook_start = self._monotonic()
            try:
                delay = self._execute(run)
            except Exception:  # our own bookkeeping failed; keep serving
                log.exception("runner_error", run_id=run.run_id)
                delay = self._backoff.delay(self._history.consecutive_failures)
            finally:
                with self._cond:
                    self._current = None
            self._on_finished(delay)

    def _webhook_hold_off(self) -> float:
        """Seconds a pending webhook-triggered run must still wait (0: none)."""
        if self._pending is None or not self._pending.startswith("webhook:"):
            return 0.0
        if self._last_webhook_start is None:
            return 0.0
        return self._last_webhook_start + self._webhook_spacing - self._monotonic()

    def _execute(self, run: CurrentRun) -> float:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(run_id=run.run_id, trigger=run.trigger)
        last_success = self._history.last_applied
        previous = last_success.revision if last_success else None
        revision: list[str] = []

        def on_revision(sha: str) -> None:
            revision[:] = [sha]
            structlog.contextvars.bind_contextvars(revision=sha)

        request = RunRequest(
            run_id=run.run_id,
            trigger=run.trigger,
            stop=self.stop_event,
            last_success_revision=previous,
            on_api_request=self._metrics.observe_api_request,
            on_revision=on_revision,
            pushed_revision=run.pushed_revision,
            dry_run=self._dry_run(),
        )
        log.info("run_started", last_success_revision=previous, dry_run=request.dry_run)
        try:
            return self._call(run, request, revision)
        finally:
            structlog.contextvars.clear_contextvars()

    def _call(self, run: CurrentRun, request: RunRequest, revision: list[str]) -> float:
        """Call the run function and record, count and log what it did."""
        self._metrics.run_started()
        began = self._monotonic()
        try:
            returned: object = self._run(request)
        except Exception as exc:
            log.error("run_crashed", error=exc, exc_info=True)
            returned = RunOutcome.crashed(exc)
        if isinstance(returned, RunOutcome):
            outcome = returned
        else:  # an engine bug: record it rather than lose the run
            kind = type(returned).__name__
            outcome = RunOutcome.crashed(TypeError(f"the run function returned {kind}"))
        if outcome.revision is None and revision:  # reported by on_revision before it ended
            outcome = dataclasses.replace(outcome, revision=revision[0])
        record = RunRecord.of(
            outcome,
            run_id=run.run_id,
            trigger=run.trigger,
            started_at=run.started_at,
            duration_seconds=self._monotonic() - began,
            last_success_revision=request.last_success_revision,
            scrub=redactor.scrub,
        )
        failures_before = self._history.consecutive_failures
        self._history.add(record)
        failures = self._history.consecutive_failures
        if self._on_recorded is not None:
            try:
                self._on_recorded(record, outcome, failures_before)
            except Exception:
                log.exception("run_observer_failed")
        self._metrics.run_finished(record, outcome, failures)
        delay = self._backoff.delay(failures)
        structlog.contextvars.bind_contextvars(revision=record.revision)
        emit = log.info if record.succeeded else log.error
        emit(
            "run_finished",
            result=record.result,
            duration_seconds=round(record.duration_seconds, 3),
            counts=record.counts.to_json(),
            drift_corrections=record.drift_corrections,
            drift_fields=dict(record.drift_fields),
            errors=list(record.errors),
            consecutive_failures=failures,
            next_run_in_seconds=round(delay, 3),
        )
        return delay
