"""Authentication: Bearer or Token with the server's token; 401 JSON otherwise."""

from __future__ import annotations

import pytest
import requests


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_both_schemes_are_accepted(emulator, scheme):
    answer = requests.get(
        f"{emulator.api_url}/account/info/",
        headers={"Authorization": f"{scheme} {emulator.token}"},
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.json()["username"] == "gitops-bot@example.com"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", "Basic emulator-token", "emulator-token", "Bearer"],
)
def test_missing_or_wrong_token_is_a_401_with_a_json_body(emulator, header):
    headers = {"Authorization": header} if header else {}
    answer = requests.get(f"{emulator.api_url}/customModels/", headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/json"
    assert "message" in answer.json()


def test_admin_routes_need_no_token(emulator):
    assert requests.get(f"{emulator.url}/__emulator__/stats", timeout=5).status_code == 200


def test_account_info_describes_the_token_owner(emulator_api):
    info = emulator_api.get("account/info/").json()
    assert info == {
        "uid": "650000000000000000000001",
        "username": "gitops-bot@example.com",
        "email": "gitops-bot@example.com",
        "firstName": "GitOps",
        "lastName": "Bot",
        "orgId": "6500000000000000000000f1",
    }
