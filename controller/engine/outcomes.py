"""What applying a plan did: each action's outcome, the whole result, and the reporters
told as actions start and finish (a progress bar, log lines)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from controller.logs import get_logger
from controller.model.gates import GateResult
from controller.model.params import GateStep
from controller.model.plans import Action

log = get_logger(__name__)


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    BLOCKED = "blocked"
    PENDING = "pending"  # a build or test still runs; the next run looks again (serve)


@dataclass(frozen=True)
class ActionResult:
    """What happened to one action. ``detail`` names what was made (e.g. ``version 1.3``)."""

    action: Action
    outcome: Outcome
    message: str = ""
    object_id: str | None = None
    detail: str = ""
    seconds: float = 0.0

    def skips(self) -> str:
        """Why the rest of its chain is skipped after this action (not done)."""
        if self.outcome is Outcome.PENDING:
            return "skipped: waits for the step still running (the next run goes on)"
        return f"skipped: an earlier step for {self.action.key} did not succeed"


@dataclass(frozen=True)
class ApplyResult:
    """``gates``: each version whose gate this apply ran, passed or not (registration and
    deployments go on only from a version whose gate passed: :meth:`gate_passed`)."""

    results: tuple[ActionResult, ...]
    stopped: bool = False
    gates: tuple[GateResult, ...] = ()

    def gate_passed(self, key: str) -> GateResult | None:
        """The gate result of the manifest ``key`` (``CustomModel/x``) if it passed here."""
        return next((g for g in self.gates if g.key == key and g.passed), None)

    @property
    def failures(self) -> tuple[ActionResult, ...]:
        return tuple(r for r in self.results if r.outcome in (Outcome.FAILED, Outcome.BLOCKED))

    @property
    def ok(self) -> bool:
        return not self.failures and not self.stopped

    def count(self, outcome: Outcome) -> int:
        return sum(r.outcome is outcome for r in self.results)


class Reporter(Protocol):
    """Progress: told when each action starts and ends (a progress bar, log lines...)."""

    def started(self, action: Action) -> None: ...
    def finished(self, result: ActionResult) -> None: ...


class LoggingReporter:
    """The default reporter: one structured log line per finished action."""

    def started(self, action: Action) -> None:
        step = action.params
        if isinstance(step, GateStep):  # builds and tests take minutes: say when one starts
            log.info(
                "gate_started",
                key=str(action.key),
                kind=action.kind.value,
                version=step.version_label,
            )
        else:
            log.debug("action_started", key=str(action.key), kind=action.kind.value)

    def finished(self, result: ActionResult) -> None:
        event: dict[str, Any] = {
            "key": str(result.action.key),
            "kind": result.action.kind.value,
            "outcome": result.outcome.value,
            "seconds": result.seconds,
        }
        if result.outcome is Outcome.DONE:
            log.info("action_done", detail=result.detail, **event)
        else:
            log.warning("action_not_done", message=result.message, **event)
