"""Git credentials: used for real, and never visible in config, URLs, files or errors."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from controller import logs
from controller.errors import ConfigError, SourceError
from controller.sources import open_source
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepos import RemoteRepo
from tests.sources.conftest import MakeSettings

TOKEN = "s3cr3t-token-value"


def _publish(remote_repo: RemoteRepo, server: GitHttpServer) -> str:
    """Copy the bare remote under the HTTP server's root; returns its http URL."""
    remote_repo.work.commit("first", {"models/a.py": "a"})
    remote_repo.push()
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(remote_repo.bare), str(server.root / "models.git")],
        check=True,
    )
    return server.url("models.git")


def _cache_text(cache: Path) -> str:
    chunks = []
    for path in cache.rglob("*"):
        if path.is_file():
            chunks.append(path.read_bytes().decode("latin-1"))
    return "\n".join(chunks)


def test_an_https_token_from_settings_authenticates_and_is_stored_nowhere(
    remote_repo: RemoteRepo,
    git_http_server: GitHttpServer,
    git_settings: MakeSettings,
    tmp_path: Path,
) -> None:
    url = _publish(remote_repo, git_http_server)
    settings = git_settings(url, https_username="ci", https_token=TOKEN)
    with open_source(settings, environ=os.environ) as source:
        assert (source.checkout.root / "models/a.py").read_text() == "a"
        assert source.checkout.remote_url == url
    with open_source(
        settings, environ=os.environ
    ) as source:  # the second open fetches with the same header
        assert source.git_commands["fetch"] == 1
    assert git_http_server.authorizations
    assert all(a == git_http_server.expected for a in git_http_server.authorizations)
    cached = _cache_text(tmp_path / "cache")
    assert TOKEN not in cached
    assert git_http_server.expected.split()[1] not in cached  # nor its base64 form
    assert TOKEN not in repr(settings)


def test_a_token_written_in_the_url_is_used_then_removed_from_it(
    remote_repo: RemoteRepo,
    git_http_server: GitHttpServer,
    git_settings: MakeSettings,
    tmp_path: Path,
) -> None:
    url = _publish(remote_repo, git_http_server)
    with_token = url.replace("http://", f"http://ci:{TOKEN}@")
    with open_source(git_settings(with_token), environ=os.environ) as source:
        assert source.checkout.remote_url == url
        assert source.checkout.ref_name == "main"
    assert TOKEN not in _cache_text(tmp_path / "cache")


def test_a_wrong_token_fails_with_an_error_that_does_not_show_it(
    remote_repo: RemoteRepo, git_http_server: GitHttpServer, git_settings: MakeSettings
) -> None:
    url = _publish(remote_repo, git_http_server)
    wrong = "wrong-token-0123456789"
    with pytest.raises(SourceError) as caught:
        open_source(git_settings(url, https_username="ci", https_token=wrong), environ=os.environ)
    message = str(caught.value)
    assert "cloning" in message
    assert "credentials" in message
    assert wrong not in message
    assert TOKEN not in message


@pytest.mark.parametrize("where", ["settings", "url"])
def test_an_https_url_that_cannot_be_reached_never_shows_the_token(
    git_settings: MakeSettings, where: str
) -> None:
    secret = "ghp_NeverShowThis0123456789"
    if where == "url":
        settings = git_settings(f"https://x-access-token:{secret}@127.0.0.1:9/acme/models.git")
    else:
        settings = git_settings("https://127.0.0.1:9/acme/models.git", https_token=secret)
    with pytest.raises(SourceError) as caught:
        open_source(settings, environ=os.environ)
    text = f"{caught.value} {caught.value!r} {caught.value.args}"
    assert secret not in text
    assert "127.0.0.1" in text


def test_registered_tokens_are_redacted_from_logs(
    remote_repo: RemoteRepo, git_http_server: GitHttpServer, git_settings: MakeSettings
) -> None:
    url = _publish(remote_repo, git_http_server)
    with open_source(git_settings(url, https_username="ci", https_token=TOKEN), environ=os.environ):
        pass
    assert logs.redactor.scrub(f"oops {TOKEN} leaked") == f"oops {logs.REDACTED} leaked"


def test_the_token_is_not_on_any_git_command_line(
    remote_repo: RemoteRepo,
    git_http_server: GitHttpServer,
    git_settings: MakeSettings,
    tmp_path: Path,
) -> None:
    url = _publish(remote_repo, git_http_server)
    spy = tmp_path / "bin" / "git"
    spy.parent.mkdir()
    record = tmp_path / "argv.log"
    spy.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {record}\nexec git "$@"\n')
    spy.chmod(spy.stat().st_mode | stat.S_IXUSR)
    settings = git_settings(url, https_username="ci", https_token=TOKEN)
    with open_source(settings, git=str(spy), environ=os.environ):
        pass
    argv = record.read_text()
    assert "clone" in argv
    assert TOKEN not in argv
    assert git_http_server.expected.split()[1] not in argv


def test_an_ssh_key_is_passed_with_identities_only_and_the_host_key_policy(
    remote_repo: RemoteRepo, git_settings: MakeSettings, tmp_path: Path
) -> None:
    remote_repo.work.commit("first", {"a.py": "a"})
    remote_repo.push()
    key = tmp_path / "deploy_key"
    key.write_text("not a real key\n")
    known_hosts = tmp_path / "known_hosts"
    record = tmp_path / "ssh-argv.log"
    fake_ssh = tmp_path / "fake-ssh"
    # Records its arguments, then runs the remote command locally, as sshd would.
    fake_ssh.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\nfor last; do :; done\nexec sh -c "$last"\n'
    )
    fake_ssh.chmod(0o755)
    url = f"ssh://git@git.example.invalid{remote_repo.bare}"
    settings = git_settings(
        url,
        ssh_key_path=key,
        ssh_known_hosts=known_hosts,
        ssh_host_key_checking="yes",
        ssh_program=str(fake_ssh),
    )
    with open_source(settings, environ=os.environ) as source:
        assert (source.checkout.root / "a.py").read_text() == "a"
        assert source.checkout.remote_url == url
    args = record.read_text().splitlines()
    assert args[args.index("-i") + 1] == str(key)
    assert "IdentitiesOnly=yes" in args
    assert "BatchMode=yes" in args
    assert f"UserKnownHostsFile={known_hosts}" in args
    assert "StrictHostKeyChecking=yes" in args
    assert "git@git.example.invalid" in args


def test_a_missing_ssh_key_is_a_configuration_error(
    git_settings: MakeSettings, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        open_source(
            git_settings("git@github.com:acme/r.git", ssh_key_path=tmp_path / "none"),
            environ=os.environ,
        )


def test_existing_git_config_variables_in_the_environment_are_kept(
    remote_repo: RemoteRepo, git_http_server: GitHttpServer, git_settings: MakeSettings
) -> None:
    url = _publish(remote_repo, git_http_server)
    environ = {
        **os.environ,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.userAgent",
        "GIT_CONFIG_VALUE_0": "dr-gitops-test",
    }
    settings = git_settings(url, https_username="ci", https_token=TOKEN)
    with open_source(settings, environ=environ) as source:
        assert source.checkout.ref_name == "main"
    assert set(git_http_server.user_agents) == {"dr-gitops-test"}
    assert all(a == git_http_server.expected for a in git_http_server.authorizations)
