"""The settings groups: plain frozen values, one per part of the controller.

Each part takes its group as an argument. The command line (:mod:`controller.cli.configuration`
and :mod:`controller.cli.drconfig`) resolves them from flags, the environment and config
files; nothing here reads the environment, a file, or registers anything. A value that
cannot be right is refused with a :class:`~controller.errors.SettingError` naming the field
(the command line names its flag instead). Secrets are kept out of ``repr``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from controller import __version__
from controller.errors import ConfigError, SettingError
from controller.repository_settings import RepositorySettings, check_commit_url_template

HostKeyChecking = Literal["yes", "accept-new", "no"]


@dataclass(frozen=True)
class GitSettings:
    """Where the manifests come from and how git reaches them.

    ``repo`` is a local path or a URL (https, ssh, scp-like ``git@host:o/r.git``, file://).
    ``ref`` is a branch, tag or commit; ``None`` means "the working tree as it is" for a local
    path and "the remote's default branch" for a URL. ``cache_dir`` holds clones of URLs and
    exports of other commits of a local repository; it must be set before either is needed.

    Credentials: ``https_token`` (sent as HTTP basic auth with ``https_username``) and
    ``ssh_key_path``. They never appear in ``repr``, ``.git/config``, command lines or errors.
    ``ssh_host_key_checking`` of ``None`` leaves ssh's own configuration alone.

    ``fetch_deepen`` is how many commits a shallow clone is deepened by when a recorded
    commit is missing, before that commit is fetched by its SHA.
    """

    repo: str = "."
    ref: str | None = None
    cache_dir: Path | None = None
    remote_name: str = "origin"
    https_username: str = "x-access-token"
    https_token: str | None = field(default=None, repr=False)
    ssh_key_path: Path | None = None
    ssh_known_hosts: Path | None = None
    ssh_host_key_checking: HostKeyChecking | None = None
    ssh_program: str = "ssh"
    clone_depth: int | None = None
    fetch_deepen: int = 500
    fetch_missing_commits: bool = True
    network_timeout_seconds: float = 300.0
    lock_timeout_seconds: float = 120.0
    commit_url_template: str | None = None
    namespace: str | None = None
    namespace_from: str = ""
    """Where ``namespace`` was set (``--namespace``, ``$DR_GITOPS_NAMESPACE``, or the
    repository settings file); empty when it is derived from the remote."""

    def __post_init__(self) -> None:
        if self.clone_depth is not None and self.clone_depth < 1:
            raise ConfigError(f"the clone depth must be 1 or more (got {self.clone_depth})")
        if self.fetch_deepen < 1:
            raise ConfigError(f"the fetch deepen step must be 1 or more (got {self.fetch_deepen})")
        if self.network_timeout_seconds <= 0 or self.lock_timeout_seconds <= 0:
            raise ConfigError("git timeouts must be greater than 0")
        if self.ssh_host_key_checking not in (None, "yes", "accept-new", "no"):
            raise ConfigError(
                "the ssh host key checking policy must be yes, accept-new or no "
                f"(got {self.ssh_host_key_checking!r})"
            )
        if self.commit_url_template is not None:
            check_commit_url_template(self.commit_url_template)

    def with_repository(self, repository: RepositorySettings) -> GitSettings:
        """These settings completed by the repository's settings file: flags and the
        environment win over the file."""
        namespace_from = self.namespace_from
        if self.namespace is None and repository.namespace is not None:
            namespace_from = repository.file
        return replace(
            self,
            namespace=self.namespace or repository.namespace,
            namespace_from=namespace_from,
            commit_url_template=self.commit_url_template or repository.commit_url_template,
        )


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
    # Webhook-triggered runs start at least this far apart (later deliveries coalesce).
    webhook_min_interval_seconds: float = 10.0
    lock_wait: bool = True
    lock_wait_timeout_seconds: float | None = None
    lock_ttl_seconds: float = 60.0
    http_threads: int = 4
    # waitress's defaults (100, 120 s) let 98 half-open connections starve /healthz; see
    # controller.service.listeners. The probe listener (--probe-listen) is off by default.
    http_connection_limit: int = 200
    http_channel_timeout_seconds: int = 15
    probe_host: str = "127.0.0.1"
    probe_port: int | None = None

    def __post_init__(self) -> None:
        positive = {
            "interval_seconds": self.interval_seconds,
            "backoff_initial_seconds": self.backoff_initial_seconds,
            "backoff_max_seconds": self.backoff_max_seconds,
            "lock_ttl_seconds": self.lock_ttl_seconds,
            "webhook_max_body_bytes": self.webhook_max_body_bytes,
            "status_history": self.status_history,
            "http_threads": self.http_threads,
            "http_connection_limit": self.http_connection_limit,
            "http_channel_timeout_seconds": self.http_channel_timeout_seconds,
        }
        for name, value in positive.items():
            if value <= 0:
                raise SettingError(name, f"must be greater than 0 (got {value})")
        for name in ("jitter_seconds", "shutdown_grace_seconds", "webhook_min_interval_seconds"):
            if not getattr(self, name) >= 0:
                raise SettingError(name, "must not be negative")
        if not 0 <= self.listen_port <= 65535:
            raise SettingError("listen_port", f"must be 0-65535 (got {self.listen_port})")
        if self.probe_port is not None and not 0 <= self.probe_port <= 65535:
            raise SettingError("probe_port", f"must be 0-65535 (got {self.probe_port})")
        if self.readiness_window_seconds is not None and self.readiness_window_seconds <= 0:
            raise SettingError("readiness_window_seconds", "must be greater than 0")
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


@dataclass(frozen=True)
class LockSettings:
    """Where the namespace lock lives and how it is waited for.

    ``store``: a custom model in DataRobot (excludes controllers on any machine), a file in
    ``directory`` (one host), or none. ``wait`` false fails at once when another controller
    holds the namespace; ``timeout_seconds`` bounds the wait (``None``: as long as it
    takes). ``trusted_creators``: whose lock models count as this controller's.
    """

    store: Literal["datarobot", "file", "none"] = "datarobot"
    ttl_seconds: float = 60.0
    directory: Path | None = None
    wait: bool = True
    timeout_seconds: float | None = None
    trusted_creators: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.ttl_seconds > 0:
            raise SettingError("ttl_seconds", f"must be greater than 0 (got {self.ttl_seconds})")
        if self.store == "file" and self.directory is None:
            raise SettingError("directory", "must be set for a lock kept in a file")


@dataclass(frozen=True)
class ApiSettings:
    """How to reach the DataRobot API and how patiently.

    ``endpoint`` always ends in ``/api/v2`` (no trailing slash). ``ssl_verify`` is a bool or
    the path of a CA bundle; ``ca_bundle`` is the bundle the environment names
    (``REQUESTS_CA_BUNDLE``), used when ``ssl_verify`` is true. ``proxies`` are the proxies
    for the endpoint (scheme → URL), resolved from the environment at the edge. Retries are bounded both in count (``max_retries``) and in
    total time (``max_retry_time`` seconds, waits included). The token is never in ``repr``.
    """

    endpoint: str
    token: str = field(repr=False)
    auth_scheme: str = "Bearer"
    ssl_verify: bool | str = True
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 5
    max_retry_time: float = 120.0
    backoff_factor: float = 0.5
    backoff_jitter: float = 0.5
    backoff_max: float = 20.0
    page_size: int = 100
    async_timeout: float = 600.0
    user_agent: str = f"dr-gitops/{__version__}"
    source: str = ""
    ca_bundle: str | None = None
    proxies: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if not self.token:
            raise ConfigError("the DataRobot API token is empty; set DATAROBOT_API_TOKEN")
        for name in ("connect_timeout", "read_timeout", "max_retry_time", "async_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"API setting {name} must be a positive number, not {value!r}")
        if self.max_retries < 0 or not 1 <= self.page_size <= 1000:
            raise ConfigError("API settings: max_retries must be >= 0 and page_size in 1..1000")


# --- Engine (controller.engine) ------------------------------------------------------------

TARGET_KINDS = ("CustomModel", "CustomJob", "Deployment")


@dataclass(frozen=True)
class EngineSettings:
    """How one reconcile plans and applies.

    ``path`` is the manifest root inside the repository (``--path``); ``concurrency`` how
    many independent objects are written at once. ``targets`` (``--target KIND/NAME``)
    limits a run to those objects; empty means every object. (The namespace is a git
    setting: it is derived from the remote unless set.) ``trusted_creators``: usernames,
    besides the token's own user, whose models under this namespace's ``userProvidedId``
    (and whose namespace lock) count as this controller's (``--trusted-creator``); any other
    creator's are blocked as possibly squatted.
    """

    path: str = ""
    concurrency: int = 4
    prune: bool = False
    max_deletions: int = 5
    allow_empty: bool = False
    allow_dirty: bool = False
    targets: tuple[str, ...] = ()
    trusted_creators: tuple[str, ...] = ()
    allow_deployment_deletion: bool = False
    """With ``prune``: delete owned deployments whose manifests are gone (``--prune
    --allow-deployment-deletion``); without it they are shown blocked."""
    drift_baseline: str | None = None
    """The commit DataRobot last equaled (``serve``: its last successful run's revision;
    ``None``: the checkout's first parent). A Deployment with ``heal: false`` takes what
    its manifest changed in git since then and reports the rest as drift."""

    def __post_init__(self) -> None:
        for target in self.targets:
            kind, _, name = target.partition("/")
            if kind not in TARGET_KINDS or not name:
                raise SettingError(
                    "targets",
                    f"{target!r} is not KIND/NAME: give e.g. CustomModel/fraud-detector "
                    "or CustomJob/nightly-retrain (the kind and metadata.name of a manifest)",
                )
        if self.targets and self.prune:
            raise SettingError(
                "targets",
                "cannot be combined with {prune}: pruning deletes the owned objects "
                "no manifest declares, which a run limited to some objects cannot judge. Prune "
                "in a run without {targets}",
                refers=("prune", "targets"),
            )
        if not 1 <= self.concurrency <= 64:
            raise SettingError("concurrency", f"must be between 1 and 64, not {self.concurrency}")
        if self.max_deletions < 0:
            raise SettingError("max_deletions", f"must be 0 or more, not {self.max_deletions}")
        if self.path.startswith("/") or ".." in Path(self.path).parts:
            raise SettingError("path", f"must be a folder inside the repository, not {self.path!r}")
        for name in self.trusted_creators:
            if not name.strip() or any(ord(c) < 32 for c in name):
                raise SettingError(
                    "trusted_creators", f"must be a DataRobot username, not {name!r}"
                )
