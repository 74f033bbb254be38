"""API settings are read as the official DataRobot client reads them, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.cli.drconfig import load_api_settings, normalize_endpoint
from controller.errors import ConfigError
from controller.logs import redactor
from controller.settings import ApiSettings

TOKEN = "s3cr3t-token-value-0123"
ENV = {"DATAROBOT_ENDPOINT": "https://env.example.com", "DATAROBOT_API_TOKEN": TOKEN}


def _drconfig(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "drconfig.yaml"
    path.write_text(text)
    return path


@pytest.fixture
def no_file(tmp_path: Path) -> Path:
    return tmp_path / "missing-home" / "drconfig.yaml"


def test_environment_gives_endpoint_and_token(tmp_path: Path) -> None:
    settings = load_api_settings({}, ENV, _drconfig(tmp_path, ""))
    assert settings.endpoint == "https://env.example.com/api/v2"
    assert settings.token == TOKEN
    assert settings.ssl_verify is True
    assert settings.user_agent.startswith("dr-gitops/")


def test_flags_win_over_environment_and_file(tmp_path: Path) -> None:
    path = _drconfig(tmp_path, "endpoint: https://file.example.com\ntoken: file-token\n")
    flags = {"endpoint": "https://flag.example.com/api/v2/", "token": "flag-token"}
    settings = load_api_settings(flags, ENV, path)
    assert (settings.endpoint, settings.token) == ("https://flag.example.com/api/v2", "flag-token")


def test_drconfig_file_is_used_when_nothing_else_is_set(tmp_path: Path) -> None:
    path = _drconfig(
        tmp_path,
        "endpoint: https://file.example.com/api/v2\ntoken: file-token\nssl_verify: false\n"
        "token_type: Token\n",
    )
    settings = load_api_settings({}, {}, path)
    assert settings.endpoint == "https://file.example.com/api/v2"
    assert settings.ssl_verify is False
    assert settings.auth_scheme == "Token"


def test_config_file_named_by_environment_is_read(tmp_path: Path) -> None:
    path = _drconfig(tmp_path, "endpoint: https://file.example.com\ntoken: file-token\n")
    settings = load_api_settings({}, {"DATAROBOT_CONFIG_FILE": str(path)}, None)
    assert settings.token == "file-token"


def test_a_config_file_named_explicitly_wins_over_the_environment(tmp_path: Path) -> None:
    # As the official client does: `--drconfig FILE` (or DATAROBOT_CONFIG_FILE) is what the
    # user asked for; the environment's DataRobot must not get the writes instead.
    path = _drconfig(
        tmp_path, "endpoint: https://file.example.com\ntoken: file-token\nssl_verify: false\n"
    )
    for flag, env in ((path, ENV), (None, {**ENV, "DATAROBOT_CONFIG_FILE": str(path)})):
        settings = load_api_settings({}, env, flag)
        assert (settings.endpoint, settings.token) == (
            "https://file.example.com/api/v2",
            "file-token",
        )
        assert settings.ssl_verify is False


def test_the_default_config_file_yields_to_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    default = tmp_path / ".config" / "datarobot" / "drconfig.yaml"
    default.parent.mkdir(parents=True)
    default.write_text("endpoint: https://file.example.com\ntoken: file-token\n")
    monkeypatch.setattr("controller.cli.drconfig.DRCONFIG_PATH", default)
    settings = load_api_settings({}, ENV, None)
    assert (settings.endpoint, settings.token) == ("https://env.example.com/api/v2", TOKEN)


def test_endpoint_and_token_from_different_sources_are_refused(tmp_path: Path) -> None:
    path = _drconfig(tmp_path, "token: file-token\n")
    with pytest.raises(ConfigError, match="give both in one place"):
        load_api_settings({}, {"DATAROBOT_ENDPOINT": "https://env.example.com"}, path)


def test_missing_token_names_what_to_set(tmp_path: Path) -> None:
    env = {"DATAROBOT_ENDPOINT": "https://env.example.com"}
    with pytest.raises(ConfigError) as caught:
        load_api_settings({}, env, _drconfig(tmp_path, ""))
    assert "no DataRobot API token configured" in str(caught.value)
    assert "DATAROBOT_API_TOKEN" in str(caught.value)


def test_nothing_configured_names_both_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        load_api_settings({}, {}, None)
    message = str(caught.value)
    assert "DATAROBOT_ENDPOINT" in message
    assert "DATAROBOT_API_TOKEN" in message
    assert "endpoint and token" in message
    # Printed through the redactor, the message stays whole ("token configured" is prose).
    assert redactor.scrub(message) == message
    assert (
        redactor.scrub("Authorization: Bearer abc123def456") == "Authorization: Bearer [REDACTED]"
    )


def test_explicit_config_path_that_does_not_exist_is_an_error(no_file: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_api_settings({}, {}, no_file)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("endpoint: [unclosed\n", "fix its YAML"),
        ("- a list\n", "YAML mapping"),
        ("endpoint: https://x.example.com\ntoken: 12345\n", "`token`"),
    ],
)
def test_malformed_drconfig_is_a_clear_error(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        load_api_settings({}, {}, _drconfig(tmp_path, text))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://app.datarobot.com", "https://app.datarobot.com/api/v2"),
        ("https://app.datarobot.com/", "https://app.datarobot.com/api/v2"),
        ("https://app.datarobot.com/api", "https://app.datarobot.com/api/v2"),
        ("https://app.datarobot.com/api/v2/", "https://app.datarobot.com/api/v2"),
        ("http://127.0.0.1:8080/prefix/api/v2", "http://127.0.0.1:8080/prefix/api/v2"),
        ("  https://x.example.com/api/v2?q=1  ", "https://x.example.com/api/v2"),
    ],
)
def test_endpoint_is_normalised_to_end_in_api_v2(raw: str, expected: str) -> None:
    assert normalize_endpoint(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "app.datarobot.com",
        "ftp://x.example.com",
        "https://",
        "http://[::1",  # urlsplit raises ValueError
        "http://127.0.0.1:99999",  # a port out of range
        "http://x.example.com:port/",
    ],
)
def test_an_endpoint_that_is_not_an_http_url_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="DATAROBOT_ENDPOINT"):
        normalize_endpoint(raw)


def test_credentials_in_the_endpoint_url_are_refused() -> None:
    with pytest.raises(ConfigError, match="DATAROBOT_API_TOKEN"):
        normalize_endpoint("https://user:pw@x.example.com")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("false", False), ("0", False), ("No", False), ("true", True), ("1", True)],
)
def test_ssl_verify_reads_booleans_from_the_environment(
    tmp_path: Path, raw: str, expected: bool
) -> None:
    env = {**ENV, "DATAROBOT_SSL_VERIFY": raw}
    assert load_api_settings({}, env, _drconfig(tmp_path, "")).ssl_verify is expected


def test_ssl_verify_may_name_a_ca_bundle(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    env = {**ENV, "DATAROBOT_SSL_VERIFY": str(bundle)}
    assert load_api_settings({}, env, _drconfig(tmp_path, "")).ssl_verify == str(bundle)


def test_ssl_verify_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    env = {**ENV, "DATAROBOT_SSL_VERIFY": str(tmp_path / "nope.pem")}
    with pytest.raises(ConfigError, match="DATAROBOT_SSL_VERIFY"):
        load_api_settings({}, env, _drconfig(tmp_path, ""))


def test_tuning_flags_are_read_and_checked(tmp_path: Path) -> None:
    flags = {"read_timeout": "12.5", "max_retries": "2", "page_size": "500"}
    settings = load_api_settings(flags, ENV, _drconfig(tmp_path, ""))
    assert (settings.read_timeout, settings.max_retries, settings.page_size) == (12.5, 2, 500)
    with pytest.raises(ConfigError, match="max_retries must be a int"):
        load_api_settings({"max_retries": "many"}, ENV, _drconfig(tmp_path, ""))
    with pytest.raises(ConfigError, match="page_size"):
        load_api_settings({"page_size": "5000"}, ENV, _drconfig(tmp_path, ""))


def test_token_stays_out_of_repr_and_is_registered_for_redaction(tmp_path: Path) -> None:
    settings = load_api_settings({}, ENV, _drconfig(tmp_path, ""))
    assert TOKEN not in repr(settings)
    assert TOKEN not in redactor.scrub(f"header was Authorization: {TOKEN}")


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="DATAROBOT_API_TOKEN"):
        ApiSettings(endpoint="https://x.example.com/api/v2", token="")


def test_connect_timeout_and_max_retries_are_read_from_drconfig_like_the_official_client(
    tmp_path: Path,
) -> None:
    path = _drconfig(
        tmp_path,
        "endpoint: https://file.example.com\ntoken: file-token\nconnect_timeout: 3\nmax_retries: 1\n",
    )
    settings = load_api_settings({}, {}, path)
    assert (settings.connect_timeout, settings.max_retries) == (3.0, 1)
    # Flags win over the file; DATAROBOT_MAX_RETRIES is the official client's variable.
    flags = {"connect_timeout": "2.5", "max_retries": "0"}
    assert load_api_settings(flags, {}, path).connect_timeout == 2.5
    assert load_api_settings(flags, {}, path).max_retries == 0
    env = {**ENV, "DATAROBOT_MAX_RETRIES": "4"}
    assert load_api_settings({}, env, _drconfig(tmp_path, "")).max_retries == 4


def test_a_drconfig_tuning_value_of_the_wrong_type_is_a_clear_error(tmp_path: Path) -> None:
    path = _drconfig(
        tmp_path, "endpoint: https://file.example.com\ntoken: file-token\nmax_retries: lots\n"
    )
    with pytest.raises(ConfigError, match="max_retries must be a int, not 'lots'"):
        load_api_settings({}, {}, path)
