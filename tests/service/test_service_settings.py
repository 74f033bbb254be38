"""ServiceSettings: validation, --listen, the webhook secret from a file or env."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.cli.configuration import default_lock_dir, parse_listen, read_webhook_secret
from controller.errors import ConfigError
from controller.settings import ServiceSettings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        (":9000", ("0.0.0.0", 9000)),  # noqa: S104 (parsing only, nothing binds)
        ("[::1]:8080", ("::1", 8080)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_listen_addresses_parse(value: str, expected: tuple[str, int]) -> None:
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["8080", "host:", "host:http", ""])
def test_bad_listen_addresses_say_what_is_expected(value: str) -> None:
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_listen(value)


def test_a_branch_name_is_tracked_as_a_full_ref() -> None:
    assert ServiceSettings(ref="main").tracked_ref == "refs/heads/main"
    assert ServiceSettings(ref="refs/tags/v1").tracked_ref == "refs/tags/v1"


def test_the_readiness_window_defaults_to_three_intervals() -> None:
    settings = ServiceSettings(interval_seconds=60, jitter_seconds=5)
    assert settings.readiness_window == 185
    assert ServiceSettings(readiness_window_seconds=10).readiness_window == 10


@pytest.mark.parametrize(
    "changes",
    [
        {"interval_seconds": 0},
        {"jitter_seconds": -1},
        {"listen_port": 70000},
        {"webhook_max_body_bytes": 0},
        {"webhook_secret": "short"},
        {"readiness_window_seconds": 0},
    ],
)
def test_impossible_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ServiceSettings(**changes)  # type: ignore[arg-type]


def test_the_secret_is_not_in_the_repr() -> None:
    assert "s3cret-value" not in repr(ServiceSettings(webhook_secret="s3cret-value"))


def test_the_webhook_secret_file_wins_and_loses_its_newline(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-the-file\n")
    env = {"DR_GITOPS_WEBHOOK_SECRET": "from-the-env"}
    assert read_webhook_secret(secret_file, env) == "from-the-file"
    assert read_webhook_secret(None, env) == "from-the-env"
    assert read_webhook_secret(None, {"DR_GITOPS_WEBHOOK_SECRET_FILE": str(secret_file)}) == (
        "from-the-file"
    )
    assert read_webhook_secret(None, {}) is None


def test_an_unreadable_secret_file_is_named_but_not_shown(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the webhook secret file"):
        read_webhook_secret(tmp_path / "missing", {})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="is empty"):
        read_webhook_secret(empty, {})


def test_locks_live_under_the_state_directory(tmp_path: Path) -> None:
    assert default_lock_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "dr-gitops/locks"
