"""Custom model tests: 202 and a status to poll, four checks, cancel, logs."""

from __future__ import annotations

import time

CHECKS = {"errorCheck", "nullValueImputation", "longRunningService", "sideEffects"}


def _start(emulator_api, model, version, **extra):
    return emulator_api.post(
        "customModelTests/",
        json={"customModelId": model["id"], "customModelVersionId": version["id"], **extra},
    )


def _until_done(emulator_api, location):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        answer = emulator_api.get(location, allow_redirects=False)
        if answer.status_code == 303 or answer.json()["status"] != "RUNNING":
            return answer
        time.sleep(0.02)
    raise AssertionError("the test did not finish")


def test_a_test_is_accepted_polled_and_finished_with_four_checks(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"custom.py": "x"})
    answer = _start(emulator_api, model, version, configuration={"sideEffects": "skip"})
    assert answer.status_code == 202
    location = answer.headers["Location"]
    assert location.endswith(f"/api/v2/status/{answer.json()['statusId']}/")
    running = emulator_api.get("customModelTests/", params={"customModelId": model["id"]}).json()[
        "data"
    ][0]
    assert running["overallStatus"] == "in_progress"
    done = _until_done(emulator_api, location)
    assert done.status_code == 303
    test = emulator_api.get(done.headers["Location"]).json()
    assert test["overallStatus"] == "succeeded"
    assert set(test["testingStatus"]) == CHECKS
    assert test["testingStatus"]["sideEffects"] == {"status": "skipped", "message": ""}
    assert test["testingStatus"]["errorCheck"] == {"status": "succeeded", "message": ""}
    assert test["customModelVersion"] == {"id": version["id"], "label": "1.0"}
    assert test["executionEnvironment"]["id"] == version["baseEnvironmentId"]
    assert test["customModelImageId"]
    assert "Overall: succeeded" in emulator_api.get(f"customModelTests/{test['id']}/log/").text
    tail = emulator_api.get(f"customModelTests/{test['id']}/tail/?lines=1").json()
    assert tail == {"log": "Overall: succeeded\n"}


def test_a_version_without_files_fails_its_test(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {})
    answer = _start(emulator_api, model, version)
    done = _until_done(emulator_api, answer.headers["Location"])
    assert done.json()["status"] == "ERROR"
    test = emulator_api.get("customModelTests/", params={"customModelId": model["id"]}).json()[
        "data"
    ][0]
    assert test["overallStatus"] == "failed"
    assert test["testingStatus"]["longRunningService"]["status"] == "failed"


def test_one_test_at_a_time_per_model_and_cancel_while_running(emulator, emulator_api):
    emulator.configure(asyncDelayMs=60_000)
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    first = _start(emulator_api, model, version)
    assert _start(emulator_api, model, version).status_code == 422
    test_id = emulator_api.get("customModelTests/", params={"customModelId": model["id"]}).json()[
        "data"
    ][0]["id"]
    assert emulator_api.delete(f"customModelTests/{test_id}/").status_code == 204
    assert emulator_api.get(f"customModelTests/{test_id}/").json()["overallStatus"] == "canceled"
    assert (
        emulator_api.get(first.headers["Location"], allow_redirects=False).json()["status"]
        == "ABORTED"
    )
    assert emulator_api.delete(f"customModelTests/{test_id}/").status_code == 409


def test_bad_test_requests(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    assert emulator_api.post("customModelTests/", json={"customModelId": model["id"]}).json()[
        "errors"
    ] == {"customModelVersionId": "is required"}
    assert _start(emulator_api, {"id": "ffffffffffffffffffffffff"}, version).status_code == 404
    assert emulator_api.get("customModelTests/").status_code == 400
    assert emulator_api.get("customModelTests/ffffffffffffffffffffffff/").status_code == 404
    _start(emulator_api, model, version)
    test_id = emulator_api.get("customModelTests/", params={"customModelId": model["id"]}).json()[
        "data"
    ][0]["id"]
    assert emulator_api.get(f"customModelTests/{test_id}/tail/?lines=0").status_code == 400
