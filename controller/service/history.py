"""The record of recent runs: what ``/status`` shows and what readiness is decided from."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from controller.service.runs import ActionCounts, GateReport, Result, RunOutcome, Trigger


def isoformat(epoch: float | None) -> str | None:
    """An epoch time as ISO 8601 UTC with a ``Z``, or ``None``."""
    if epoch is None:
        return None
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@dataclass(frozen=True)
class RunRecord:
    """One finished run as the service remembers it (times are epoch seconds)."""

    run_id: str
    trigger: Trigger
    started_at: float
    duration_seconds: float
    result: Result
    revision: str | None
    counts: ActionCounts
    drift_corrections: int
    errors: tuple[str, ...]
    drift_fields: tuple[tuple[str, int], ...] = ()
    gates: tuple[GateReport, ...] = ()

    @property
    def finished_at(self) -> float:
        return self.started_at + self.duration_seconds

    @property
    def succeeded(self) -> bool:
        return self.result != "failed"

    @classmethod
    def of(
        cls,
        outcome: RunOutcome,
        *,
        run_id: str,
        trigger: Trigger,
        started_at: float,
        duration_seconds: float,
        last_success_revision: str | None,
        scrub: Callable[[str], str],
    ) -> RunRecord:
        """The record of ``outcome``; derives drift corrections when the engine did not."""
        drift = outcome.drift_corrections
        if drift is None:
            unchanged = outcome.revision is not None and outcome.revision == last_success_revision
            drift = outcome.counts.writes if unchanged else 0
        return cls(
            run_id=run_id,
            trigger=trigger,
            started_at=started_at,
            duration_seconds=duration_seconds,
            result=outcome.result,
            revision=outcome.revision,
            counts=outcome.counts,
            drift_corrections=drift,
            errors=tuple(scrub(e) for e in outcome.errors),
            drift_fields=outcome.drift_fields,
            gates=tuple(replace(g, detail=scrub(g.detail)) for g in outcome.gates),
        )

    def to_json(self) -> dict[str, object]:
        return {
            "runId": self.run_id,
            "trigger": self.trigger,
            "revision": self.revision,
            "started": isoformat(self.started_at),
            "finished": isoformat(self.finished_at),
            "durationSeconds": round(self.duration_seconds, 3),
            "result": self.result,
            "counts": self.counts.to_json(),
            "driftCorrections": self.drift_corrections,
            "driftFields": dict(self.drift_fields),
            "gates": [g.to_json() for g in self.gates],
            "errors": list(self.errors),
        }


class RunHistory:
    """The last ``size`` runs, newest first, safe to read from HTTP threads while the
    runner adds to it."""

    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._runs: deque[RunRecord] = deque(maxlen=size)
        self._last_success: RunRecord | None = None
        self._consecutive_failures = 0

    def add(self, record: RunRecord) -> None:
        with self._lock:
            self._runs.appendleft(record)
            if record.succeeded:
                self._last_success = record
                self._consecutive_failures = 0
            else:
                self._consecutive_failures += 1

    def recent(self) -> tuple[RunRecord, ...]:
        with self._lock:
            return tuple(self._runs)

    @property
    def last_success(self) -> RunRecord | None:
        with self._lock:
            return self._last_success

    @property
    def consecutive_failures(self) -> int:
        with self._lock:
            return self._consecutive_failures

    def readiness(self, *, now: float, window: float) -> tuple[bool, str]:
        """Ready when the last successful run finished less than ``window`` seconds ago."""
        with self._lock:
            success, failures = self._last_success, self._consecutive_failures
        if success is None:
            tail = f"; {failures} failed run(s) so far" if failures else ""
            return False, f"no successful run yet{tail}"
        age = now - success.finished_at
        if age > window:
            return False, (
                f"the last successful run finished {age:.0f}s ago, longer than the "
                f"readiness window of {window:.0f}s; {failures} failed run(s) since"
            )
        return True, f"the last successful run finished {age:.0f}s ago"
