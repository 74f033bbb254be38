"""The one place where flags, environment variables and config files meet.

Each part of the controller takes a small frozen settings group as an argument; nothing
deeper reads ``os.environ`` or files on its own. Secrets are kept out of ``repr``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from controller.errors import ConfigError

# Names of environment variables, not secrets.
WEBHOOK_SECRET_ENV = "DR_GITOPS_WEBHOOK_SECRET"  # noqa: S105
WEBHOOK_SECRET_FILE_ENV = "DR_GITOPS_WEBHOOK_SECRET_FILE"  # noqa: S105


@dataclass(frozen=True)
class ServiceSettings:
    """How ``dr-gitops serve`` schedules runs, listens, checks webhooks and holds its lock.

    Times are seconds. ``ref`` is the tracked ref: only pushes to it trigger a run from a
    webhook (a branch name such as ``main`` means ``refs/heads/main``). ``webhook_secret``
    is ``None`` when webhooks are disabled; it never appears in ``repr``.
    """

    ref: str = "main"
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    interval_seconds: float = 300.0
    jitter_seconds: float = 30.0
    backoff_initial_seconds: float = 30.0
    backoff_max_seconds: float = 1800.0
    # None: three intervals, so one late or failed run does not flip readiness.
    readiness_window_seconds: float | None = None
    shutdown_grace_seconds: float = 240.0
    status_history: int = 50
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_max_body_bytes: int = 1024 * 1024
    lock_wait: bool = True
    lock_wait_timeout_seconds: float | None = None
    lock_ttl_seconds: float = 60.0
    lock_dir: Path | None = None
    http_threads: int = 4

    def __post_init__(self) -> None:
        positive = {
            "interval": self.interval_seconds,
            "backoff-initial": self.backoff_initial_seconds,
            "backoff-max": self.backoff_max_seconds,
            "lock-ttl": self.lock_ttl_seconds,
            "webhook-max-body": self.webhook_max_body_bytes,
            "status-history": self.status_history,
            "http-threads": self.http_threads,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigError(f"--{name} must be greater than 0 (got {value})")
        if self.jitter_seconds < 0 or self.shutdown_grace_seconds < 0:
            raise ConfigError("--jitter and --shutdown-grace must not be negative")
        if not 0 <= self.listen_port <= 65535:
            raise ConfigError(f"--listen port must be 0-65535 (got {self.listen_port})")
        if self.readiness_window_seconds is not None and self.readiness_window_seconds <= 0:
            raise ConfigError("--readiness-window must be greater than 0")
        if self.webhook_secret is not None and len(self.webhook_secret) < 8:
            raise ConfigError(
                "the webhook secret is shorter than 8 characters; use a long random value "
                "(e.g. `openssl rand -hex 32`)"
            )

    @property
    def readiness_window(self) -> float:
        """Seconds after a successful run during which ``/readyz`` answers 200."""
        if self.readiness_window_seconds is not None:
            return self.readiness_window_seconds
        return 3 * self.interval_seconds + self.jitter_seconds

    @property
    def tracked_ref(self) -> str:
        """The full ref name pushes are compared with (``main`` → ``refs/heads/main``)."""
        return self.ref if self.ref.startswith("refs/") else f"refs/heads/{self.ref}"


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6, ``:8080`` for all interfaces) → (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"--listen must be HOST:PORT, e.g. 127.0.0.1:8080 (got {value!r})")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host or "0.0.0.0", int(port)  # noqa: S104 (an empty host asks for all interfaces)


def read_webhook_secret(
    secret_file: Path | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The webhook secret: from ``secret_file`` (or ``$DR_GITOPS_WEBHOOK_SECRET_FILE``),
    else ``$DR_GITOPS_WEBHOOK_SECRET``; ``None`` when neither is set (webhooks disabled).

    Surrounding whitespace (a file's trailing newline) is dropped. Errors name the file,
    never its content.
    """
    env = os.environ if environ is None else environ
    path = secret_file or (
        Path(env[WEBHOOK_SECRET_FILE_ENV]) if env.get(WEBHOOK_SECRET_FILE_ENV) else None
    )
    if path is not None:
        try:
            secret = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the webhook secret file {path}: {exc.__class__.__name__}; "
                "check the path and that the file is readable by this user"
            ) from None
        if not secret:
            raise ConfigError(f"the webhook secret file {path} is empty")
        return secret
    return env.get(WEBHOOK_SECRET_ENV, "").strip() or None


def default_lock_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where file-based namespace locks live by default: ``$XDG_STATE_HOME/dr-gitops/locks``
    (``~/.local/state/dr-gitops/locks``)."""
    env = os.environ if environ is None else environ
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "dr-gitops" / "locks"
