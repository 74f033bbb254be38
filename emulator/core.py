"""One running emulator: its reference, store, faults, stats, settings and state file.

:class:`Emulator` is what the Flask app and :class:`emulator.server.EmulatorServer` share.
It owns no HTTP; ``reset()`` is the whole of ``POST /__emulator__/reset``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from emulator.errors import invalid
from emulator.faults import Faults
from emulator.seeding import Seed
from emulator.stats import Stats
from emulator.store import Store
from emulator.validation import Reference

#: Settings changeable at run time with ``PUT /__emulator__/config``.
DEFAULT_CONFIG: dict[str, Any] = {
    "asyncDelayMs": 300,  # until a status (log request, deployment job, ...) reports completion
    "jobRunMs": 1000,  # how long a custom job run stays "running"
    "maxUploadBytes": 100 * 1024 * 1024,  # larger request bodies get 413
    "modelTestMs": -1,  # how long a custom model test runs (-1: asyncDelayMs)
    "dependencyBuildMs": -1,  # how long a dependency build runs (-1: asyncDelayMs)
    "trainingDataMs": -1,  # how long a training data assignment runs (-1: asyncDelayMs)
    "failingDependencies": [],  # requirement names (or whole lines) whose build fails
    "replacementResetsSettings": [],  # deployment settings a model replacement resets
}
_CONFIG_LIMITS = {
    "asyncDelayMs": 600_000,
    "jobRunMs": 3_600_000,
    "maxUploadBytes": 2**31,
    "modelTestMs": 3_600_000,
    "dependencyBuildMs": 3_600_000,
    "trainingDataMs": 3_600_000,
}
_LIST_SETTINGS = ("failingDependencies", "replacementResetsSettings")

_REFERENCE: Reference | None = None


def reference() -> Reference:
    """The API reference, loaded once per process (it is read-only)."""
    global _REFERENCE
    if _REFERENCE is None:
        _REFERENCE = Reference()
    return _REFERENCE


class Emulator:
    """The state and settings behind one emulator server."""

    def __init__(
        self,
        seed: Seed,
        token: str,
        config: dict[str, int] | None = None,
        state_file: str | Path | None = None,
    ) -> None:
        self.reference = reference()
        self.store = Store(seed, token)
        self.faults = Faults()
        self.stats = Stats()
        self._defaults = {**DEFAULT_CONFIG, **(config or {})}
        self.config = copy.deepcopy(self._defaults)
        self.test_rules: list[dict[str, Any]] = []  # scripted custom model test outcomes
        self.state_file = StateFile(Path(state_file), self.store) if state_file else None
        if self.state_file:
            self.state_file.load()

    def reset(self) -> None:
        """State back to the seed, faults off, stats zeroed, settings back to the start."""
        self.store.reset()
        self.faults.configure({})
        self.stats.reset()
        self.config = copy.deepcopy(self._defaults)
        self.test_rules = []

    def duration(self, key: str) -> float:
        """A configured duration in seconds (``-1`` in the setting means ``asyncDelayMs``)."""
        value = int(self.config[key])
        return (self.config["asyncDelayMs"] if value < 0 else value) / 1000

    def configure(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change some settings; 422 on unknown keys or bad values."""
        errors: dict[str, str] = {}
        if not isinstance(changes, dict):
            raise invalid({"body": "must be an object"})
        for key, value in changes.items():
            if key not in DEFAULT_CONFIG:
                errors[key] = f"{key} is not allowed key"
            elif key in _LIST_SETTINGS:
                if not isinstance(value, list) or not all(
                    isinstance(v, str) and v.strip() for v in value
                ):
                    errors[key] = "must be a list of non-empty strings"
            elif (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not _lowest(key) <= value <= _CONFIG_LIMITS[key]
            ):
                errors[key] = f"must be an integer between {_lowest(key)} and {_CONFIG_LIMITS[key]}"
        if errors:
            raise invalid(errors, "Invalid emulator configuration")
        self.config.update(copy.deepcopy(changes))
        return copy.deepcopy(self.config)

    def close(self) -> None:
        if self.state_file:
            self.state_file.stop()


def _lowest(key: str) -> int:
    """Durations that default to ``asyncDelayMs`` accept ``-1`` to go back to that default."""
    return -1 if DEFAULT_CONFIG[key] == -1 else 0


class StateFile:
    """Keeps ``--state-file`` in step with the store: loaded at start, rewritten atomically.

    A background thread writes the file within ``interval`` seconds of a change (and once
    more on stop), so a burst of writes costs one dump, never one per request.
    """

    def __init__(self, path: Path, store: Store, interval: float = 0.2) -> None:
        self.path = path
        self.store = store
        self.interval = interval
        self._written = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> None:
        if self.path.exists():
            self.store.load(json.loads(self.path.read_text("utf-8")))
        self._written = self.store.changes

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="emulator-state-file", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        """Write the state now if it changed since the last write."""
        with self.store.lock:
            changes = self.store.changes
            if changes == self._written:
                return
            state = self.store.dump()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._written = changes

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.flush()
