"""The one place where flags, environment variables and config files meet.

Each part of the controller takes a small frozen settings group as an argument; nothing
deeper reads ``os.environ`` or files on its own. Secrets are kept out of ``repr``.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml

from controller import __version__
from controller.errors import ConfigError
from controller.excludes import pattern_problem
from controller.logs import redactor
from controller.model.identity import valid_namespace

# Environment variables of the git settings group (flags win over them).
GIT_TOKEN_ENV = "DR_GITOPS_GIT_TOKEN"  # noqa: S105 (the variable's name, not a token)
GIT_USERNAME_ENV = "DR_GITOPS_GIT_USERNAME"
GIT_SSH_KEY_ENV = "DR_GITOPS_SSH_KEY"
GIT_SSH_KNOWN_HOSTS_ENV = "DR_GITOPS_SSH_KNOWN_HOSTS"
GIT_SSH_HOST_KEY_CHECKING_ENV = "DR_GITOPS_SSH_STRICT_HOST_KEY_CHECKING"
GIT_CACHE_DIR_ENV = "DR_GITOPS_CACHE_DIR"
GIT_COMMIT_URL_TEMPLATE_ENV = "DR_GITOPS_COMMIT_URL_TEMPLATE"
NAMESPACE_ENV = "DR_GITOPS_NAMESPACE"

HostKeyChecking = Literal["yes", "accept-new", "no"]
# Placeholders a --commit-url-template may use (documented in the README).
COMMIT_URL_PLACEHOLDERS = frozenset({"sha", "short_sha", "ref", "web_url", "host", "path"})


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

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        repo: str | None = None,
        ref: str | None = None,
        cache_dir: Path | None = None,
        commit_url_template: str | None = None,
        namespace: str | None = None,
    ) -> GitSettings:
        """Settings from the ``DR_GITOPS_*`` variables; the keyword flags win when given."""
        env = os.environ if environ is None else environ

        def path(name: str) -> Path | None:
            return Path(env[name]).expanduser() if env.get(name) else None

        checking = env.get(GIT_SSH_HOST_KEY_CHECKING_ENV) or None
        if checking not in (None, "yes", "accept-new", "no"):
            raise ConfigError(
                f"{GIT_SSH_HOST_KEY_CHECKING_ENV} must be yes, accept-new or no (got {checking!r})"
            )
        if namespace is not None and not namespace.strip():
            raise ConfigError(
                "--namespace is empty (an unset variable in a CI script?); give the namespace, "
                "or leave the flag out to derive it from the repository"
            )
        return cls(
            repo=repo or ".",
            ref=ref or None,
            cache_dir=cache_dir or path(GIT_CACHE_DIR_ENV) or default_cache_dir(env),
            https_token=env.get(GIT_TOKEN_ENV) or None,
            https_username=env.get(GIT_USERNAME_ENV) or "x-access-token",
            ssh_key_path=path(GIT_SSH_KEY_ENV),
            ssh_known_hosts=path(GIT_SSH_KNOWN_HOSTS_ENV),
            ssh_host_key_checking=checking,  # type: ignore[arg-type]  # checked just above
            commit_url_template=commit_url_template or env.get(GIT_COMMIT_URL_TEMPLATE_ENV) or None,
            namespace=namespace or env.get(NAMESPACE_ENV) or None,
            namespace_from="--namespace"
            if namespace
            else (f"${NAMESPACE_ENV}" if env.get(NAMESPACE_ENV) else ""),
        )

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


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where clones of remote repositories live: ``$XDG_CACHE_HOME/dr-gitops``
    (``~/.cache/dr-gitops``)."""
    env = os.environ if environ is None else environ
    home = env.get("HOME") or str(Path.home())
    return Path(env.get("XDG_CACHE_HOME") or Path(home) / ".cache") / "dr-gitops"


