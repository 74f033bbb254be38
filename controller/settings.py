"""The one place where flags, environment variables and config files meet.

Each part of the controller takes a small frozen settings group as an argument; nothing
deeper reads ``os.environ`` or files on its own. Secrets are kept out of ``repr``.
"""

from __future__ import annotations

import os
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from controller.errors import ConfigError

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
