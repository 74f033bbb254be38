"""Fault injection: scripted and random errors, latency, dropped connections, before/after."""

from __future__ import annotations

import time

import pytest
import requests

MODEL = {"name": "m", "customModelType": "inference", "targetType": "Regression", "targetName": "y"}


def _models(emulator_api):
    return emulator_api.get("customModels/").json()["data"]


def test_a_scripted_fault_fires_on_the_next_matching_request_only(emulator_api):
    script = [{"method": "GET", "route": "/api/v2/version/", "status": 503, "times": 2}]
    emulator_api.admin("PUT", "faults", json={"script": script}).raise_for_status()
    statuses = [emulator_api.get("version/").status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_a_fault_before_the_change_leaves_the_state_alone(emulator_api):
    script = [{"method": "POST", "route": "/api/v2/customModels/", "status": 503, "when": "before"}]
    emulator_api.admin("PUT", "faults", json={"script": script})
    answer = emulator_api.post("customModels/", json=MODEL)
    assert answer.status_code == 503
    assert _models(emulator_api) == []
    assert emulator_api.admin("GET", "stats").json()["writes"] == 0


def test_a_fault_after_the_change_keeps_it_and_still_fails(emulator_api):
    script = [{"method": "POST", "route": "/api/v2/customModels/", "status": 502, "when": "after"}]
    emulator_api.admin("PUT", "faults", json={"script": script})
    answer = emulator_api.post("customModels/", json=MODEL)
    assert answer.status_code == 502
    assert [m["name"] for m in _models(emulator_api)] == ["m"]
    assert emulator_api.admin("GET", "stats").json()["writes"] == 1


def test_5xx_carry_a_request_id_and_429_a_retry_after(emulator_api):
    script = [
        {"route": "/api/v2/version/", "status": 504},
        {"route": "/api/v2/version/", "status": 429, "retryAfter": 7},
    ]
    emulator_api.admin("PUT", "faults", json={"script": script})
    first, second = emulator_api.get("version/"), emulator_api.get("version/")
    assert first.status_code == 504
    assert len(first.headers["X-DataRobot-Request-ID"]) == 32
    assert first.headers["Content-Type"] == "application/json"
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "7"


def test_a_script_rule_matches_a_concrete_path_too(emulator_api):
    model = emulator_api.post("customModels/", json=MODEL).json()
    path = f"/api/v2/customModels/{model['id']}/"
    emulator_api.admin("PUT", "faults", json={"script": [{"route": path, "status": 500}]})
    assert emulator_api.get(f"customModels/{model['id']}/").status_code == 500
    assert emulator_api.get(f"customModels/{model['id']}/").status_code == 200


def test_a_dropped_connection_gets_no_answer_at_all(emulator_api):
    emulator_api.admin(
        "PUT", "faults", json={"script": [{"route": "/api/v2/version/", "dropConnection": True}]}
    )
    with pytest.raises(requests.ConnectionError):
        requests.get(
            f"{emulator_api.server.api_url}/version/",
            headers={"Authorization": f"Bearer {emulator_api.server.token}"},
            timeout=5,
        )
    assert emulator_api.get("version/").status_code == 200
    stats = emulator_api.admin("GET", "stats").json()
    assert stats["routes"]["GET /api/v2/version/"]["statuses"] == {"dropped": 1, "200": 1}


def test_a_connection_dropped_after_a_create_keeps_the_created_model(emulator_api):
    script = [
        {
            "method": "POST",
            "route": "/api/v2/customModels/",
            "dropConnection": True,
            "when": "after",
        }
    ]
    emulator_api.admin("PUT", "faults", json={"script": script})
    with pytest.raises(requests.ConnectionError):
        emulator_api.post("customModels/", json=MODEL)
    assert len(_models(emulator_api)) == 1


def test_random_faults_are_the_same_for_the_same_seed(emulator_api):
    config = {"rate": 0.5, "statuses": [503], "seed": 42}

    def run():
        emulator_api.admin("PUT", "faults", json=config)
        return [emulator_api.get("version/").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert 503 in first
    assert 200 in first


def test_random_faults_only_hit_the_methods_and_routes_asked_for(emulator_api):
    emulator_api.admin(
        "PUT",
        "faults",
        json={"rate": 1.0, "methods": ["POST"], "routes": ["/api/v2/customModels/"]},
    )
    assert emulator_api.get("version/").status_code == 200
    assert emulator_api.get("customModels/").status_code == 200
    assert emulator_api.post("customModels/", json=MODEL).status_code in (429, 502, 503, 504)


def test_latency_is_added(emulator_api):
    emulator_api.admin("PUT", "faults", json={"latencyMs": 150})
    started = time.perf_counter()
    assert emulator_api.get("version/").status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_admin_routes_are_never_faulted(emulator_api):
    emulator_api.admin("PUT", "faults", json={"rate": 1.0})
    assert emulator_api.admin("GET", "stats").status_code == 200
    assert emulator_api.admin("DELETE", "faults").json()["rate"] == 0


def test_a_bad_fault_configuration_is_a_422_naming_the_fields(emulator_api):
    answer = emulator_api.admin(
        "PUT",
        "faults",
        json={"rate": 2, "when": "later", "bogus": 1, "script": [{"route": "/x"}]},
    )
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"rate", "when", "bogus", "script.0"}


def test_reset_turns_faults_off(emulator, emulator_api):
    emulator.set_faults({"rate": 1.0})
    emulator.reset()
    assert emulator_api.get("version/").status_code == 200


def test_a_reset_connection_is_a_connection_reset_for_the_client(emulator_api):
    script = [{"route": "/api/v2/version/", "dropConnection": "reset"}]
    emulator_api.admin("PUT", "faults", json={"script": script}).raise_for_status()
    with pytest.raises(requests.ConnectionError) as error:
        requests.get(
            f"{emulator_api.server.api_url}/version/",
            headers={"Authorization": f"Bearer {emulator_api.server.token}"},
            timeout=5,
        )
    assert "reset" in str(error.value).lower()


def test_random_drops_can_reset_too(emulator_api):
    emulator_api.admin(
        "PUT",
        "faults",
        json={"dropConnection": 1.0, "dropMode": "reset", "routes": ["/api/v2/version/"]},
    )
    with pytest.raises(requests.ConnectionError):
        emulator_api.get("version/")
    assert emulator_api.admin("PUT", "faults", json={"dropMode": "gently"}).status_code == 422
