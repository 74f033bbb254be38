"""What applying a plan did: each action's outcome, the whole result, and the reporters
told as actions start and finish (a progress bar, log lines)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from controller.logs import get_logger
from controller.model.plans import Action

log = get_logger(__name__)


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class ActionResult:
    """What happened to one action. ``detail`` names what was made (e.g. ``version 1.3``)."""

    action: Action
    outcome: Outcome
    message: str = ""
    object_id: str | None = None
    detail: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class ApplyResult:
    results: tuple[ActionResult, ...]
    stopped: bool = False

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
