"""The emulator as a server: start, addresses, stop, context manager, CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from emulator.cli import main
from emulator.server import EmulatorServer


def test_server_listens_on_a_free_port_and_stops():
    server = EmulatorServer(port=0, token="t0k")
    server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.api_url == server.url + "/api/v2"
        assert server.token == "t0k"
        answer = requests.get(
            f"{server.api_url}/version/", headers={"Authorization": "Bearer t0k"}, timeout=5
        )
        assert answer.status_code == 200
    finally:
        server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.api_url}/version/", timeout=2)


def test_server_is_a_context_manager():
    with EmulatorServer() as server:
        answer = requests.get(f"{server.url}/__emulator__/", timeout=5)
        assert "GET /__emulator__/stats" in answer.json()["routes"]


def test_two_servers_keep_separate_state(emulator):
    with EmulatorServer() as other:
        headers = {"Authorization": f"Bearer {other.token}"}
        requests.post(
            f"{other.api_url}/customModels/",
            json={
                "name": "m",
                "customModelType": "inference",
                "targetType": "Regression",
                "targetName": "y",
            },
            headers=headers,
            timeout=5,
        ).raise_for_status()
        assert len(other.state()["models"]) == 1
    assert emulator.state()["models"] == []


def test_help_lists_the_seeded_users_groups_org_and_environments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for expected in (
        "650000000000000000000001  gitops-bot@example.com",
        "6500000000000000000000a1  ml-platform",
        "6500000000000000000000f1  Example Org",
        "64d2ba178dd3f0b1fa2162f3  [DataRobot] Python 3.11 PyTorch Drop-In",
        "64d2ba178dd3f0b1fa2163b0",
    ):
        assert expected in out


def test_cli_refuses_a_broken_seed_file(tmp_path, capsys):
    seed = tmp_path / "seed.yaml"
    seed.write_text("users: [{id: nothex, username: a}]\n")
    assert main(["--seed-file", str(seed), "--port", "0"]) == 1
    assert "users[0].id must be 24 lowercase hex digits" in capsys.readouterr().err


def test_cli_serves_until_interrupted(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--token", "abc"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert "dr-emulator serving http://127.0.0.1:" in first
        api_url = first.split()[2]
        answer = requests.get(
            f"{api_url}/version/", headers={"Authorization": "Token abc"}, timeout=5
        )
        assert answer.json()["versionString"].startswith("2.")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
