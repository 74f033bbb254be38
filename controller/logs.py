"""Logging set-up, done once at the edge (the CLI), and the processor that keeps secrets out.

Events are structlog key/value events (``log.info("version_created", model=key)``).
On a TTY they render for people (``warning: api_request_retried: method=GET ...``);
otherwise as one JSON object per line. Which level and format a command gets is decided at
the CLI edge (:func:`choose_logging`).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

REDACTED = "[REDACTED]"

# Keys whose values are secrets whatever they hold.
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|authorization|api[_-]?key|credential)s?$", re.I
)
# Secrets that have a recognisable shape even when we were not told about them.
_SECRET_SHAPES = (
    # "Bearer <credential>": the credential has a digit, so prose ("token configured") stays.
    re.compile(r"(?i)\b(Bearer|Token)\s+(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]+@"),  # [user]:password@ in URLs
)


class SecretRedactor:
    """A structlog processor that replaces known secret values and secret-looking text.

    Known secrets (the API token, the webhook secret, git credentials) are registered with
    :meth:`register` as soon as settings are read; every string in an event is scrubbed of
    them, wherever they appear, as are values under keys named like a secret.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def register(self, *secrets: str | None) -> None:
        with self._lock:
            known = set(self._secrets)
            known.update(s for s in secrets if s and len(s) >= 4)
            # Longest first so a secret containing another is replaced whole.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _SECRET_SHAPES[0].sub(lambda m: f"{m.group(1)} {REDACTED}", text)
        return _SECRET_SHAPES[1].sub(lambda m: f"{m.group(1)}{REDACTED}@", text)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {
                k: REDACTED if _is_secret_key(k) and v else self._clean(v) for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return type(value)(self._clean(v) for v in value)
        if isinstance(value, BaseException):
            return self.scrub(f"{type(value).__name__}: {value}")
        return value

    def __call__(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event):
            value = event[key]
            if _is_secret_key(key) and value:
                event[key] = REDACTED
            else:
                event[key] = self._clean(value)
        return event


def _is_secret_key(key: object) -> bool:
    return isinstance(key, str) and bool(_SECRET_KEY.search(key))


redactor = SecretRedactor()


class PeopleRenderer:
    """A structlog renderer for a terminal: ``level: event: key=value, ...`` on one line,
    without timestamps or padding (a traceback, when there is one, follows on its own lines).
    """

    _HIDDEN = frozenset({"event", "level", "timestamp", "exception", "logger"})

    def __call__(self, _logger: Any, _method: str, event: MutableMapping[str, Any]) -> str:
        details = ", ".join(
            f"{key}={value}" for key, value in event.items() if key not in self._HIDDEN
        )
        line = f"{event.get('level', _method)}: {event.get('event', '')}"
        if details:
            line += f": {details}"
        if event.get("exception"):
            line += f"\n{event['exception']}"
        return line


@dataclass(frozen=True)
class LoggingChoice:
    """The level and format one command logs with (``json`` ``None``: JSON unless a TTY)."""

    level: str
    json: bool | None


def choose_logging(
    command: str, *, level: str | None, log_format: str | None, tty: bool
) -> LoggingChoice:
    """What a command logs by default, given the flags (which always win) and whether
    stderr is a terminal.

    On a terminal a person reads the command's own output: only warnings and errors are
    added to it. In CI (no terminal) ``apply`` logs each step as JSON lines at info, and
    ``serve``, a service whose logs are collected by machines, always does.
    """
    if level is None:
        level = "info" if command == "serve" or (command == "apply" and not tty) else "warning"
    as_json = {"auto": None, "json": True, "console": False}[log_format or "auto"]
    if log_format is None and command == "serve":
        as_json = True
    return LoggingChoice(level=level, json=as_json)


def configure(
    *,
    level: str = "info",
    json: bool | None = None,
    stream: TextIO | None = None,
    secrets: Iterable[str | None] = (),
) -> None:
    """Configure structlog (and stdlib logging, for libraries) once, at the edge.

    ``json`` defaults to "not a TTY". Known ``secrets`` are registered with the redactor.
    """
    out = stream or sys.stderr
    redactor.register(*secrets)
    as_json = json if json is not None else not out.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False) if as_json else PeopleRenderer()
    )
    numeric = logging.getLevelName(level.upper())
    enrich: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*enrich, structlog.processors.format_exc_info, redactor, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            numeric if isinstance(numeric, int) else 20
        ),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Libraries (urllib3, waitress, apscheduler) log through stdlib logging: render them like
    # our own events (one JSON object a line when JSON), through the same redaction, and
    # keep them quiet unless asked.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*enrich, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redactor,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if numeric != logging.DEBUG else logging.DEBUG)


def shows(level: str) -> bool:
    """Whether the logging configured by :func:`configure` lets events of ``level`` through
    (so that a command does not repeat, as a plain line, what its log already says)."""
    numeric = logging.getLevelName(level.upper())
    return bool(structlog.get_logger().bind().is_enabled_for(numeric))


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; modules call this at import time and log events with context."""
    return structlog.get_logger(name)
