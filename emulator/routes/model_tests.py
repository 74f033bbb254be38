"""Custom model tests: start one (202 + ``Location`` of a status), poll, list, cancel, logs.

A test runs for ``modelTestMs`` (``/__emulator__/config``; ``-1``: ``asyncDelayMs``); its
status then redirects (303) to the test, whether its checks passed or not (a failed check
is the test's ``overallStatus``, not a failed job). The four checks of the reference
(``errorCheck``, ``nullValueImputation``, ``longRunningService``, ``sideEffects``) are
always reported; the three CMA sends (``predictionVerificationCheck``,
``performanceCheck``, ``stabilityCheck``) when the ``configuration`` names them. A check
configured ``skip`` is ``skipped``; a failure of a check configured ``warn`` is a
``warning``. ``customModelImageId`` and every check ``message`` are strings (the official
client's converter rejects nulls).

Outcomes: a test passes unless the version has no files or its dependency build failed
(then ``longRunningService`` fails, the other checks are ``aborted`` and the status ends
``ERROR``: the image could not start), or a scripted rule says otherwise:
``PUT /__emulator__/modelTests`` with ``{"rules": [{"outcome": "pass"|"warn"|"fail"|"hang",
"check": "sideEffects", "message": "...", "customModelId": ..., "customModelVersionId": ...,
"fileContains": "...", "durationMs": 2000, "times": 1}]}``: the first rule whose filters
(all optional) match the tested version applies, ``times`` (default unlimited) counts
down; ``hang`` keeps the test ``in_progress`` until it is canceled.

``datasetId`` is required for every model that is not Unstructured (422) and must name a
seeded dataset (404), snapshotted (422); ``datasetVersionId`` defaults to its latest
version. A second test of a model while one is in progress is a 422.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, request

from emulator.access import model_grant
from emulator.bodies import read_body
from emulator.domain.builds import build_state
from emulator.errors import ApiError, bad_query, invalid, not_found
from emulator.paging import enum_arg, envelope, page
from emulator.routes.admin import admin_body
from emulator.routes.datasets import resolve_dataset
from emulator.routes.deployments import image_for
from emulator.routing import accepted, api, caller, emulator, extra, no_content, respond, text
from emulator.statuses import new_status, settle_status
from emulator.store import Store, iso

CHECKS = ("errorCheck", "nullValueImputation", "longRunningService", "sideEffects")
EXTRA_CHECKS = ("predictionVerificationCheck", "performanceCheck", "stabilityCheck")
_SETTINGS = (
    "maximumMemory",
    "desiredMemory",
    "networkEgressPolicy",
    "replicas",
    "requiresHa",
    "resourceBundleId",
)
_HANG_SECONDS = 10 * 365 * 24 * 3600
_FAILURE_MESSAGES = {
    "errorCheck": "The model failed to make predictions on the test dataset",
    "nullValueImputation": "The model cannot impute null values: predictions failed on rows with nulls",
    "longRunningService": "The model image could not start",
    "sideEffects": "Predictions on the dataset differ from row-wise predictions for the same rows",
    "predictionVerificationCheck": "Predictions do not match the predictions column at the required rate",
    "performanceCheck": "The prediction response time exceeded the allowed maximum",
    "stabilityCheck": "Too many prediction requests failed under load",
}
_OUTCOMES = ("pass", "warn", "fail", "hang")
_RULE_KEYS = {
    "outcome",
    "check",
    "message",
    "customModelId",
    "customModelVersionId",
    "fileContains",
    "durationMs",
    "times",
}


def test_state(test: dict[str, Any]) -> str:
    """``in_progress``, ``succeeded``, ``warning``, ``failed`` or ``canceled``."""
    if test["_outcome"]:
        return str(test["_outcome"])
    return "in_progress" if time.time() < test["_readyAt"] else test["_result"]


def _checks(test: dict[str, Any], state: str) -> dict[str, dict[str, str]]:
    configuration = test["configuration"]
    names = list(CHECKS) + [c for c in EXTRA_CHECKS if c in configuration]
    failed, message = test["_failedCheck"], test["_message"]
    aborted = failed == "longRunningService" and state == "failed"
    checks = {}
    for check in names:
        if configuration.get(check) == "skip":
            checks[check] = {"status": "skipped", "message": ""}
        elif state in ("in_progress", "canceled"):
            checks[check] = {"status": state, "message": ""}
        elif check == failed:
            status = "warning" if test["_scripted"] == "warn" else "failed"
            if configuration.get(check) == "warn":
                status = "warning"
            checks[check] = {"status": status, "message": message}
        elif aborted:
            checks[check] = {"status": "aborted", "message": ""}
        else:
            checks[check] = {"status": "succeeded", "message": ""}
    return checks


def test_view(store: Store, test: dict[str, Any]) -> dict[str, Any]:
    state = test_state(test)
    model = store.models.get(test["customModelId"])
    version = store.versions.get(test["customModelVersionId"])
    env = store.environments[test["_environmentId"]]
    env_version = store.environment_versions[test["_environmentVersionId"]]
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
        "testingStatus": _checks(test, state),
        "completedAt": None
        if state == "in_progress"
        else test["_completedAt"] or iso(test["_readyAt"]),
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


def _dataset(store: Store, model: dict[str, Any], data: dict[str, Any]) -> tuple[Any, Any]:
    """``(datasetId, datasetVersionId)`` of the test (422/404 as the API answers)."""
    dataset_id = data.get("datasetId")
    if dataset_id is None:
        if model["targetType"] != "Unstructured":
            raise invalid(
                {"datasetId": f"is required to test {model['targetType']} (structured) models"},
                "Dataset ID is required for regular (non-unstructured) custom models",
            )
        return None, None
    dataset, version_id = resolve_dataset(store, dataset_id, data.get("datasetVersionId"))
    if not dataset["isSnapshot"]:
        raise ApiError(
            422,
            "Dataset used for testing is not snapshotted",
            {"datasetId": "the dataset must be a snapshot"},
        )
    return dataset_id, version_id


def _rule_matches(store: Store, rule: dict[str, Any], version: dict[str, Any]) -> bool:
    if rule.get("times") is not None and rule["times"] <= 0:
        return False
    if rule.get("customModelId") not in (None, version["customModelId"]):
        return False
    if rule.get("customModelVersionId") not in (None, version["id"]):
        return False
    marker = rule.get("fileContains")
    if marker is not None:
        needle = str(marker).encode("utf-8")
        return any(needle in store.blobs[item["_sha"]] for item in version["items"])
    return True


def _scripted(store: Store, version: dict[str, Any]) -> dict[str, Any] | None:
    for rule in emulator().test_rules:
        if _rule_matches(store, rule, version):
            if rule.get("times") is not None:
                rule["times"] -= 1
            return rule
    return None


def _outcome(
    store: Store, version: dict[str, Any], configuration: dict[str, Any]
) -> tuple[str, str | None, str, str | None, dict[str, Any] | None]:
    """``(result, failed check, message, scripted outcome, rule)`` of a new test."""
    build = store.builds.get(version["id"])
    if not version["items"]:
        message = "The model image could not start: the version has no files"
        return "failed", "longRunningService", message, None, None
    if build is not None and build_state(build) == "failed":
        message = "The model image could not start: the dependency build of this version failed"
        return "failed", "longRunningService", message, None, None
    rule = _scripted(store, version)
    if rule is None or rule["outcome"] in ("pass", "hang"):
        return "succeeded", None, "", rule["outcome"] if rule else None, rule
    check = rule["check"]
    message = rule.get("message") or _FAILURE_MESSAGES[check]
    mode = configuration.get(check, "fail")
    if mode == "skip":
        return "succeeded", None, "", rule["outcome"], rule
    if rule["outcome"] == "warn" or mode == "warn":
        return "warning", check, message, rule["outcome"], rule
    return "failed", check, message, rule["outcome"], rule


@api("POST", "/api/v2/customModelTests/")
def start_test() -> Response:
    emu = emulator()
    store = emu.store
    data = read_body().data
    model, version = _subject(store, data)
    dataset_id, dataset_version_id = _dataset(store, model, data)
    if any(
        t["customModelId"] == model["id"] and test_state(t) == "in_progress"
        for t in store.tests.values()
    ):
        raise ApiError(422, "Testing is already in progress for the custom model")
    env_id, env_version_id = _environment(store, data, version)
    configuration = data.get("configuration", {})
    result, failed_check, message, scripted, rule = _outcome(store, version, configuration)
    duration = emu.duration("modelTestMs")
    if rule is not None and rule.get("durationMs") is not None:
        duration = rule["durationMs"] / 1000
    if scripted == "hang":
        duration = _HANG_SECONDS
    created, seq = store.stamp()
    ready_at = time.time() + duration
    test = {
        "id": store.new_id(),
        "customModelId": model["id"],
        "customModelVersionId": version["id"],
        "created": created,
        "createdBy": caller()["username"],
        "datasetId": dataset_id,
        "datasetVersionId": dataset_version_id,
        "customModelImageId": image_for(
            store, {**version, "baseEnvironmentVersionId": env_version_id}
        ),
        "imageType": "customModelVersion" if version["dependencies"] else "customModelImage",
        "configuration": configuration,
        "parameters": data.get("parameters", {}),
        **{k: data.get(k, version.get(k)) for k in _SETTINGS},
        "_environmentId": env_id,
        "_environmentVersionId": env_version_id,
        "_readyAt": ready_at,
        "_completedAt": None,
        "_result": result,
        "_failedCheck": failed_check,
        "_message": message,
        "_scripted": scripted,
        "_outcome": None,
        "_seq": seq,
    }
    image_failed = failed_check == "longRunningService" and result == "failed"
    location = f"/api/v2/customModelTests/{test['id']}/"
    status = new_status(
        "customModelTest",
        location,
        ready_at,
        "Custom model test",
        final="ERROR" if image_failed else None,
        message="Custom model testing failed: " + message if image_failed else "",
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
    egress = enum_arg("networkEgressPolicy", ("NONE", "PUBLIC"))
    model = store.models.get(model_id)
    if model is None or not model_grant(model, caller()["id"]):
        tests: list[dict[str, Any]] = []
    else:
        tests = sorted(
            (t for t in store.tests.values() if t["customModelId"] == model_id),
            key=lambda t: t["_seq"],
            reverse=True,
        )
        if egress is not None:
            tests = [t for t in tests if t.get("networkEgressPolicy") == egress]
    chunk, meta = page(tests)
    return respond(envelope(meta, [test_view(store, t) for t in chunk]))


@api("GET", "/api/v2/customModelTests/{customModelTestId}/")
def get_test(customModelTestId: str) -> Response:
    return respond(test_view(emulator().store, _visible_test(customModelTestId)))


@api("DELETE", "/api/v2/customModelTests/{customModelTestId}/")
def cancel_test(customModelTestId: str) -> Response:
    test = _visible_test(customModelTestId)
    if test_state(test) != "in_progress":
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
    for check, result in view["testingStatus"].items():
        lines.append(f"{check}: {result['status']}")
        if result["message"]:
            level = "WARNING" if result["status"] == "warning" else "ERROR"
            lines.append(f"{level}: {check}: {result['message']}")
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


# -- scripted outcomes (admin) ----------------------------------------------------------


def _check_rules(body: Any) -> list[dict[str, Any]]:
    rules = body.get("rules") if isinstance(body, dict) else None
    if not isinstance(rules, list):
        raise invalid({"rules": "must be a list of rules"}, "Invalid model test rules")
    errors: dict[str, str] = {}
    for index, rule in enumerate(rules):
        where = f"rules.{index}"
        if not isinstance(rule, dict):
            errors[where] = "must be an object"
            continue
        for key in sorted(set(rule) - _RULE_KEYS):
            errors[f"{where}.{key}"] = f"{key} is not allowed key"
        if rule.get("outcome") not in _OUTCOMES:
            errors[f"{where}.outcome"] = "must be one of: " + ", ".join(_OUTCOMES)
        if rule.get("outcome") in ("warn", "fail") and rule.get("check") not in (
            CHECKS + EXTRA_CHECKS
        ):
            errors[f"{where}.check"] = "must name a check: " + ", ".join(CHECKS + EXTRA_CHECKS)
        for key in ("durationMs", "times"):
            value = rule.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                errors[f"{where}.{key}"] = "must be a non-negative integer"
        for key in ("message", "customModelId", "customModelVersionId", "fileContains"):
            if rule.get(key) is not None and not isinstance(rule[key], str):
                errors[f"{where}.{key}"] = "must be a string"
    if errors:
        raise invalid(errors, "Invalid model test rules")
    return [dict(rule) for rule in rules]


@extra("GET", "/__emulator__/modelTests")
def admin_test_rules() -> Response:
    return respond({"rules": emulator().test_rules})


@extra("PUT", "/__emulator__/modelTests")
def admin_set_test_rules() -> Response:
    emulator().test_rules = _check_rules(admin_body())
    return respond({"rules": emulator().test_rules})


@extra("DELETE", "/__emulator__/modelTests")
def admin_clear_test_rules() -> Response:
    emulator().test_rules = []
    return respond({"rules": []})
