"""The command-line edge: flags, the environment and files become settings values, here.

This is the one place that reads ``os.environ`` (:func:`environment`): each command reads
it once and hands the mapping to the functions here (and to
:mod:`controller.cli.drconfig` for the DataRobot API). The git, API,
engine and service settings, the CI context, the CA bundle and proxies, the lock folder and
the webhook secret are resolved into frozen values; nothing below the CLI reads the
environment. Secrets are registered with the log redactor as an explicit step
(:func:`register_secrets`), not by the settings themselves. A setting whose value is
impossible is named here by its flag (:func:`flag_named`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.cli.drconfig import load_api_settings
from controller.errors import ConfigError, SettingError
from controller.logs import redactor
from controller.settings import ApiSettings, EngineSettings, GitSettings, LockSettings

if TYPE_CHECKING:
    from controller.sources import CiFacts

# Environment variables of the git settings group (flags win over them).
GIT_TOKEN_ENV = "DR_GITOPS_GIT_TOKEN"  # noqa: S105 (the variable's name, not a token)
GIT_USERNAME_ENV = "DR_GITOPS_GIT_USERNAME"
GIT_SSH_KEY_ENV = "DR_GITOPS_SSH_KEY"
GIT_SSH_KNOWN_HOSTS_ENV = "DR_GITOPS_SSH_KNOWN_HOSTS"
GIT_SSH_HOST_KEY_CHECKING_ENV = "DR_GITOPS_SSH_STRICT_HOST_KEY_CHECKING"
GIT_CACHE_DIR_ENV = "DR_GITOPS_CACHE_DIR"
GIT_COMMIT_URL_TEMPLATE_ENV = "DR_GITOPS_COMMIT_URL_TEMPLATE"
NAMESPACE_ENV = "DR_GITOPS_NAMESPACE"
TRUSTED_CREATORS_ENV = "DR_GITOPS_TRUSTED_CREATORS"
# Names of environment variables, not secrets.
WEBHOOK_SECRET_ENV = "DR_GITOPS_WEBHOOK_SECRET"  # noqa: S105
WEBHOOK_SECRET_FILE_ENV = "DR_GITOPS_WEBHOOK_SECRET_FILE"  # noqa: S105

# What the command line calls each setting (settings fields → flags), for SettingError.
FLAGS = {
    "targets": "--target",
    "prune": "--prune",
    "concurrency": "--concurrency",
    "max_deletions": "--max-deletions",
    "path": "--path",
    "trusted_creators": "--trusted-creator",
    "interval_seconds": "--interval",
    "jitter_seconds": "--jitter",
    "shutdown_grace_seconds": "--shutdown-grace",
    "lock_ttl_seconds": "--lock-ttl",
    "http_connection_limit": "--connection-limit",
    "http_channel_timeout_seconds": "--channel-timeout",
    "webhook_min_interval_seconds": "--webhook-min-interval",
    "readiness_window_seconds": "--readiness-window",
    "listen_port": "--listen port",
    "probe_port": "--probe-listen port",
    "ttl_seconds": "--lock-ttl",
    "directory": "--lock-dir",
}


def flag_named(error: SettingError) -> ConfigError:
    """``error`` as the command line says it: settings called by their flags."""
    return ConfigError(error.naming(FLAGS))


def environment() -> dict[str, str]:
    """This process's environment, read once per command."""
    return dict(os.environ)


# --- git ------------------------------------------------------------------------------


def git_settings(
    args: argparse.Namespace, env: Mapping[str, str], *, ref: str | None = None
) -> GitSettings:
    """The git settings of a command's flags, else the ``DR_GITOPS_*`` variables."""
    return git_settings_from(
        env,
        repo=getattr(args, "repo", None),
        ref=ref or getattr(args, "ref", None),
        cache_dir=getattr(args, "cache_dir", None),
        commit_url_template=getattr(args, "commit_url_template", None),
        namespace=getattr(args, "namespace", None),
    )


