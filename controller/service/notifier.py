"""Sending notifications from a background worker, so that they never fail or slow a run.

:meth:`Notifier.on_run` (called by the run worker after each run) and
:meth:`Notifier.on_lock_lost` turn events into :class:`Notification` values, filter them
through the :class:`NotificationPolicy`, and put them on a bounded queue without waiting: a
full queue drops the notification (logged, counted ``dropped``). One sender thread posts
each to the targets that want its kind: Slack (incoming webhook ``text``), Microsoft Teams
(a Workflows webhook: an Adaptive Card) or any URL (the event as JSON). A POST that fails
(no answer, 429, 5xx) is retried with exponential backoff by urllib3's ``Retry``; one that
still fails is logged (without its URL, a secret) and counted
``dr_gitops_notifications_total{target,result="failed"}``.

This module imports ``requests`` (an exception to the import contract that keeps it in
``controller.remote``, which is the DataRobot client: these are not DataRobot requests).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from controller import __version__
from controller.logs import get_logger
from controller.service.history import RunRecord
from controller.service.metrics import ServiceMetrics
from controller.service.notifications import (
    Notification,
    NotificationPolicy,
    NotificationSettings,
    NotificationTarget,
    lock_lost_notification,
    run_notifications,
)
from controller.service.runs import RunOutcome

log = get_logger(__name__)
_COLORS = {"good": "Good", "bad": "Attention", "info": "Accent"}
_GOOD = frozenset({"applied", "drift-corrected", "recovered"})


class Notifier:
    """The queue and the sender thread (see the module docstring)."""

    def __init__(
        self,
        settings: NotificationSettings,
        metrics: ServiceMetrics,
        *,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._wall = wall
        self._policy = NotificationPolicy(settings.quiet_period_seconds)
        self._policy_lock = threading.Lock()  # runs and lock heartbeats tell from two threads
        self._queue: queue.Queue[Notification | None] = queue.Queue(settings.queue_size)
        self._session = requests.Session()
        retry = Retry(
            total=settings.retries,
            connect=settings.retries,
            read=settings.retries,
            status=settings.retries,
            backoff_factor=settings.backoff_seconds,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=None,  # POST too: a notification sent twice beats one lost
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = f"dr-gitops/{__version__}"
        self._thread = threading.Thread(target=self._loop, name="dr-gitops-notifier", daemon=True)
        for target in settings.targets:
            for result in ("sent", "failed", "dropped"):
                metrics.notifications.labels(target=target.name, result=result)

    def start(self) -> None:
        self._thread.start()

    # --- events (never raise, never wait) -----------------------------------------------

    def on_run(self, record: RunRecord, outcome: RunOutcome, failures_before: int) -> None:
        for note in run_notifications(record, outcome, failures_before, self._settings.namespace):
            self._offer(note)

    def on_lock_lost(self, reason: str) -> None:
        self._offer(lock_lost_notification(reason, self._settings.namespace, self._wall()))

    def _offer(self, note: Notification) -> None:
        with self._policy_lock:
            admitted = self._policy.admit(note)
        if not admitted:
            log.info("notification_repeat_suppressed", kind=note.kind, run_id=note.run_id)
            return
        try:
            self._queue.put_nowait(note)
        except queue.Full:
            log.warning("notification_dropped", kind=note.kind, reason="the queue is full")
            for target in self._wanting(note):
                self._metrics.notifications.labels(target=target.name, result="dropped").inc()

    # --- delivery ----------------------------------------------------------------------

    def close(self, timeout: float) -> None:
        """Send what is queued for at most ``timeout`` seconds, then stop."""
        if self._thread.is_alive():
            deadline = time.monotonic() + timeout
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=timeout)
            self._thread.join(max(0.0, deadline - time.monotonic()))
        self._session.close()

    def _wanting(self, note: Notification) -> list[NotificationTarget]:
        return [t for t in self._settings.targets if note.kind in t.events]

    def _loop(self) -> None:
        while True:
            note = self._queue.get()
            if note is None:
                return
            for target in self._wanting(note):
                self._send(target, note)

    def _send(self, target: NotificationTarget, note: Notification) -> None:
        try:
            answer = self._session.post(
                target.url,
                json=payload(target, note),
                headers=dict(target.headers),
                timeout=self._settings.timeout_seconds,
            )
            ok = 200 <= answer.status_code < 300
            problem = None if ok else f"HTTP {answer.status_code}"
        except requests.RequestException as exc:
            ok, problem = False, type(exc).__name__
        except Exception as exc:  # never let one notification stop the sender
            ok, problem = False, type(exc).__name__
        result = "sent" if ok else "failed"
        self._metrics.notifications.labels(target=target.name, result=result).inc()
        if ok:
            log.info("notification_sent", target=target.name, kind=note.kind)
        else:
            log.warning(
                "notification_failed",
                target=target.name,
                kind=note.kind,
                error=problem,
                retries=self._settings.retries,
            )


def payload(target: NotificationTarget, note: Notification) -> dict[str, Any]:
    """The JSON body for ``target``'s type."""
    tone = "good" if note.kind in _GOOD else "bad"
    where = f"dr-gitops {note.namespace}".strip()
    if target.type == "slack":
        text = "\n".join([f"*{note.title}* ({where})", *(f"• {line}" for line in note.lines)])
        return {"text": text}
    if target.type == "teams":
        body: list[dict[str, Any]] = [
            {
                "type": "TextBlock",
                "text": note.title,
                "weight": "Bolder",
                "wrap": True,
                "color": _COLORS[tone],
            },
            {"type": "TextBlock", "text": where, "isSubtle": True, "wrap": True},
            *({"type": "TextBlock", "text": f"- {line}", "wrap": True} for line in note.lines),
        ]
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }
    return {
        "event": note.kind,
        "title": note.title,
        "lines": list(note.lines),
        "namespace": note.namespace,
        "runId": note.run_id,
        "revision": note.revision,
        "time": datetime.fromtimestamp(note.at, UTC).isoformat().replace("+00:00", "Z"),
        "source": f"dr-gitops/{__version__}",
    }
