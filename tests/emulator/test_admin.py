"""Admin routes: reset, state dump and load, settings, and the state file."""

from __future__ import annotations

import json

from emulator.server import EmulatorServer

MODEL = {"name": "m", "customModelType": "inference", "targetType": "Regression", "targetName": "y"}


def test_reset_forgets_everything_made_through_the_api(emulator_api):
    emulator_api.post("customModels/", json=MODEL).raise_for_status()
    assert emulator_api.admin("POST", "reset").status_code == 200
    assert emulator_api.get("customModels/").json()["totalCount"] == 0


def test_state_is_a_json_dump_that_loads_back(emulator_api):
    created = emulator_api.post("customModels/", json=MODEL).json()
    state = emulator_api.admin("GET", "state").json()
    assert [m["id"] for m in state["models"]] == [created["id"]]
    assert state["seed"]["users"][0]["username"] == "gitops-bot@example.com"
    emulator_api.admin("POST", "reset")
    assert emulator_api.admin("PUT", "state", json=state).status_code == 200
    assert emulator_api.get(f"customModels/{created['id']}/").json()["name"] == "m"


def test_loading_something_that_is_not_a_dump_is_a_422(emulator_api):
    assert emulator_api.admin("PUT", "state", json={"format": 99}).status_code == 422


def test_settings_can_be_read_and_changed(emulator_api):
    config = emulator_api.admin("GET", "config").json()
    assert set(config) == {
        "asyncDelayMs",
        "jobRunMs",
        "maxUploadBytes",
        "modelTestMs",
        "dependencyBuildMs",
        "trainingDataMs",
        "failingDependencies",
        "replacementResetsSettings",
    }
    changed = emulator_api.admin("PUT", "config", json={"jobRunMs": 5}).json()
    assert changed["jobRunMs"] == 5
    bad = emulator_api.admin("PUT", "config", json={"jobRunMs": -1, "other": 1})
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"jobRunMs", "other"}
    assert emulator_api.admin("PUT", "config", json={"modelTestMs": -1}).status_code == 200
    bad_list = emulator_api.admin("PUT", "config", json={"failingDependencies": "numpy"})
    assert bad_list.json()["errors"] == {
        "failingDependencies": "must be a list of non-empty strings"
    }


def test_state_survives_a_restart_through_the_state_file(tmp_path):
    state_file = tmp_path / "state" / "emulator.json"
    with EmulatorServer(state_file=state_file) as first:
        import requests

        headers = {"Authorization": f"Bearer {first.token}"}
        created = requests.post(
            f"{first.api_url}/customModels/", json=MODEL, headers=headers, timeout=5
        ).json()
    assert json.loads(state_file.read_text())["models"][0]["id"] == created["id"]
    with EmulatorServer(state_file=state_file) as second:
        import requests

        headers = {"Authorization": f"Bearer {second.token}"}
        again = requests.get(
            f"{second.api_url}/customModels/{created['id']}/", headers=headers, timeout=5
        )
        assert again.status_code == 200
    assert not [p for p in state_file.parent.iterdir() if p.name != "emulator.json"]