def git_settings_from(
    env: Mapping[str, str],
    *,
    repo: str | None = None,
    ref: str | None = None,
    cache_dir: Path | None = None,
    commit_url_template: str | None = None,
    namespace: str | None = None,
) -> GitSettings:
    """Settings from the ``DR_GITOPS_*`` variables; the keyword flags win when given."""

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
    return GitSettings(
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


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """Where clones of remote repositories live: ``$XDG_CACHE_HOME/dr-gitops``
    (``~/.cache/dr-gitops``)."""
    home = env.get("HOME") or str(Path.home())
    return Path(env.get("XDG_CACHE_HOME") or Path(home) / ".cache") / "dr-gitops"


def ci_context(env: Mapping[str, str]) -> CiFacts | None:
    """What the CI system (GitHub Actions, GitLab CI) says about the commit being built,
    from ``env`` and the GitHub event payload; None outside CI."""
    # Imported when asked: resolving settings needs none of git's modules (a quicker start).
    from controller.sources import load_github_event, read_ci

    return read_ci(env, load_github_event(env))


# --- DataRobot ------------------------------------------------------------------------


def api_settings(args: argparse.Namespace, env: Mapping[str, str]) -> ApiSettings:
    """The API settings from the flags, a drconfig.yaml and the environment (see
    :func:`controller.cli.drconfig.load_api_settings`); the token is registered with the
    log redactor as soon as it is read."""
    flags: dict[str, str | None] = {"endpoint": args.endpoint, "token": None}
    for name in ("connect_timeout", "max_retries"):
        value = getattr(args, name, None)
        flags[name] = None if value is None else str(value)
    if args.token_file is not None:
        try:
            flags["token"] = args.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read --token-file {args.token_file}: {exc.strerror}"
            ) from None
        if not flags["token"]:
            raise ConfigError(f"--token-file {args.token_file} is empty; put the API token in it")
        redactor.register(flags["token"])
    return load_api_settings(flags, env, args.drconfig)


def register_secrets(*secrets: str | None) -> None:
    """Register secrets (tokens, the webhook secret) with the log redactor: the explicit
    step every command takes once its settings are resolved, before anything is logged."""
    redactor.register(*secrets)


# --- engine ---------------------------------------------------------------------------


def trusted_creators(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[str, ...]:
    """``--trusted-creator`` (repeatable), else ``$DR_GITOPS_TRUSTED_CREATORS`` (commas)."""
    given = list(getattr(args, "trusted_creator", None) or [])
    if not given:
        given = env.get(TRUSTED_CREATORS_ENV, "").split(",")
    return tuple(dict.fromkeys(name.strip() for name in given if name.strip()))


def engine_settings(
    args: argparse.Namespace, env: Mapping[str, str], **overrides: Any
) -> EngineSettings:
    values: dict[str, Any] = {
        "path": args.path,
        "concurrency": args.concurrency,
        "allow_dirty": getattr(args, "allow_dirty", False),
        "targets": tuple(getattr(args, "target", None) or ()),
        "trusted_creators": trusted_creators(args, env),
    }
    for name in ("prune", "max_deletions", "allow_empty", "allow_deployment_deletion"):
        if hasattr(args, name):
            values[name] = getattr(args, name)
    values.update(overrides)
    return EngineSettings(**values)


# --- service and the namespace lock ---------------------------------------------------


def parse_listen(value: str, *, flag: str = "--listen") -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8080`` for IPv6, ``:8080`` for all interfaces) → (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"{flag} must be HOST:PORT, e.g. 127.0.0.1:8080 (got {value!r})")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host or "0.0.0.0", int(port)  # noqa: S104 (an empty host asks for all interfaces)


def read_secret_file(path: Path, what: str) -> str:
    """The content of the ``what`` file ``path``, without surrounding whitespace. Errors
    name the file, never its content."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the {what} file {path}: {exc.__class__.__name__}; "
            "check the path and that the file is readable by this user"
        ) from None


def read_webhook_secret(secret_file: Path | None, env: Mapping[str, str]) -> str | None:
    """The webhook secret: from ``secret_file`` (or ``$DR_GITOPS_WEBHOOK_SECRET_FILE``),
    else ``$DR_GITOPS_WEBHOOK_SECRET``; ``None`` when neither is set (webhooks disabled).

    Surrounding whitespace (a file's trailing newline) is dropped. Errors name the file,
    never its content.
    """
    path = secret_file or (
        Path(env[WEBHOOK_SECRET_FILE_ENV]) if env.get(WEBHOOK_SECRET_FILE_ENV) else None
    )
    if path is not None:
        secret = read_secret_file(path, "webhook secret")
        if not secret:
            raise ConfigError(f"the webhook secret file {path} is empty")
        return secret
    return env.get(WEBHOOK_SECRET_ENV, "").strip() or None


def lock_settings(args: argparse.Namespace, env: Mapping[str, str]) -> LockSettings:
    """The namespace lock of ``--lock``, ``--lock-ttl``, ``--lock-dir`` (else
    :func:`default_lock_dir`), ``--no-wait`` and ``--lock-timeout``."""
    return LockSettings(
        store=args.lock,
        ttl_seconds=args.lock_ttl,
        directory=args.lock_dir or default_lock_dir(env),
        wait=not args.no_wait,
        timeout_seconds=args.lock_timeout,
        trusted_creators=trusted_creators(args, env),
    )


def default_lock_dir(env: Mapping[str, str]) -> Path:
    """Where file-based namespace locks live by default: ``$XDG_STATE_HOME/dr-gitops/locks``
    (``~/.local/state/dr-gitops/locks``)."""
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "dr-gitops" / "locks"
