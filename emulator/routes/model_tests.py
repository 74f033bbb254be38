"""Custom model tests: start one (202 + ``Location`` of a status), poll, list, cancel, logs.

A test runs for ``asyncDelayMs`` (``/__emulator__/config``); its status then redirects
(303) to the test. It succeeds unless the version has no files, in which case
``longRunningService`` fails and the status ends as ``ERROR``. Each of the four checks
(``errorCheck``, ``nullValueImputation``, ``longRunningService``, ``sideEffects``) is
``skipped`` when the request's ``configuration`` says ``skip``. The emulator has no
datasets, so ``datasetId`` is accepted as given and never required. A second test of a
model while one is in progress is a 422.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, request

from emulator.access import model_grant
from emulator.bodies import read_body
from emulator.errors import ApiError, bad_query, not_found
from emulator.paging import envelope, page
from emulator.routes.deployments import image_for
from emulator.routing import accepted, api, caller, emulator, no_content, respond, text
from emulator.statuses import new_status, settle_status
from emulator.store import Store

CHECKS = ("errorCheck", "nullValueImputation", "longRunningService", "sideEffects")
_SETTINGS = (
    "maximumMemory",
    "desiredMemory",
    "networkEgressPolicy",
    "replicas",
    "requiresHa",
    "resourceBundleId",
)


def _state(test: dict[str, Any]) -> str:
    if test["_outcome"]:
        return str(test["_outcome"])
    return "in_progress" if time.time() < test["_readyAt"] else test["_result"]


def test_view(store: Store, test: dict[str, Any]) -> dict[str, Any]:
    state = _state(test)
    model = store.models.get(test["customModelId"])
    version = store.versions.get(test["customModelVersionId"])
    env = store.environments[test["_environmentId"]]
    env_version = store.environment_versions[test["_environmentVersionId"]]
    checks = {}
    for check in CHECKS:
        skipped = test["configuration"].get(check) == "skip"
        status = (
            "skipped"
            if skipped
            else state
            if state in ("in_progress", "canceled", "succeeded")
            else "succeeded"
        )
        message = ""
        if check == "longRunningService" and state == "failed":
            status, message = "failed", "The model image could not start: the version has no files"
        checks[check] = {"status": status, "message": message}
    return {
        **{k: v for k, v in test.items() if not k.startswith("_")},
        "customModel": {"id": test["customModelId"], "name": model["name"] if model else ""},
        "customModelVersion": {
            "id": test["customModelVersionId"],
            "label": version["label"] if version else "",
        },
        "executionEnvironment": {"id": env["id"], "name": env["name"]},
        "executionEnvironmentVersion": {"id": env_version["id"], "label": env_version["label"]},
        "overallStatus": state,
        "testingStatus": checks,
        "completedAt": None if state == "in_progress" else test["_completedAt"],
    }


def _visible_test(test_id: str) -> dict[str, Any]:
    store = emulator().store
    test = store.tests.get(test_id)
    model = store.models.get(test["customModelId"]) if test else None
    if test is None or model is None or not model_grant(model, caller()["id"]):
        raise not_found("Testing attempt")
    return test


def _subject(store: Store, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model and version to test (404 when unknown or invisible)."""
    model = store.models.get(data["customModelId"])
    if model is None or not model_grant(model, caller()["id"]):
        raise ApiError(404, "Custom model or dataset not found.")
    version = store.versions.get(data["customModelVersionId"])
    if version is None or version["customModelId"] != model["id"]:
        raise ApiError(404, "Custom model version not found.")
    return model, version


def _environment(store: Store, data: dict[str, Any], version: dict[str, Any]) -> tuple[str, str]:
    """The environment (version) to test on: the request's, else the version's (422s)."""
    env_id = data.get("environmentId", version["baseEnvironmentId"])
    if env_id not in store.environments:
        raise ApiError(
            422, f"Execution environment {env_id} not found", {"environmentId": "not found"}
        )
    same = env_id == version["baseEnvironmentId"]
    default = (
        version["baseEnvironmentVersionId"]
        if same
        else store.environments[env_id]["versions"][-1]["id"]
    )
    env_version_id = data.get("environmentVersionId") or default
    if store.environment_versions.get(env_version_id, {}).get("environmentId") != env_id:
        raise ApiError(
            422,
            "The environment version does not belong to the environment",
            {"environmentVersionId": "not a version of environmentId"},
        )
    return env_id, env_version_id


