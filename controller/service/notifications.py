"""Notifications of ``serve``: their settings, the events a run gives, and which are sent.

Events (the ``events`` a target can choose):

==================  ==========================================================
``applied``         a run applied changes (one line per object)
``drift-corrected`` a run at an unchanged commit undid changes made by hand
``failed``          a run failed (anything but a gate or a blocked action)
``blocked``         the plan refused actions (each named with its reason)
``gate-failed``     a gate stopped the run (the manifests failed validation)
``lock-lost``       the namespace lock was lost; the service stops
``recovered``       a run succeeded after failures
``drift-detected``  a run planned changes it did not apply (``--mode observe``,
                    or suspended): one line per object that differs
==================  ==========================================================

:class:`NotificationPolicy` (pure, its clock injected) decides what is sent: a failure
(``failed``, ``blocked``, ``gate-failed``) repeated run after run with the same messages is
sent once, then again only after ``quiet_period_seconds`` or once it recovered. Changes
are always sent: each is new. Delivery lives in :mod:`controller.service.notifier`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, get_args

from controller.service.history import RunRecord
from controller.service.runs import RunOutcome

EventKind: TypeAlias = Literal[
    "applied",
    "drift-corrected",
    "failed",
    "blocked",
    "gate-failed",
    "lock-lost",
    "recovered",
    "drift-detected",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
# Sent once while they repeat (then again after the quiet period or a recovery).
FAILURE_KINDS: frozenset[EventKind] = frozenset(
    {"failed", "blocked", "gate-failed", "drift-detected"}
)
TargetType: TypeAlias = Literal["slack", "teams", "webhook"]
TARGET_TYPES: tuple[TargetType, ...] = ("slack", "teams", "webhook")
_MAX_LINES = 20


@dataclass(frozen=True)
class NotificationTarget:
    """Where notifications go. ``url`` and ``headers`` values are secrets (resolved from
    files or the environment at the command line, registered with the log redactor)."""

    name: str
    type: TargetType
    url: str = field(repr=False)
    events: frozenset[EventKind] = frozenset(EVENT_KINDS)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class NotificationSettings:
    """The ``--notifications`` file, resolved."""

    targets: tuple[NotificationTarget, ...]
    namespace: str = ""
    quiet_period_seconds: float = 3600.0
    queue_size: int = 100
    timeout_seconds: float = 10.0
    retries: int = 3
    backoff_seconds: float = 1.0


@dataclass(frozen=True)
class Notification:
    """One event to send: a title and up to 20 lines (more are summarised)."""

    kind: EventKind
    title: str
    lines: tuple[str, ...] = ()
    run_id: str | None = None
    revision: str | None = None
    namespace: str = ""
    at: float = 0.0

    @property
    def fingerprint(self) -> str:
        """Same kind and same messages: the same failure."""
        text = "\n".join((self.kind, *self.lines))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _lines(items: tuple[str, ...]) -> tuple[str, ...]:
    if len(items) <= _MAX_LINES:
        return items
    return (*items[:_MAX_LINES], f"... and {len(items) - _MAX_LINES} more")


def run_notifications(
    record: RunRecord, outcome: RunOutcome, failures_before: int, namespace: str = ""
) -> list[Notification]:
    """What one finished run is worth telling (before the policy's filter).
    ``failures_before`` is the number of failed runs in a row before this one."""

    def note(kind: EventKind, title: str, lines: tuple[str, ...] = ()) -> Notification:
        return Notification(
            kind, title, _lines(lines), record.run_id, record.revision, namespace,
            record.finished_at,
        )  # fmt: skip

    short = (record.revision or "")[:12] or "unknown commit"
    found: list[Notification] = []
    if record.succeeded and failures_before:
        plural = "s" if failures_before > 1 else ""
        found.append(
            note("recovered", f"Recovered at {short} after {failures_before} failed run{plural}")
        )
    if record.drift_corrections and outcome.changes:
        found.append(
            note(
                "drift-corrected",
                f"Drift corrected at {short}: changes made outside git were undone",
                outcome.changes,
            )
        )
    elif outcome.changes:
        found.append(
            note(
                "applied",
                f"Applied {short}: {len(outcome.changes)} object(s) changed",
                outcome.changes,
            )
        )
    differs = tuple(
        f"{o.kind}/{o.name}: {o.reason or o.state}"
        for o in outcome.objects
        if o.state in ("drifted", "missing")
    )
    if record.result == "planned" and differs:
        found.append(
            note(
                "drift-detected",
                f"Drift at {short}: {len(differs)} object(s) differ from git; nothing was "
                "applied (observe mode or suspended)",
                differs,
            )
        )
    if outcome.blocked:
        found.append(
            note("blocked", f"{len(outcome.blocked)} action(s) blocked at {short}", outcome.blocked)
        )
    if outcome.failed_gate is not None:
        # A quality gate fails after its version was made: only what follows it is undone.
        after = (
            "nothing after that version was done"
            if outcome.failed_gate.startswith("quality gate")
            else "nothing was applied"
        )
        found.append(
            note(
                "gate-failed",
                f"Failed gate at {short}: {outcome.failed_gate}; {after}",
                record.errors,
            )
        )
    elif not record.succeeded:
        blocked = tuple(f"{b.split(': ', 1)[0]}: " for b in outcome.blocked)
        errors = tuple(e for e in record.errors if not e.startswith(blocked))
        if errors or not outcome.blocked:
            found.append(note("failed", f"Run failed at {short}", errors or ("the run failed",)))
    return found


def lock_lost_notification(reason: str, namespace: str, at: float) -> Notification:
    return Notification(
        "lock-lost",
        "Namespace lock lost: the controller stops applying and exits",
        (reason,),
        namespace=namespace,
        at=at,
    )


class NotificationPolicy:
    """Which notifications are sent (see the module docstring). Not thread-safe: called
    from the run worker only."""

    def __init__(self, quiet_period_seconds: float) -> None:
        self._quiet = quiet_period_seconds
        self._sent: dict[str, float] = {}  # failure fingerprint -> when it was last sent

    def admit(self, notification: Notification) -> bool:
        if notification.kind == "recovered":
            self._sent.clear()
            return True
        if notification.kind not in FAILURE_KINDS:
            return True
        last = self._sent.get(notification.fingerprint)
        if last is not None and notification.at - last < self._quiet:
            return False
        self._sent[notification.fingerprint] = notification.at
        return True
