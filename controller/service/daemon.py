"""``dr-gitops serve``: the long-running service put together.

Start-up: bind HTTP (so liveness answers at once), take the namespace lock (waiting, or
failing fast with ``--no-wait``), start the scheduler (an interval tick with jitter and the
lock heartbeat), and run once at once. Shutdown (SIGTERM/SIGINT, or ``request_stop``):
stop the tick, drop a pending run, and let the run in progress finish while still
heart-beating the lock, for up to the grace period. In the last part of the grace (a fifth,
at most 30 s) the run is asked to start no new action, so that the writes in flight end
before the grace does. Then release the lock and close HTTP. Exit code 0; 1 when the lock
was lost, on a second signal, or when the run outlived the grace period (the lock is then
left to expire, since the run may still be writing). Losing the lock asks the run to start
no new action at once.

The heartbeat, and what a heartbeat that cannot reach the lock store does (suspend applying,
then resume, or stop), is :class:`~controller.service.heartbeats.LeaseKeeper`'s.
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from controller.errors import LockError
from controller.logs import get_logger, redactor
from controller.service.endpoints import EndpointConfig, ServiceApp, probes_only
from controller.service.heartbeats import LeaseKeeper
from controller.service.history import RunHistory, RunRecord, isoformat
from controller.service.listeners import Listener
from controller.service.locks import NamespaceLock
from controller.service.metrics import ServiceMetrics
from controller.service.notifier import Notifier
from controller.service.operations import Operations, OperationsSettings
from controller.service.runner import Admission, Backoff, Runner
from controller.service.runs import RunFn, RunOutcome, Trigger
from controller.settings import ServiceSettings

log = get_logger(__name__)

_TICK = "reconcile-tick"
_HEARTBEAT = "lock-heartbeat"
# At most this long at the end of the shutdown grace is left for writes in flight.
_MAX_DRAIN_SECONDS = 30.0
_NOTIFY_DRAIN_SECONDS = 10.0  # at shutdown, how long queued notifications may still take


class Service:
    """One service instance. ``serve`` is the usual way in; tests drive this directly:
    construct (binds the port), ``start_http()``, then ``run_until_stopped()`` in a thread
    and ``request_stop()`` from another."""

    def __init__(
        self,
        settings: ServiceSettings,
        run: RunFn,
        *,
        lock: NamespaceLock | None = None,
        metrics: ServiceMetrics | None = None,
        notifier: Notifier | None = None,
        operations: OperationsSettings | None = None,
    ) -> None:
        self.settings = settings
        self.lock = lock
        self.metrics = metrics or ServiceMetrics()
        self.notifier = notifier
        self.history = RunHistory(settings.status_history)
        self.operations = Operations(
            operations or OperationsSettings(),
            registry=self.metrics.registry,
            request_run=lambda trigger: self.trigger(trigger),
            status=self.status,
        )
        self.runner = Runner(
            run,
            history=self.history,
            metrics=self.metrics,
            backoff=Backoff(
                settings.interval_seconds,
                settings.backoff_initial_seconds,
                settings.backoff_max_seconds,
            ),
            on_finished=self._schedule_next,
            webhook_spacing=settings.webhook_min_interval_seconds,
            on_recorded=self._recorded,
            dry_run=self.operations.dry_run,
        )
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._stop = threading.Event()
        self._force = threading.Event()
        # Appended to by signal handlers, which must not take locks (logging and
        # Event.set do): the main thread acts on them (see _handle_signals).
        self.signals_received: list[str] = []
        self._signals_handled = 0
        self._exit_code = 0
        self._state = "starting"
        self._keeper = LeaseKeeper(lock, self) if lock is not None else None
        app = ServiceApp(
            EndpointConfig(
                webhook_secret=settings.webhook_secret,
                tracked_ref=settings.tracked_ref,
                max_body_bytes=settings.webhook_max_body_bytes,
            ),
            metrics=self.metrics,
            request_run=self.trigger,
            readiness=self.readiness,
            status=self.status,
            extra=self.operations.handle,
        )
        self._listeners = [_listener("http", app, settings)]
        if settings.probe_port is not None:
            self._listeners.append(_listener("probes", probes_only(app), settings))

    @property
    def port(self) -> int:
        """The bound port of the main listener (useful with port 0)."""
        return self._listeners[0].port

    @property
    def probe_port(self) -> int | None:
        """The bound port of ``--probe-listen``, if set."""
        return self._listeners[1].port if len(self._listeners) > 1 else None

    def start_http(self) -> None:
        for listener in self._listeners:
            listener.start()

    def trigger(self, trigger: Trigger, revision: str | None = None) -> Admission:
        """Ask for a run now (webhooks, with the pushed ``revision``); queued behind a run
        in progress."""
        if self._stop.is_set():
            return "stopping"
        return self.runner.request(trigger, queue_if_busy=True, revision=revision)

    def _recorded(self, record: RunRecord, outcome: RunOutcome, failures_before: int) -> None:
        self.operations.on_run(record, outcome)
        if self.notifier is not None:
            self.notifier.on_run(record, outcome, failures_before)

    def request_stop(self, reason: str, *, exit_code: int = 0) -> None:
        """Begin a graceful shutdown (thread- and signal-safe; the first reason wins)."""
        if not self._stop.is_set():
            self._exit_code = exit_code
            log.info("shutdown_requested", reason=reason)
            self._stop.set()
        elif exit_code:
            self._exit_code = exit_code

    def force_stop(self, reason: str) -> None:
        """Stop waiting for the run in progress (a second SIGTERM/SIGINT)."""
        log.warning("shutdown_forced", reason=reason)
        self.request_stop(reason, exit_code=1)
        self.runner.stop_event.set()
        self._force.set()

    def run_until_stopped(self) -> int:
        """Take the lock, schedule runs until a stop is requested, shut down; exit code."""
        self.start_http()
        try:
            if not self._take_lock():
                return 0
            self._start_scheduling()
            self.wait()
            return self._shut_down()
        finally:
            self._close()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` for a stop, acting on signals meanwhile; True if stopping.
        (The lock waits on this while it waits for the namespace.)"""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._stop.is_set():
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                return False
            self._stop.wait(left)
            self._handle_signals()
        return True

    def _handle_signals(self) -> None:
        """The first signal asks for a graceful stop; a second one forces it."""
        while self._signals_handled < len(self.signals_received):
            name = self.signals_received[self._signals_handled]
            self._signals_handled += 1
            if self._signals_handled == 1:
                self.request_stop(name)
            else:
                self.force_stop(name)

    def _take_lock(self) -> bool:
        if self.lock is None:
            return True
        self._state = "waiting-for-lock"
        try:
            acquired = self.lock.acquire(
                wait=self.settings.lock_wait,
                timeout=self.settings.lock_wait_timeout_seconds,
                cancel=self,
            )
        except OSError as exc:
            raise LockError(
                f"cannot use the namespace lock store: {exc}; check that the lock directory "
                "exists and is writable by this user"
            ) from exc
        self.metrics.lock_held.set(1 if acquired else 0)
        return acquired

    def _start_scheduling(self) -> None:
        settings = self.settings
        self._scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=settings.interval_seconds, jitter=settings.jitter_seconds),
            id=_TICK,
        )
        if self.lock is not None:
            self._scheduler.add_job(
                self._heartbeat,
                IntervalTrigger(seconds=self.lock.heartbeat_seconds),
                id=_HEARTBEAT,
            )
        self._scheduler.start()
        self.runner.start()
        self._state = "running"
        self.runner.request("startup", queue_if_busy=True)

    def _tick(self) -> None:
        admission = self.runner.request("schedule", queue_if_busy=False)
        if admission != "started":
            log.debug("tick_skipped", admission=admission)

    def _schedule_next(self, delay: float) -> None:
        if self._stop.is_set():
            return
        try:
            self._scheduler.reschedule_job(
                _TICK,
                trigger=IntervalTrigger(seconds=delay, jitter=self.settings.jitter_seconds),
            )
        except Exception:  # the scheduler is shutting down under us
            log.debug("reschedule_skipped", exc_info=True)

    def _heartbeat(self) -> None:
        assert self._keeper is not None
        self._keeper.beat(stopping=self._stop.is_set())

    # The LeaseKeeper's effects (controller.service.heartbeats.KeeperEffects):

    def pause_writes(self) -> None:
        self.metrics.lock_held.set(0)
        self.runner.stop_event.set()

    def suspended(self, heartbeat_seconds: float) -> None:
        self.runner.hold()
        self._state = "suspended"
        self._heartbeat_every(heartbeat_seconds)

    def resumed(self, heartbeat_seconds: float) -> None:
        self.metrics.lock_held.set(1)
        self.runner.stop_event.clear()
        self._state = "running"
        self._heartbeat_every(heartbeat_seconds)
        self.runner.release()
        self.runner.request("schedule", queue_if_busy=True)

    def lost(self, reason: str) -> None:
        self._lock_lost(reason)

    def _heartbeat_every(self, seconds: float) -> None:
        try:
            self._scheduler.reschedule_job(_HEARTBEAT, trigger=IntervalTrigger(seconds=seconds))
        except Exception:  # the scheduler is shutting down under us
            log.debug("heartbeat_reschedule_skipped", exc_info=True)

    def _lock_lost(self, reason: str) -> None:
        log.error("namespace_lock_lost", reason=reason)
        if self.notifier is not None:
            self.notifier.on_lock_lost(reason)
        self.metrics.lock_held.set(0)
        self.runner.stop_event.set()
        self.request_stop("namespace lock lost", exit_code=1)
        try:  # once is enough: the shutdown follows
            self._scheduler.remove_job(_HEARTBEAT)
        except Exception:
            log.debug("heartbeat_remove_skipped", exc_info=True)

    def _shut_down(self) -> int:
        self._state = "stopping"
        if self._scheduler.running and self._scheduler.get_job(_TICK):
            self._scheduler.remove_job(_TICK)  # the heartbeat goes on while the run drains
        current = self.runner.current
        self.runner.close()
        grace = self.settings.shutdown_grace_seconds
        if current is not None:
            log.info("shutdown_waiting_for_run", run_id=current.run_id, grace_seconds=grace)
        began = time.monotonic()
        deadline = began + grace
        stop_at = deadline - min(grace / 5, _MAX_DRAIN_SECONDS)
        while not self.runner.join(0.1):
            self._handle_signals()
            now = time.monotonic()
            if self._force.is_set() or now >= deadline:
                self._scheduler.shutdown(wait=False)
                log.error("shutdown_without_waiting_for_run", grace_seconds=grace)
                return 1
            if now >= stop_at and not self.runner.stop_event.is_set():
                log.warning("shutdown_stopping_run", waited_seconds=round(now - began, 3))
                self.runner.stop_event.set()
        self._scheduler.shutdown(wait=False)
        if self.lock is not None and self.lock.held:
            try:
                self.lock.release()
            except Exception as exc:
                log.warning("namespace_lock_release_failed", error=exc)
        self.metrics.lock_held.set(0)
        if self.notifier is not None:
            self.notifier.close(timeout=_NOTIFY_DRAIN_SECONDS)
        log.info("shutdown_complete", exit_code=self._exit_code)
        return self._exit_code

    def _close(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        for listener in self._listeners:
            listener.close()

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """``/readyz``: (ready, body)."""
        if self._state in ("starting", "waiting-for-lock"):
            if self._state == "starting" or self.lock is None:
                reason = "starting"
            else:
                holder = self.lock.describe_holder()
                held_by = f" held by {holder}" if holder else ""
                reason = f"waiting for the namespace lock{held_by}"
            return False, {"ready": False, "reason": reason}
        if self._state == "stopping":
            return False, {"ready": False, "reason": "shutting down"}
        if self._state == "suspended":
            reason = (
                "applying suspended: the namespace lock could not be refreshed (is DataRobot "
                "reachable?); it resumes once it can"
            )
            return False, {"ready": False, "reason": reason}
        ready, reason = self.history.readiness(
            now=time.time(), window=self.settings.readiness_window
        )
        return ready, {"ready": ready, "reason": reason}

    def status(self) -> dict[str, Any]:
        """``/status``: the service's state and its last runs, newest first."""
        current = self.runner.current
        job = self._scheduler.get_job(_TICK) if self._scheduler.running else None
        next_run: datetime | None = job.next_run_time if job is not None else None
        last = self.history.last_success
        return {
            "state": self._state,
            **self.operations.to_json(),
            "trackedRef": self.settings.tracked_ref,
            "intervalSeconds": self.settings.interval_seconds,
            "lock": self.lock.describe() if self.lock else None,
            "current": None
            if current is None
            else {
                "runId": current.run_id,
                "trigger": current.trigger,
                "started": isoformat(current.started_at),
            },
            "pending": self.runner.pending,
            "nextRunAt": isoformat(next_run.timestamp()) if next_run else None,
            "consecutiveFailures": self.history.consecutive_failures,
            "lastSuccess": last.to_json() if last else None,
            "runs": [record.to_json() for record in self.history.recent()],
        }


def _listener(name: str, app: Any, settings: ServiceSettings) -> Listener:
    if name == "probes":  # a few connections of its own, answered by one thread
        assert settings.probe_port is not None
        host, port, flag = settings.probe_host, settings.probe_port, "--probe-listen"
        threads, limit, timeout = 1, 16, 5
    else:
        host, port, flag = settings.listen_host, settings.listen_port, "--listen"
        threads, limit = settings.http_threads, settings.http_connection_limit
        timeout = settings.http_channel_timeout_seconds
    return Listener(
        app,
        name=name,
        host=host,
        port=port,
        threads=threads,
        connection_limit=limit,
        channel_timeout=timeout,
        max_body_bytes=settings.webhook_max_body_bytes,
        flag=flag,
    )


def serve(
    settings: ServiceSettings,
    run: RunFn,
    *,
    lock: NamespaceLock | None,
    metrics: ServiceMetrics | None = None,
    notifier: Notifier | None = None,
    operations: OperationsSettings | None = None,
) -> int:
    """Run the service until SIGTERM/SIGINT; returns the exit code (see module docstring).

    ``metrics`` lets the caller count into the service's metrics before it starts (the
    lock's own API requests, for instance); by default the service makes its own.

    Raises ``LockError`` when ``settings.lock_wait`` is False (``--no-wait``) and another
    controller holds the namespace, or when waiting timed out. Call it from the main thread
    (signal handlers); configure logging first (``controller.logs.configure``).
    """
    if operations is not None:
        redactor.register(operations.read_token, operations.control_token)
    redactor.register(settings.webhook_secret)
    if settings.webhook_secret is None:
        log.warning("webhooks_disabled", reason="no webhook secret is configured")
    service = Service(
        settings, run, lock=lock, metrics=metrics, notifier=notifier, operations=operations
    )
    if notifier is not None:
        notifier.start()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        service.signals_received.append(signal.Signals(signum).name)

    # Signal handlers can only be set from the main thread; elsewhere (an embedding
    # program) the caller stops the service with Service.request_stop instead.
    in_main = threading.current_thread() is threading.main_thread()
    signums = (signal.SIGTERM, signal.SIGINT) if in_main else ()
    previous = {s: signal.signal(s, on_signal) for s in signums}
    try:
        return service.run_until_stopped()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
