"""``dr-gitops serve`` as a real process whose JSON log lines are read as they come."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest

from tests.reliability.soaking import ROOT


class ServeProcess:
    """``python -m controller.cli --log-format json serve ARGS`` with stdout and stderr
    merged and collected by a reader thread."""

    def __init__(self, env: Mapping[str, str], *args: str, log_level: str = "info") -> None:
        command = [
            sys.executable,
            "-m",
            "controller.cli",
            "--log-level",
            log_level,
            "--log-format",
            "json",
            "serve",
            *args,
        ]
        self.proc = subprocess.Popen(
            command,
            env=dict(env),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        found = []
        for line in list(self.lines):
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict) and (name is None or parsed.get("event") == name):
                found.append(parsed)
        return found

    def event(self, name: str, count: int = 1, timeout: float = 60) -> dict[str, Any]:
        """The ``count``-th event called ``name``; fails the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name)
            if len(found) >= count:
                return found[count - 1]
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        pytest.fail(f"no {count}x {name} in:\n{self.output()[-4000:]}")

    @property
    def port(self) -> int:
        return int(self.event("http_listening")["port"])

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def output(self) -> str:
        return "".join(self.lines)
