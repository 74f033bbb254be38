"""Git credentials from settings, handed to git through its environment only.

- HTTPS token: an ``Authorization: Basic`` header limited to the remote's
  ``scheme://host[:port]/`` (``http.<url>.extraHeader``), passed as ``GIT_CONFIG_COUNT`` /
  ``GIT_CONFIG_KEY_n`` / ``GIT_CONFIG_VALUE_n`` (git 2.31+). It never lands in
  ``.git/config``, on a command line (so not in process listings), in a URL or in a log.
  ``credential.helper`` is emptied for these processes so no helper stores our token or
  offers the user's own credentials instead. A token written in the URL itself
  (``https://user:token@host/...``) is used the same way and removed from the URL.
- SSH: ``GIT_SSH_COMMAND`` with ``-i <key> -o IdentitiesOnly=yes``, the known-hosts file and
  host key policy, and ``BatchMode=yes`` so ssh never prompts.

Every secret is registered with the log redactor and scrubbed from git's messages.
"""

from __future__ import annotations

import base64
import ipaddress
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from controller import logs
from controller.errors import ConfigError
from controller.settings import GitSettings
from controller.sources.remotes import RemoteUrl

log = logs.get_logger(__name__)


@dataclass(frozen=True)
class GitCredentials:
    """Environment variables that authenticate git, and the secrets they contain."""

    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    kind: str = "none"


def credentials_for(
    remote: RemoteUrl | None, settings: GitSettings, environ: Mapping[str, str]
) -> GitCredentials:
    """The credentials git needs to reach ``remote`` (none for file URLs or no remote)."""
    if remote is None or remote.scheme == "file":
        return GitCredentials()
    if remote.is_http:
        return _http_credentials(remote, settings, environ)
    if remote.scheme == "ssh":
        return _ssh_credentials(settings)
    return GitCredentials()


def _http_credentials(
    remote: RemoteUrl, settings: GitSettings, environ: Mapping[str, str]
) -> GitCredentials:
    if settings.https_token:
        username, token = settings.https_username, settings.https_token
    elif remote.password:
        username, token = remote.username or settings.https_username, remote.password
    else:
        return GitCredentials()
    if remote.scheme == "http" and not _is_loopback(remote.host):
        log.warning("git_token_over_plain_http", host=remote.host)
    basic = base64.b64encode(f"{username}:{token}".encode()).decode("ascii")
    header = f"Authorization: Basic {basic}"
    env = config_env(
        environ,
        [
            (f"http.{remote.auth_scope}.extraHeader", header),
            ("credential.helper", ""),
        ],
    )
    secrets = (token, basic, header)
    logs.redactor.register(*secrets)
    return GitCredentials(env=env, secrets=secrets, kind="https-token")


def _ssh_credentials(settings: GitSettings) -> GitCredentials:
    key, known_hosts = settings.ssh_key_path, settings.ssh_known_hosts
    if key is None and known_hosts is None and settings.ssh_host_key_checking is None:
        return GitCredentials()
    command = [settings.ssh_program, "-o", "BatchMode=yes"]
    if key is not None:
        if not key.is_file():
            raise ConfigError(f"the ssh key {key} does not exist or is not a file")
        command += ["-i", str(key), "-o", "IdentitiesOnly=yes"]
    if known_hosts is not None:
        command += ["-o", f"UserKnownHostsFile={known_hosts}"]
    if settings.ssh_host_key_checking is not None:
        command += ["-o", f"StrictHostKeyChecking={settings.ssh_host_key_checking}"]
    env = {"GIT_SSH_COMMAND": shlex.join(command), "GIT_SSH_VARIANT": "ssh"}
    return GitCredentials(env=env, kind="ssh-key" if key else "ssh")


def config_env(environ: Mapping[str, str], entries: list[tuple[str, str]]) -> dict[str, str]:
    """``GIT_CONFIG_*`` variables adding ``entries`` after any the environment already has."""
    try:
        start = int(environ.get("GIT_CONFIG_COUNT", "0") or "0")
    except ValueError:
        start = 0
    env = {"GIT_CONFIG_COUNT": str(start + len(entries))}
    for offset, (key, value) in enumerate(entries):
        env[f"GIT_CONFIG_KEY_{start + offset}"] = key
        env[f"GIT_CONFIG_VALUE_{start + offset}"] = value
    return env


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
