"""Proxies and the CA bundle come from the environment at the edge, as requests would read
them, and reach the client's session as values."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from controller.cli.drconfig import environment_proxies, load_api_settings
from controller.remote.transport import prepare_session

ENDPOINT = "https://app.example.com/api/v2"
CASES = [
    {},
    {"HTTPS_PROXY": "http://proxy:3128"},
    {"https_proxy": "http://lower:3128", "HTTPS_PROXY": "http://upper:3128"},
    {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "*"},
    {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "example.com"},
    {"HTTPS_PROXY": "http://proxy:3128", "no_proxy": ".example.com,localhost"},
    {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "other.org"},
    {"ALL_PROXY": "socks5://proxy:1080", "HTTP_PROXY": "http://p:1"},
    {"HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "app.example.com:443"},
]
IP_CASES = [
    ("https://10.1.2.3/api/v2", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}),
    ("https://10.1.2.3/api/v2", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.1.2.3"}),
    ("https://192.168.1.1/api/v2", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}),
    ("http://127.0.0.1:8080/api/v2", {"HTTP_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1"}),
]


def _requests_would(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, env: dict[str, str]
) -> dict[str, str]:
    for name in [n for n in os.environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    found = requests.utils.get_environ_proxies(endpoint)
    return {k: v for k, v in found.items() if k != "no"}


@pytest.mark.parametrize("env", CASES)
def test_the_proxies_are_the_ones_requests_would_read(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _requests_would(monkeypatch, ENDPOINT, env)
    assert dict(environment_proxies(ENDPOINT, env)) == expected


@pytest.mark.parametrize(("endpoint", "env"), IP_CASES)
def test_no_proxy_takes_addresses_and_networks_as_requests_does(
    endpoint: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _requests_would(monkeypatch, endpoint, env)
    assert dict(environment_proxies(endpoint, env)) == expected


def test_the_session_gets_the_proxies_and_the_bundle_of_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("controller.cli.drconfig.DRCONFIG_PATH", tmp_path / "absent.yaml")
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    env = {
        "DATAROBOT_ENDPOINT": ENDPOINT,
        "DATAROBOT_API_TOKEN": "tok",
        "HTTPS_PROXY": "http://proxy:3128",
        "REQUESTS_CA_BUNDLE": str(bundle),
    }
    settings = load_api_settings({}, env)
    assert settings.proxies == (("https", "http://proxy:3128"),)
    assert settings.ca_bundle == str(bundle)
    session = prepare_session(requests.Session(), settings)
    assert session.proxies == {"https": "http://proxy:3128"}
    assert session.verify == str(bundle)
    assert session.trust_env is False
    unverified = prepare_session(
        requests.Session(), load_api_settings({}, {**env, "DATAROBOT_SSL_VERIFY": "false"})
    )
    assert unverified.verify is False