@api("POST", "/api/v2/customModelTests/")
def start_test() -> Response:
    emu = emulator()
    store = emu.store
    data = read_body().data
    model, version = _subject(store, data)
    if any(
        t["customModelId"] == model["id"] and _state(t) == "in_progress"
        for t in store.tests.values()
    ):
        raise ApiError(422, "Testing is already in progress for the custom model")
    env_id, env_version_id = _environment(store, data, version)
    created, seq = store.stamp()
    ready_at = time.time() + emu.config["asyncDelayMs"] / 1000
    test = {
        "id": store.new_id(),
        "customModelId": model["id"],
        "customModelVersionId": version["id"],
        "created": created,
        "createdBy": caller()["username"],
        "datasetId": data.get("datasetId"),
        "datasetVersionId": data.get("datasetVersionId"),
        "customModelImageId": image_for(
            store, {**version, "baseEnvironmentVersionId": env_version_id}
        ),
        "imageType": "customModelImage",
        "configuration": data.get("configuration", {}),
        **{k: data.get(k, version.get(k)) for k in _SETTINGS},
        "_environmentId": env_id,
        "_environmentVersionId": env_version_id,
        "_readyAt": ready_at,
        "_completedAt": created,
        "_result": "succeeded" if version["items"] else "failed",
        "_outcome": None,
        "_seq": seq,
    }
    failed = test["_result"] == "failed"
    location = f"/api/v2/customModelTests/{test['id']}/"
    message = "Custom model testing failed" if failed else ""
    status = new_status(
        "customModelTest",
        location,
        ready_at,
        "Custom model test",
        final="ERROR" if failed else None,
        message=message,
    )
    test["_statusId"] = status["id"]
    store.tests[test["id"]] = test
    return accepted(status["id"])


@api("GET", "/api/v2/customModelTests/")
def list_tests() -> Response:
    store = emulator().store
    model_id = request.args.get("customModelId")
    if not model_id:
        raise bad_query({"customModelId": "is required"})
    model = store.models.get(model_id)
    if model is None or not model_grant(model, caller()["id"]):
        tests: list[dict[str, Any]] = []
    else:
        tests = sorted(
            (t for t in store.tests.values() if t["customModelId"] == model_id),
            key=lambda t: t["_seq"],
            reverse=True,
        )
    chunk, meta = page(tests)
    return respond(envelope(meta, [test_view(store, t) for t in chunk]))


@api("GET", "/api/v2/customModelTests/{customModelTestId}/")
def get_test(customModelTestId: str) -> Response:
    return respond(test_view(emulator().store, _visible_test(customModelTestId)))


@api("DELETE", "/api/v2/customModelTests/{customModelTestId}/")
def cancel_test(customModelTestId: str) -> Response:
    test = _visible_test(customModelTestId)
    if _state(test) != "in_progress":
        raise ApiError(409, "Testing attempt has already reached a terminal state.")
    test["_outcome"] = "canceled"
    test["_completedAt"], _ = emulator().store.stamp()
    settle_status(test["_statusId"], "ABORTED", "Custom model testing was canceled")
    return no_content()


def _log(store: Store, test: dict[str, Any]) -> str:
    view = test_view(store, test)
    lines = [
        f"Testing custom model {view['customModel']['name']} version {view['customModelVersion']['label']}"
    ]
    lines += [f"{check}: {view['testingStatus'][check]['status']}" for check in CHECKS]
    lines.append(f"Overall: {view['overallStatus']}")
    return "\n".join(lines) + "\n"


@api("GET", "/api/v2/customModelTests/{customModelTestId}/log/")
def get_test_log(customModelTestId: str) -> Response:
    test = _visible_test(customModelTestId)
    return text(_log(emulator().store, test), f"testing-{customModelTestId}.log")


@api("GET", "/api/v2/customModelTests/{customModelTestId}/tail/")
def get_test_log_tail(customModelTestId: str) -> Response:
    test = _visible_test(customModelTestId)
    raw = request.args.get("lines", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise ApiError(
            400,
            "Requested number of lines is invalid.",
            {"lines": "must be an integer from 1 to 1000"},
        )
    lines = _log(emulator().store, test).splitlines()[-int(raw) :]
    return respond({"log": "\n".join(lines) + "\n"})