def check_commit_url_template(template: str) -> None:
    """Raise ``ConfigError`` unless ``template`` is a URL template with known placeholders."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigError(f"the commit URL template is malformed: {exc}") from None
    unknown = names - COMMIT_URL_PLACEHOLDERS
    if unknown:
        raise ConfigError(
            f"the commit URL template uses unknown placeholders {sorted(unknown)}; "
            f"known ones are {sorted(COMMIT_URL_PLACEHOLDERS)}"
        )
    if "sha" not in names and "short_sha" not in names:
        raise ConfigError("the commit URL template must contain {sha} (or {short_sha})")
    if "://" not in template and not template.startswith("{web_url}"):
        raise ConfigError(
            "the commit URL template must be an absolute URL, e.g. "
            "https://git.example.com/{path}/commit/{sha}"
        )


# --- The repository settings file (.dr-gitops.yaml) ---------------------------------------

REPOSITORY_SETTINGS_FILE = ".dr-gitops.yaml"
_REPOSITORY_SETTINGS_MAX_BYTES = 64 * 1024
_REPOSITORY_KEYS = ("namespace", "commitUrlTemplate", "exclude")
# Keys someone might expect here but which this file may never set: `plan` runs on pull
# requests with the API token, and whoever opens one writes this file, so nothing in it may
# say where data or the token goes. (Every other unknown key is refused too.)
_FORBIDDEN_WORDS = (
    "endpoint", "token", "credential", "password", "secret", "proxy", "proxies", "ssl",
    "verify", "ca", "cert", "drconfig", "url", "host", "key", "auth",
)  # fmt: skip


@dataclass(frozen=True)
class RepositorySettings:
    """The settings a repository commits next to its manifests (``.dr-gitops.yaml`` at the
    manifest root): the namespace, the commit URL template and excludes every source folder
    gets. Flags and environment variables win over them. ``file`` is the file's path inside
    the repository (empty when there is none)."""

    file: str = ""
    namespace: str | None = None
    commit_url_template: str | None = None
    exclude: tuple[str, ...] = ()


class RepositorySettingsError(ConfigError):
    """Something is wrong in the repository settings file: ``file`` (its path inside the
    repository), ``key`` (empty for the file as a whole) and ``detail`` (what is wrong and
    what to do), so that ``validate`` can list it as one problem among the manifests'."""

    def __init__(self, file: str, key: str, detail: str, message: str | None = None) -> None:
        super().__init__(message or (f"{file}: {key} {detail}" if key else f"{file} {detail}"))
        self.file = file
        self.key = key
        self.detail = detail


def repository_settings_path(manifests_path: str) -> str:
    """The settings file's path inside the repository for a manifest root (``--path``)."""
    folder = manifests_path.strip("/")
    if folder in ("", "."):
        return REPOSITORY_SETTINGS_FILE
    return f"{folder}/{REPOSITORY_SETTINGS_FILE}"


def read_repository_settings(root: Path, manifests_path: str = "") -> RepositorySettings:
    """The settings file under ``root`` (a checkout) for the manifest root
    ``manifests_path``; empty settings when there is none. Raises ``RepositorySettingsError`` naming
    the file and the key for anything wrong in it."""
    shown = repository_settings_path(manifests_path)
    path = root / shown
    if path.is_symlink():
        raise RepositorySettingsError(
            shown, "", "is a symbolic link; commit the settings file itself, not a link"
        )
    if not path.exists():
        return RepositorySettings()
    if not path.is_file():
        raise RepositorySettingsError(shown, "", "is not a file; remove it or make it a YAML file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = f"cannot read {shown}: {exc.strerror}"
        raise RepositorySettingsError(shown, "", message, message) from None
    return parse_repository_settings(raw, shown)


def parse_repository_settings(raw: bytes, shown: str) -> RepositorySettings:
    """The settings file's content (``shown`` names it in errors); see
    :func:`read_repository_settings`."""
    if len(raw) > _REPOSITORY_SETTINGS_MAX_BYTES:
        raise RepositorySettingsError(
            shown, "", "is larger than 64 KiB; it holds three settings at most"
        )
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RepositorySettingsError(
            shown, "", f"is not valid YAML ({type(exc).__name__}); fix it"
        ) from None
    if data is None:
        return RepositorySettings(file=shown)
    if not isinstance(data, dict):
        raise RepositorySettingsError(
            shown, "", f"must be a YAML mapping of {', '.join(_REPOSITORY_KEYS)}"
        )
    for key in data:
        _check_repository_key(shown, key)
    namespace = data.get("namespace")
    if namespace is not None and not (isinstance(namespace, str) and valid_namespace(namespace)):
        raise RepositorySettingsError(
            shown,
            "namespace",
            "must be a string of letters, digits and . _ / : @ - "
            "(at most 200 characters), e.g. github.com/acme/ml-models",
        )
    template = data.get("commitUrlTemplate")
    if template is not None:
        if not isinstance(template, str):
            raise RepositorySettingsError(shown, "commitUrlTemplate", "must be a string")
        try:
            check_commit_url_template(template)
        except ConfigError as exc:
            raise RepositorySettingsError(
                shown, "commitUrlTemplate", str(exc), f"{shown}: commitUrlTemplate: {exc}"
            ) from None
    exclude = data.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(p, str) and p for p in exclude):
        raise RepositorySettingsError(
            shown, "exclude", "must be a list of patterns, e.g. ['tests/**']"
        )
    for pattern in exclude:
        _check_exclude(shown, pattern)
    return RepositorySettings(shown, namespace, template, tuple(exclude))


