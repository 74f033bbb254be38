"""The git settings group: environment variables, defaults, validation, secrecy."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.cli.configuration import default_cache_dir, git_settings_from
from controller.errors import ConfigError
from controller.settings import GitSettings


def test_settings_come_from_dr_gitops_variables_and_flags_win() -> None:
    env = {
        "HOME": "/home/ci",
        "DR_GITOPS_GIT_TOKEN": "tok-123456",
        "DR_GITOPS_GIT_USERNAME": "oauth2",
        "DR_GITOPS_SSH_KEY": "/keys/deploy",
        "DR_GITOPS_SSH_STRICT_HOST_KEY_CHECKING": "accept-new",
        "DR_GITOPS_COMMIT_URL_TEMPLATE": "https://git.example/{path}/c/{sha}",
        "DR_GITOPS_NAMESPACE": "from-env",
    }
    settings = git_settings_from(env, repo="https://x/r.git", ref="main", namespace="flag")
    assert settings.repo == "https://x/r.git"
    assert settings.ref == "main"
    assert settings.https_token == "tok-123456"
    assert settings.https_username == "oauth2"
    assert settings.ssh_key_path == Path("/keys/deploy")
    assert settings.ssh_host_key_checking == "accept-new"
    assert settings.namespace == "flag"
    assert settings.cache_dir == Path("/home/ci/.cache/dr-gitops")
    assert "tok-123456" not in repr(settings)


def test_the_cache_follows_xdg_and_can_be_set() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/xdg", "HOME": "/h"}) == Path("/xdg/dr-gitops")
    env = {"HOME": "/h", "DR_GITOPS_CACHE_DIR": "/var/cache/gitops"}
    assert git_settings_from(env).cache_dir == Path("/var/cache/gitops")


def test_a_bad_host_key_policy_is_refused() -> None:
    with pytest.raises(ConfigError, match="yes, accept-new or no"):
        git_settings_from({"HOME": "/h", "DR_GITOPS_SSH_STRICT_HOST_KEY_CHECKING": "maybe"})


@pytest.mark.parametrize(
    "values", [{"clone_depth": 0}, {"fetch_deepen": 0}, {"network_timeout_seconds": 0}]
)
def test_nonsensical_numbers_are_refused(values: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        GitSettings(**values)  # type: ignore[arg-type]
