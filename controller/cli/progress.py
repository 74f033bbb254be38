"""Progress while applying: a bar on a terminal (tqdm), one log line per action otherwise."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from tqdm import tqdm

from controller.engine.outcomes import ActionResult, LoggingReporter, Outcome
from controller.model.plans import Action


class BarReporter:
    """A tqdm progress bar over the plan's actions, on stderr."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self._bar = tqdm(
            total=total, unit="action", file=stream or sys.stderr, leave=False, dynamic_ncols=True
        )
        self._lock = threading.Lock()

    def started(self, action: Action) -> None:
        with self._lock:
            # Builds and tests take minutes: say which one the bar is waiting for.
            step = {"build-dependencies": " building", "test-version": " testing"}
            self._bar.set_description_str(str(action.key)[:40] + step.get(action.kind.value, ""))

    def finished(self, result: ActionResult) -> None:
        with self._lock:
            self._bar.update(1)
            if result.outcome is Outcome.FAILED:
                self._bar.write(f"failed: {result.action.key}: {result.message}", file=sys.stderr)

    def close(self) -> None:
        self._bar.close()


def reporter_for(total: int, stream: TextIO | None = None) -> BarReporter | LoggingReporter:
    """A bar on a terminal; otherwise the engine's one log line per action."""
    out = stream or sys.stderr
    if getattr(out, "isatty", lambda: False)():
        return BarReporter(total, out)
    return LoggingReporter()
