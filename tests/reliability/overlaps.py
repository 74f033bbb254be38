"""Seeing, from the emulator's side, which controller wrote what and when.

Each controller gets its own API token (extra tokens of the same seeded user, so they see
and may change the same objects). :class:`WriteRecorder` wraps the emulator's WSGI app and
records every write with its token, start and end times and status, and whether it touched
the namespace lock (the lock model's create, refresh and delete) rather than managed
objects. :func:`apply_spans` and :func:`overlaps` then say whether two controllers were
ever writing managed objects at the same time.

``WriteRecorder.rendezvous(n)`` makes the first managed-object write of each token wait
until ``n`` tokens have sent one: two controllers without a lock are then seen applying at
once however a loaded machine staggers their start (with a lock it would never release).
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import emulator
from emulator.server import EmulatorServer

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_LOCK_MARK = b".dr-gitops-lock"


@dataclass(frozen=True)
class Write:
    token: str
    method: str
    path: str
    start: float
    end: float
    status: int
    lock: bool


class WriteRecorder:
    """WSGI middleware recording every write to ``/api/v2`` (see the module docstring)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.writes: list[Write] = []
        self.lock_ids: set[str] = set()
        self._mutex = threading.Lock()
        self._arrived: set[str] = set()
        self._meeting = threading.Condition(self._mutex)
        self._quorum = 0
        self._patience = 0.0

    def rendezvous(self, tokens: int, timeout: float = 300.0) -> None:
        """From now on, hold each token's first managed-object write until ``tokens``
        tokens have sent one (or ``timeout`` seconds passed: then it goes on alone)."""
        self._quorum, self._patience = tokens, timeout

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method in ("GET", "HEAD") or not path.startswith("/api/v2/"):
            return self.app(environ, start_response)
        token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")[2].strip()
        body = b""
        if method == "POST" and path == "/api/v2/customModels/":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
        with self._mutex:
            lock = _LOCK_MARK in body or any(f"/customModels/{i}/" in path for i in self.lock_ids)
        statuses: list[int] = []

        def recording_start(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(int(status.split()[0]))
            return start_response(status, headers, exc_info)

        started = time.monotonic()
        if not lock:
            self._meet(token)
        answer = b"".join(self.app(environ, recording_start))
        ended = time.monotonic()
        status = statuses[0] if statuses else 0
        with self._mutex:
            if lock and body and status == 201:
                self.lock_ids.add(json.loads(answer)["id"])
            self.writes.append(Write(token, method, path, started, ended, status, lock))
        return [answer]

    def _meet(self, token: str) -> None:
        with self._meeting:
            if token in self._arrived or not self._quorum:
                return
            self._arrived.add(token)
            self._meeting.notify_all()
            self._meeting.wait_for(lambda: len(self._arrived) >= self._quorum, self._patience)


def seed_with_tokens(folder: Path, tokens: Sequence[str]) -> Path:
    """A copy of the emulator's seed where the token owner also has ``tokens``."""
    seed = yaml.safe_load((Path(emulator.__file__).parent / "data" / "seed.yaml").read_text())
    owner = next(u for u in seed["users"] if u["id"] == seed["tokenOwner"])
    owner["apiTokens"] = [*owner.get("apiTokens", []), *tokens]
    path = folder / "seed.yaml"
    path.write_text(yaml.safe_dump(seed))
    return path


def recorded_emulator(folder: Path, tokens: Sequence[str]) -> tuple[EmulatorServer, WriteRecorder]:
    """An emulator (not started) whose writes are recorded, accepting ``tokens``."""
    server = EmulatorServer(port=0, seed_file=seed_with_tokens(folder, tokens), threads=8)
    recorder = WriteRecorder(server.app.wsgi_app)
    server.app.wsgi_app = recorder  # type: ignore[method-assign]
    return server, recorder


@dataclass(frozen=True)
class Span:
    token: str
    start: float
    end: float
    writes: int


def apply_spans(writes: Sequence[Write]) -> dict[str, Span]:
    """Per token, from its first to its last write of a managed object (any answer: an
    attempt is enough to call it applying)."""
    spans: dict[str, Span] = {}
    for write in writes:
        if write.lock:
            continue
        old = spans.get(write.token)
        spans[write.token] = Span(
            write.token,
            min(write.start, old.start) if old else write.start,
            max(write.end, old.end) if old else write.end,
            (old.writes if old else 0) + 1,
        )
    return spans


def overlaps(writes: Sequence[Write]) -> list[str]:
    """Each managed-object write of one controller made while another was between its own
    first and last such write."""
    spans = apply_spans(writes)
    found = []
    for write in writes:
        if write.lock:
            continue
        for token, span in spans.items():
            if token != write.token and span.start < write.end and write.start < span.end:
                found.append(f"{write.method} {write.path} by {write.token} inside {token}'s span")
    return found
