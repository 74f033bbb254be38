"""Custom model tests: 202 and a status to poll, checks, datasets, scripted outcomes,
cancel, logs."""

from __future__ import annotations

import time

CHECKS = {"errorCheck", "nullValueImputation", "longRunningService", "sideEffects"}
HOUSES = "6600000000000000000000d3"  # seeded dataset (emulator/data/seed.yaml)


def _start(emulator_api, model, version, **extra):
    extra.setdefault("datasetId", HOUSES)
    body = {"customModelId": model["id"], "customModelVersionId": version["id"], **extra}
    return emulator_api.post(
        "customModelTests/", json={k: v for k, v in body.items() if v is not None}
    )


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
    done = emulator_api.finished(location)
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
    done = emulator_api.finished(answer.headers["Location"])
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
    assert emulator_api.delete(f"customModels/{model['id']}/").status_code == 409
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


def _latest_test(emulator_api, model):
    answer = emulator_api.get("customModelTests/", params={"customModelId": model["id"]})
    return answer.json()["data"][0]


def test_a_dataset_is_required_for_structured_models_and_must_exist(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    missing = _start(emulator_api, model, version, datasetId=None)
    assert missing.status_code == 422
    assert "datasetId" in missing.json()["errors"]
    assert (
        _start(emulator_api, model, version, datasetId="6600000000000000000000ff").status_code
        == 404
    )
    not_snapshot = _start(emulator_api, model, version, datasetId="6600000000000000000000d5")
    assert not_snapshot.status_code == 422
    assert not_snapshot.json()["message"] == "Dataset used for testing is not snapshotted"
    wrong_version = _start(
        emulator_api, model, version, datasetVersionId="6600000000000000000001d1"
    )
    assert wrong_version.status_code == 422
    assert _start(emulator_api, model, version).status_code == 202
    test = _latest_test(emulator_api, model)
    assert (test["datasetId"], test["datasetVersionId"]) == (HOUSES, "6600000000000000000001d3")


def test_unstructured_models_are_tested_without_a_dataset(emulator_api):
    model = emulator_api.create_model(targetType="Unstructured", targetName=None)
    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    assert _start(emulator_api, model, version, datasetId=None).status_code == 202


def test_the_checks_clients_send_beyond_the_reference_are_accepted_and_reported(
    emulator_api,
):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    answer = _start(
        emulator_api,
        model,
        version,
        configuration={
            "errorCheck": "fail",
            "longRunningService": "fail",
            "performanceCheck": "warn",
            "stabilityCheck": "skip",
        },
        parameters={
            "performanceCheck": {"maxResponseTime": 30, "numParallelUsers": 2},
            "stabilityCheck": {"numPredictions": 50, "passingRate": 0.9},
        },
    )
    assert answer.status_code == 202, answer.text
    done = emulator_api.finished(answer.headers["Location"])
    test = emulator_api.get(done.headers["Location"]).json()
    assert set(test["testingStatus"]) == CHECKS | {"performanceCheck", "stabilityCheck"}
    assert test["testingStatus"]["stabilityCheck"]["status"] == "skipped"
    assert test["parameters"]["performanceCheck"]["maxResponseTime"] == 30
    bad = _start(
        emulator_api, model, version, parameters={"performanceCheck": {"maxResponseTime": 0}}
    )
    assert bad.json()["errors"] == {
        "parameters.performanceCheck.maxResponseTime": "must be at least 1"
    }
    wrong = _start(emulator_api, model, version, configuration={"sideEffects": "maybe"})
    assert wrong.status_code == 422


def test_scripted_outcomes_fail_warn_and_hang(emulator, emulator_api):
    model = emulator_api.create_model()
    bad_rule = emulator_api.admin("PUT", "modelTests", json={"rules": [{"outcome": "fail"}]})
    assert bad_rule.status_code == 422
    assert "rules.0.check" in bad_rule.json()["errors"]
    rules = [
        {"outcome": "fail", "check": "sideEffects", "message": "rows 3, 7 differ", "times": 1},
        {"outcome": "warn", "check": "nullValueImputation", "fileContains": "# warn-me"},
        {"outcome": "hang", "customModelId": model["id"], "fileContains": "# hang"},
    ]
    assert emulator_api.admin("PUT", "modelTests", json={"rules": rules}).status_code == 200

    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    done = emulator_api.finished(_start(emulator_api, model, version).headers["Location"])
    assert done.status_code == 303  # the test ran; its failure is the test's result
    failed = emulator_api.get(done.headers["Location"]).json()
    assert failed["overallStatus"] == "failed"
    assert failed["testingStatus"]["sideEffects"] == {
        "status": "failed",
        "message": "rows 3, 7 differ",
    }
    assert failed["testingStatus"]["errorCheck"]["status"] == "succeeded"
    assert (
        "ERROR: sideEffects: rows 3, 7 differ"
        in emulator_api.get(f"customModelTests/{failed['id']}/log/").text
    )
    # times: 1 is used up: the same version now passes
    again = emulator_api.finished(_start(emulator_api, model, version).headers["Location"])
    assert emulator_api.get(again.headers["Location"]).json()["overallStatus"] == "succeeded"

    warned = emulator_api.create_version(model["id"], {"a.py": "x  # warn-me"})
    done = emulator_api.finished(_start(emulator_api, model, warned).headers["Location"])
    test = emulator_api.get(done.headers["Location"]).json()
    assert test["overallStatus"] == "warning"
    assert test["testingStatus"]["nullValueImputation"]["status"] == "warning"

    hung = emulator_api.create_version(model["id"], {"a.py": "x  # hang"})
    answer = _start(emulator_api, model, hung)
    time.sleep(0.2)
    test = _latest_test(emulator_api, model)
    assert test["overallStatus"] == "in_progress"
    assert (
        emulator_api.get(answer.headers["Location"], allow_redirects=False).json()["status"]
        == "RUNNING"
    )
    assert emulator_api.delete(f"customModelTests/{test['id']}/").status_code == 204
    emulator_api.admin("DELETE", "modelTests")
    assert emulator_api.admin("GET", "modelTests").json() == {"rules": []}


def test_a_failure_of_a_check_configured_warn_or_skip_does_not_fail_the_test(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    emulator_api.admin(
        "PUT", "modelTests", json={"rules": [{"outcome": "fail", "check": "sideEffects"}]}
    )
    warn = _start(emulator_api, model, version, configuration={"sideEffects": "warn"})
    done = emulator_api.finished(warn.headers["Location"])
    test = emulator_api.get(done.headers["Location"]).json()
    assert test["overallStatus"] == "warning"
    assert test["testingStatus"]["sideEffects"]["message"]
    skip = _start(emulator_api, model, version, configuration={"sideEffects": "skip"})
    done = emulator_api.finished(skip.headers["Location"])
    assert emulator_api.get(done.headers["Location"]).json()["overallStatus"] == "succeeded"


def test_test_duration_is_configurable_and_a_failed_build_fails_the_image(emulator, emulator_api):
    emulator.configure(modelTestMs=60_000, dependencyBuildMs=0, failingDependencies=["numpy"])
    model = emulator_api.create_model()
    version = emulator_api.create_version(
        model["id"], {"a.py": "x", "requirements.txt": "numpy==1.0\n"}
    )
    emulator_api.post(f"customModels/{model['id']}/versions/{version['id']}/dependencyBuild/")
    _start(emulator_api, model, version)
    test = _latest_test(emulator_api, model)
    assert test["overallStatus"] == "in_progress"
    assert test["imageType"] == "customModelVersion"
    assert isinstance(test["customModelImageId"], str)
    emulator_api.delete(f"customModelTests/{test['id']}/")
    emulator.configure(modelTestMs=0)
    _start(emulator_api, model, version)
    test = _latest_test(emulator_api, model)
    assert test["overallStatus"] == "failed"
    assert "dependency build" in test["testingStatus"]["longRunningService"]["message"]
    assert test["testingStatus"]["errorCheck"]["status"] == "aborted"


def test_bad_enum_in_the_test_list_query_is_a_422(emulator_api):
    model = emulator_api.create_model()
    answer = emulator_api.get(
        "customModelTests/", params={"customModelId": model["id"], "networkEgressPolicy": "ALL"}
    )
    assert answer.status_code == 422
    assert (
        emulator_api.get(
            "customModelTests/",
            params={"customModelId": model["id"], "networkEgressPolicy": "NONE"},
        ).status_code
        == 200
    )