def _check_exclude(shown: str, pattern: str) -> None:
    # The rules of a manifest's own exclude: listing compiles these patterns the same way.
    problem = pattern_problem(pattern)
    if problem is not None:
        # problem.message begins "exclude pattern ...": the key, then what is wrong.
        detail = f"{problem.message.removeprefix('exclude ')} ({problem.hint})"
        raise RepositorySettingsError(shown, "exclude", detail)


def _check_repository_key(shown: str, key: object) -> None:
    if key in _REPOSITORY_KEYS:
        return
    name = str(key)
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)  # camelCase → camel Case
    words = {w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w}
    if any(w in _FORBIDDEN_WORDS or w.rstrip("s") in _FORBIDDEN_WORDS for w in words):
        detail = (
            f"{name!r} cannot be set in the repository settings file: whoever can "
            "open a pull request writes this file, and `plan` runs on pull requests with the "
            "DataRobot token, so nothing in it may say where data or the token go. Set the "
            "endpoint, credentials and proxies in the CI's secrets, the environment or "
            "drconfig.yaml"
        )
        raise RepositorySettingsError(shown, name, detail, f"{shown}: {detail}")
    close = difflib.get_close_matches(name, _REPOSITORY_KEYS, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(_REPOSITORY_KEYS)}"
    detail = f"unknown key {name!r}; {hint}"
    raise RepositorySettingsError(shown, name, detail, f"{shown}: {detail}")


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
    # Webhook-triggered runs start at least this far apart (later deliveries coalesce).
    webhook_min_interval_seconds: float = 10.0
    lock_wait: bool = True
    lock_wait_timeout_seconds: float | None = None
    lock_ttl_seconds: float = 60.0
    lock_dir: Path | None = None
    http_threads: int = 4
    # waitress's defaults (100, 120 s) let 98 half-open connections starve /healthz; see
    # controller.service.listening. The probe listener (--probe-listen) is off by default.
    http_connection_limit: int = 200
    http_channel_timeout_seconds: int = 15
    probe_host: str = "127.0.0.1"
    probe_port: int | None = None

    def __post_init__(self) -> None:
        positive = {
            "interval": self.interval_seconds,
            "backoff-initial": self.backoff_initial_seconds,
            "backoff-max": self.backoff_max_seconds,
            "lock-ttl": self.lock_ttl_seconds,
            "webhook-max-body": self.webhook_max_body_bytes,
            "status-history": self.status_history,
            "http-threads": self.http_threads,
            "connection-limit": self.http_connection_limit,
            "channel-timeout": self.http_channel_timeout_seconds,
        }
        for name, value in positive.items():
            if value <= 0:
                raise ConfigError(f"--{name} must be greater than 0 (got {value})")
        if self.jitter_seconds < 0 or self.shutdown_grace_seconds < 0:
            raise ConfigError("--jitter and --shutdown-grace must not be negative")
        if not self.webhook_min_interval_seconds >= 0:
            raise ConfigError("--webhook-min-interval must not be negative")
        if not 0 <= self.listen_port <= 65535:
            raise ConfigError(f"--listen port must be 0-65535 (got {self.listen_port})")
        if self.probe_port is not None and not 0 <= self.probe_port <= 65535:
            raise ConfigError(f"--probe-listen port must be 0-65535 (got {self.probe_port})")
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


def parse_listen(value: str, *, flag: str = "--listen") -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6, ``:8080`` for all interfaces) → (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"{flag} must be HOST:PORT, e.g. 127.0.0.1:8080 (got {value!r})")
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


# --- DataRobot API (controller.remote) ----------------------------------------------------

