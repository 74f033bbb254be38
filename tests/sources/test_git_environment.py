"""What git processes get from dr-gitops's environment, and which transports they may use.

git, its hooks, credential helpers and ssh inherit whatever git is started with: the
DataRobot token and the webhook secret must not be part of it. And git's remote helpers
(``fd::17`` waits forever, ``ext::`` runs a command) are refused.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from controller.errors import SourceError
from controller.sources import open_source
from controller.sources.gitrunner import ALLOWED_PROTOCOLS, GitRunner, git_environment
from tests.fixtures.gitrepos import GitRepo, RemoteRepo
from tests.sources.conftest import MakeSettings

SECRETS = {
    "DATAROBOT_API_TOKEN": "dr-api-token-NEVER-IN-GIT",
    "DR_GITOPS_WEBHOOK_SECRET": "webhook-secret-NEVER-IN-GIT",
    "DR_GITOPS_GIT_TOKEN": "git-token-only-as-a-header",
    "SOME_DEPLOYMENT_PASSWORD": "unrelated-secret-NEVER-IN-GIT",
    # The deployment's cloud keys: CodeCommit's helper gets a profile or a role instead.
    "AWS_ACCESS_KEY_ID": "AKIA-NEVER-IN-GIT",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-NEVER-IN-GIT",
    "AWS_SESSION_TOKEN": "aws-session-NEVER-IN-GIT",
}
NEEDED = {
    "SSH_AUTH_SOCK": "/run/agent.sock",
    "AWS_PROFILE": "codecommit",
    "AWS_SHARED_CREDENTIALS_FILE": "/etc/dr-gitops/aws-credentials",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/secrets/eks.amazonaws.com/serviceaccount/token",
    "https_proxy": "http://proxy.example:3128",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes",
    "LC_CTYPE": "C.UTF-8",
}


def _recording_git(tmp_path: Path) -> tuple[str, Path]:
    """A git that appends its environment (NUL-separated, one process per record) to a
    file, then runs the real git."""
    record = tmp_path / "git-env.log"
    real = shutil.which("git")
    assert real
    script = tmp_path / "git"
    script.write_text(
        f"#!/bin/sh\nenv -0 >> '{record}'\nprintf '\\036' >> '{record}'\nexec '{real}' \"$@\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), record


def _environments(record: Path) -> list[dict[str, str]]:
    out = []
    for chunk in record.read_bytes().split(b"\x1e"):
        pairs = [p.decode() for p in chunk.split(b"\0") if b"=" in p]
        if pairs:
            out.append(dict(p.split("=", 1) for p in pairs))
    return out


def _environ() -> dict[str, str]:
    return {**os.environ, **SECRETS, **NEEDED}


def _check(environments: list[dict[str, str]]) -> None:
    assert environments, "the recording git never ran"
    for env in environments:
        for name, value in SECRETS.items():
            assert name not in env
            assert value not in "\0".join(env.values())
        for name, value in NEEDED.items():
            assert env.get(name) == value
        assert env["PATH"] == os.environ["PATH"]
        assert env["GIT_ALLOW_PROTOCOL"] == "file:https:ssh"


def test_git_never_sees_the_datarobot_token_or_the_webhook_secret_in_a_local_repository(
    git_repo: GitRepo, git_settings: MakeSettings, tmp_path: Path
) -> None:
    git_repo.commit("first", {"a.txt": "1\n"})
    git, record = _recording_git(tmp_path)
    with open_source(git_settings(git_repo.path), environ=_environ(), git=git) as source:
        source.changed_paths(source.checkout.sha)
    _check(_environments(record))


def test_git_never_sees_them_when_cloning_a_url(
    remote_repo: RemoteRepo, git_settings: MakeSettings, tmp_path: Path
) -> None:
    remote_repo.work.commit("first", {"a.txt": "1\n"})
    remote_repo.push()
    git, record = _recording_git(tmp_path)
    with open_source(git_settings(remote_repo.url), environ=_environ(), git=git):
        pass
    _check(_environments(record))


def test_the_deployments_aws_keys_stay_with_dr_gitops_while_codecommits_profile_passes() -> None:
    env = git_environment(_environ(), ALLOWED_PROTOCOLS)
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & set(env)
    assert env["AWS_PROFILE"] == "codecommit"
    assert env["AWS_SHARED_CREDENTIALS_FILE"] == "/etc/dr-gitops/aws-credentials"


@pytest.mark.parametrize("repo", ["fd::17", "ext::sh -c touch% /tmp/pwned", "git://host/r.git"])
def test_remote_helpers_and_other_protocols_are_refused_with_a_clear_error(
    repo: str, git_settings: MakeSettings
) -> None:
    with pytest.raises(SourceError, match=r"only https, ssh and file URLs are allowed"):
        open_source(git_settings(repo), environ=dict(os.environ))


def test_git_itself_refuses_other_transports(tmp_path: Path) -> None:
    """A remote configured in the repository (not given on the command line) is checked by
    git: GIT_ALLOW_PROTOCOL covers it, and redirects too. git:// is allowed by git's
    defaults; ext:: only by configuration."""
    runner = GitRunner(os.environ)
    plain = runner.run("ls-remote", "git://127.0.0.1:9/r.git", ok=(0, 1, 128))
    assert "transport 'git' not allowed" in plain.stderr
    mark = tmp_path / "ran"
    command = runner.run(
        "-c", "protocol.ext.allow=always", "ls-remote", f"ext::sh -c touch% {mark}", ok=(0, 128)
    )
    assert "transport 'ext' not allowed" in command.stderr
    assert not mark.exists()