DRCONFIG_PATH = Path("~/.config/datarobot/drconfig.yaml")
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class ApiSettings:
    """How to reach the DataRobot API and how patiently.

    ``endpoint`` always ends in ``/api/v2`` (no trailing slash). ``ssl_verify`` is a bool or
    the path of a CA bundle. Retries are bounded both in count (``max_retries``) and in
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

    def __post_init__(self) -> None:
        if not self.token:
            raise ConfigError("the DataRobot API token is empty; set DATAROBOT_API_TOKEN")
        for name in ("connect_timeout", "read_timeout", "max_retry_time", "async_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"API setting {name} must be a positive number, not {value!r}")
        if self.max_retries < 0 or not 1 <= self.page_size <= 1000:
            raise ConfigError("API settings: max_retries must be >= 0 and page_size in 1..1000")
        redactor.register(self.token)


def load_api_settings(
    flags: Mapping[str, str | None],
    env: Mapping[str, str],
    config_path: Path | None = None,
) -> ApiSettings:
    """Read the API settings as the official DataRobot client does.

    Token and endpoint each come from the first of, in the official client's order:
    ``flags`` (``endpoint``, ``token``); a drconfig.yaml named explicitly (``config_path``,
    else ``DATAROBOT_CONFIG_FILE``); the environment (``DATAROBOT_ENDPOINT``,
    ``DATAROBOT_API_TOKEN``); ``~/.config/datarobot/drconfig.yaml``. Both must come from the
    same one, so a token is never sent to an endpoint configured elsewhere. ``ssl_verify``
    comes from the same order (``DATAROBOT_SSL_VERIFY`` in the environment), and so do the
    official client's ``connect_timeout`` (seconds to establish a connection; a drconfig key)
    and ``max_retries`` (how many times a failed request is sent again; a drconfig key, or
    ``DATAROBOT_MAX_RETRIES``). Other keys of ``flags`` (``read_timeout``,
    ``max_retry_time``, ``page_size``) tune the client.
    """
    file_values, file_name, explicit = _read_drconfig(config_path, env)
    from_env = {
        "endpoint": env.get("DATAROBOT_ENDPOINT"),
        "token": env.get("DATAROBOT_API_TOKEN"),
        "ssl_verify": env.get("DATAROBOT_SSL_VERIFY"),
        "max_retries": env.get("DATAROBOT_MAX_RETRIES"),
    }
    environment = ("the environment", from_env)
    from_file = (file_name, file_values)
    sources: list[tuple[str, Mapping[str, Any]]] = [
        ("command-line flags", {k: flags.get(k) for k in (*_SOURCED, "endpoint", "token")}),
        *((from_file, environment) if explicit else (environment, from_file)),
    ]
    endpoint, endpoint_from = _first("endpoint", sources)
    token, token_from = _first("token", sources)
    if endpoint is None or token is None:
        missing = [n for n, v in (("endpoint", endpoint), ("token", token)) if v is None]
        raise ConfigError(
            f"no DataRobot API {' and '.join(missing)} configured: set DATAROBOT_ENDPOINT and "
            f"DATAROBOT_API_TOKEN (or `endpoint` and `token` in {file_name})"
        )
    redactor.register(str(token))
    if endpoint_from != token_from:
        raise ConfigError(
            f"the DataRobot endpoint comes from {endpoint_from} but the token from {token_from}; "
            "give both in one place so a token is never sent to another server: --endpoint "
            "with --token-file, DATAROBOT_ENDPOINT with DATAROBOT_API_TOKEN, or one "
            "drconfig.yaml"
        )
    ssl_raw = _first_set(*(values.get("ssl_verify") for _, values in sources))
    return ApiSettings(
        endpoint=normalize_endpoint(str(endpoint)),
        token=str(token),
        auth_scheme=_auth_scheme(
            file_values.get("token_type") if token_from == file_name else None
        ),
        ssl_verify=_ssl_verify(ssl_raw),
        source=endpoint_from,
        **_tuning(
            {
                **flags,
                **{k: _first_set(*(v.get(k) for _, v in sources)) for k in _SOURCED},
            }
        ),
    )


# Keys read like the official client: from the flags, else the first source that sets them.
_SOURCED = ("ssl_verify", "connect_timeout", "max_retries")


def normalize_endpoint(raw: str) -> str:
    """``https://host[/prefix][/api[/v2]][/]`` → ``https://host[/prefix]/api/v2``."""
    try:
        parts = urlsplit(raw.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"DataRobot endpoint {raw!r} is not a valid http(s) URL; set DATAROBOT_ENDPOINT to e.g. "
            "https://app.datarobot.com/api/v2"
        )
    if parts.username or parts.password:
        raise ConfigError("put the DataRobot token in DATAROBOT_API_TOKEN, not in the endpoint URL")
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path += "/v2"
    elif not path.endswith("/api/v2"):
        path += "/api/v2"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _read_drconfig(
    config_path: Path | None, env: Mapping[str, str]
) -> tuple[dict[str, Any], str, bool]:
    """The drconfig.yaml's values, how to name it, and whether it was named explicitly."""
    explicit = config_path or (
        Path(env["DATAROBOT_CONFIG_FILE"]) if env.get("DATAROBOT_CONFIG_FILE") else None
    )
    path = (explicit or DRCONFIG_PATH).expanduser()
    name = f"config file {path}"
    if not path.is_file():
        if explicit is not None:
            raise ConfigError(
                f"DataRobot config file {path} does not exist; fix the path or unset DATAROBOT_CONFIG_FILE"
            )
        return {}, name, False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {name}: {type(exc).__name__}; fix its YAML") from None
    if data is None:
        return {}, name, explicit is not None
    if not isinstance(data, dict):
        raise ConfigError(f"{name} must be a YAML mapping with keys endpoint, token, ssl_verify")
    for key in ("endpoint", "token", "token_type"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ConfigError(f"`{key}` in {name} must be a string")
    return data, name, explicit is not None


def _first(key: str, sources: list[tuple[str, Mapping[str, Any]]]) -> tuple[Any, str]:
    for name, values in sources:
        value = values.get(key)
        if value is not None and str(value).strip() != "":
            return str(value).strip(), name
    return None, ""


def _first_set(*values: Any) -> Any:
    return next((v for v in values if v is not None and v != ""), None)


def _ssl_verify(raw: Any) -> bool | str:
    if raw is None or isinstance(raw, bool):
        return True if raw is None else raw
    text = str(raw).strip()
    if text.lower() in _FALSE_WORDS:
        return False
    if text.lower() in _TRUE_WORDS:
        return True
    path = Path(text).expanduser()
    if not path.exists():
        raise ConfigError(
            f"ssl_verify {text!r} is neither true/false nor an existing CA bundle path; "
            "set DATAROBOT_SSL_VERIFY to true, false or the path of a CA bundle"
        )
    return str(path)


def _auth_scheme(raw: Any) -> str:
    if raw is None:
        return "Bearer"
    if str(raw).lower() not in ("bearer", "token"):
        raise ConfigError(f"token_type must be Bearer or Token, not {raw!r}")
    return str(raw).capitalize()


def _tuning(flags: Mapping[str, Any]) -> dict[str, Any]:
    kinds: dict[str, type[int] | type[float]] = {
        "connect_timeout": float,
        "read_timeout": float,
        "max_retries": int,
        "max_retry_time": float,
        "page_size": int,
        "async_timeout": float,
    }
    out: dict[str, Any] = {}
    for name, kind in kinds.items():
        raw = flags.get(name)
        if raw is None or raw == "":
            continue
        try:
            if isinstance(raw, bool):
                raise ValueError(raw)
            out[name] = kind(raw)
        except ValueError:
            raise ConfigError(
                f"API setting {name} must be a {kind.__name__}, not {raw!r}"
            ) from None
    return out


def api_settings_from_environment() -> ApiSettings:
    """Convenience for the CLI: no flags, the process environment, the default file."""
    return load_api_settings({}, dict(os.environ), None)


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

    def __post_init__(self) -> None:
        for target in self.targets:
            kind, _, name = target.partition("/")
            if kind not in TARGET_KINDS or not name:
                raise ConfigError(
                    f"--target {target!r} is not KIND/NAME: give e.g. CustomModel/fraud-detector "
                    "or CustomJob/nightly-retrain (the kind and metadata.name of a manifest)"
                )
        if self.targets and self.prune:
            raise ConfigError(
                "--target cannot be combined with --prune: pruning deletes the owned objects "
                "no manifest declares, which a run limited to some objects cannot judge. Prune "
                "in a run without --target"
            )
        if not 1 <= self.concurrency <= 64:
            raise ConfigError(f"--concurrency must be between 1 and 64, not {self.concurrency}")
        if self.max_deletions < 0:
            raise ConfigError(f"--max-deletions must be 0 or more, not {self.max_deletions}")
        if self.path.startswith("/") or ".." in Path(self.path).parts:
            raise ConfigError(f"--path must be a folder inside the repository, not {self.path!r}")
        for name in self.trusted_creators:
            if not name.strip() or any(ord(c) < 32 for c in name):
                raise ConfigError(f"--trusted-creator must be a DataRobot username, not {name!r}")
