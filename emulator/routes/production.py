"""Deployments of registered model versions (API-DELIVERY.md §5, §6; not in the reference).

* ``POST /api/v2/deployments/fromModelPackage/`` ``{modelPackageId, label,
  description?, predictionEnvironmentId | defaultPredictionServerId, importance?,
  userProvidedId?, additionalMetadata?, runtimeParameterValues?}`` → **202** ``{"id"}``
  and ``Location`` of a status that redirects to ``/api/v2/deployments/{id}/``; the
  deployment is ``launching`` until then, ``active`` after. ``userProvidedId`` is unique
  (422).
* ``GET /api/v2/deployments/`` (``search`` in the label, ``userProvidedId``, ``status``,
  ``importance``, ``predictionEnvironmentId``, ``modelPackageId``; newest first),
  ``GET``/``PATCH {label, description, importance}`` (204)/``DELETE`` (204) ``.../{id}/``,
  ``PATCH .../status/ {"status": "active"|"inactive"}`` (202 + status).
* Replacement: ``POST .../model/validation/ {modelPackageId}`` → 200 ``{status, message,
  checks}`` (``failing`` when the target name or type or the class names differ, or the
  package is still building; ``warning`` when the package's custom model version has no
  passing test or its training dataset differs; else ``passing``); ``PATCH .../model/
  {modelPackageId, reason}`` → 202 + status (body: the checks), a 422 carrying the
  checks when validation fails, ``reason`` ∈ ACCURACY, DATA_DRIFT, ERRORS,
  SCHEDULED_REFRESH, SCORING_SPEED, DEPRECATION, OTHER. Which settings a replacement
  resets is unconfirmed (CMA re-applies them all): none, unless the
  ``replacementResetsSettings`` setting (``/__emulator__/config``) names some, so tests
  can drive a client's "put them back" path.
* ``GET``/``PATCH`` (partial, 202 + status) ``.../settings/``: ``associationId``,
  ``targetDrift``, ``featureDrift``, ``predictionsDataCollection``, ``challengerModels``
  (needs prediction data collection), ``segmentAnalysis`` (``enabled`` required),
  ``predictionIntervals`` (always present: the client reads it after a replacement),
  ``predictionWarning``, ``humility``, ``biasAndFairness``.
* Challengers: ``POST .../challengers/ {modelPackageId, name, predictionEnvironmentId}``
  → 202, the status redirects to ``.../challengers/{id}/`` (needs ``challengerModels``
  enabled; at most 5); ``GET`` list, ``GET``/``PATCH {name, predictionEnvironmentId}``/
  ``DELETE`` one.
* ``POST .../actuals/fromDataset/`` → 202 + status; ``GET``/``PATCH .../sharedRoles/``
  (roles OWNER, USER, CONSUMER; 204).

A deployment serves the custom model version its package was made from: that version is
frozen, the model's ``deploymentsCount`` counts it, and it shows in
``GET /api/v2/customModelDeployments/`` like the admin route's deployments.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from flask import Response, request

from emulator.access import READ, SHARE, WRITE, job_grant, require
from emulator.bodies import read_body
from emulator.errors import ApiError, invalid, not_found
from emulator.paging import envelope, page
from emulator.routes.deployments import deployment_state, image_for
from emulator.routes.model_tests import test_state
from emulator.routes.registry import (
    environment_view,
    package_build_status,
    user_ref,
    visible_package,
)
from emulator.routes.sharing import list_roles, update_roles
from emulator.routing import accepted, caller, emulator, extra, no_content, respond
from emulator.statuses import new_status
from emulator.store import Store
from emulator.views import touch_model

D = "/api/v2/deployments/"
IMPORTANCE = ("CRITICAL", "HIGH", "MODERATE", "LOW")
REASONS = (
    "ACCURACY",
    "DATA_DRIFT",
    "ERRORS",
    "SCHEDULED_REFRESH",
    "SCORING_SPEED",
    "DEPRECATION",
    "OTHER",
)
_DEPLOYMENT_ROLES = ("OWNER", "USER", "CONSUMER")
MAX_CHALLENGERS = 5
DEFAULT_SETTINGS: dict[str, Any] = {
    "associationId": {
        "columnNames": [],
        "requiredInPredictionRequests": False,
        "autoGenerateId": False,
    },
    "targetDrift": {"enabled": False},
    "featureDrift": {"enabled": False},
    "predictionsDataCollection": {"enabled": False},
    "challengerModels": {"enabled": False},
    "segmentAnalysis": {"enabled": False, "attributes": []},
    "predictionIntervals": {"enabled": False, "percentiles": []},
    "predictionWarning": {"enabled": False},
    "humility": {"enabled": False},
    "biasAndFairness": None,
}


def _delay() -> float:
    return float(emulator().config["asyncDelayMs"]) / 1000


def recount(store: Store, *model_ids: str) -> None:
    """``deploymentsCount`` of these custom models from the deployments that serve them."""
    for model_id in model_ids:
        model = store.models.get(model_id)
        if model is None:
            continue
        model["deploymentsCount"] = sum(
            1
            for d in store.deployments.values()
            if store.versions.get(d["customModelVersionId"], {}).get("customModelId") == model_id
        )
        touch_model(store, model)


def _serve(store: Store, deployment: dict[str, Any], package: dict[str, Any]) -> list[str]:
    """Point a deployment at a package's version: frozen, counted; the models touched."""
    previous = store.versions.get(deployment.get("customModelVersionId") or "")
    version = store.versions[package["modelId"]]
    version["isFrozen"] = True
    store.changed(version["id"])
    deployment.update(
        customModelVersionId=version["id"],
        customModelImageId=image_for(store, version),
        modelPackageId=package["id"],
    )
    touched = [version["customModelId"]]
    if previous is not None:
        touched.append(previous["customModelId"])
    return touched


def deployment_view(store: Store, deployment: dict[str, Any]) -> dict[str, Any]:
    package = store.packages[deployment["modelPackageId"]]
    version = store.versions[deployment["customModelVersionId"]]
    model = store.models[version["customModelId"]]
    env = store.environments[version["baseEnvironmentId"]]
    env_version = store.environment_versions[version["baseEnvironmentVersionId"]]
    environment = store.prediction_environments.get(deployment["predictionEnvironmentId"] or "")
    owners = [e for e in deployment["_roles"] if e["role"] == "OWNER"]
    health = {"status": "unknown", "message": "", "startDate": None, "endDate": None}
    server = deployment["defaultPredictionServerId"]
    creator = user_ref(store, deployment["_creatorId"])
    return {
        "id": deployment["id"],
        "label": deployment["label"],
        "description": deployment["description"],
        "status": deployment_state(deployment),
        "importance": deployment["importance"],
        "userProvidedId": deployment["userProvidedId"],
        "createdAt": deployment["deployed"],
        "model": {
            "id": version["id"],
            "type": model["name"],
            "targetName": model.get("targetName") or "",
            "targetType": model["targetType"],
            "projectId": None,
            "projectName": None,
            "unstructuredModelKind": model["targetType"] == "Unstructured",
            "isDeprecated": False,
            "deployedAt": deployment["_servedSince"],
            "customModelImage": {
                "customModelId": model["id"],
                "customModelName": model["name"],
                "customModelVersionId": version["id"],
                "customModelVersionLabel": version["label"],
                "executionEnvironmentId": env["id"],
                "executionEnvironmentName": env["name"],
                "executionEnvironmentVersionId": env_version["id"],
                "executionEnvironmentVersionLabel": env_version["label"],
            },
        },
        "modelPackage": {
            "id": package["id"],
            "name": package["name"],
            "registeredModelId": package["registeredModelId"],
        },
        "predictionEnvironment": environment_view(environment) if environment else None,
        "defaultPredictionServer": (
            {"id": server, "url": "https://example.datarobot.com", "datarobot-key": "emulator"}
            if server
            else None
        ),
        "permissions": ["CAN_VIEW", "CAN_EDIT_DEPLOYMENT", "CAN_DELETE_DEPLOYMENT"],
        "serviceHealth": dict(health),
        "modelHealth": dict(health),
        "accuracyHealth": dict(health),
        "fairnessHealth": dict(health),
        "predictionUsage": {"dailyRates": [], "lastTimestamp": None},
        "governance": {"approvalStatus": "APPROVED", "hasOpenChangeRequests": False},
        "owners": {
            "count": len(owners),
            "preview": [user_ref(store, e["id"]) for e in owners if e["id"] in store.users],
        },
        "creator": creator,
        "tags": [],
        "additionalMetadata": deployment["additionalMetadata"],
    }


def find_deployment(deployment_id: str, need: str = READ) -> dict[str, Any]:
    store = emulator().store
    deployment = store.deployments.get(deployment_id)
    if deployment is not None and "modelPackageId" not in deployment:
        deployment = None  # made by the admin route: no package, not a /deployments/ object
    require(job_grant(store, deployment, caller()) if deployment else None, need, "Deployment")
    assert deployment is not None
    return deployment


def _choice(body: dict[str, Any], key: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(key, default)
    if value not in choices:
        raise invalid({key: "must be one of: " + ", ".join(choices)})
    return str(value)


def _to_deployment(deployment_id: str) -> str:
    return f"{D}{deployment_id}/"


@extra("POST", D + "fromModelPackage/")
def create_deployment() -> Response:
    store = emulator().store
    body = read_body().data
    errors = {k: "is required" for k in ("modelPackageId", "label") if not body.get(k)}
    if errors:
        raise invalid(errors)
    package = visible_package(store, body["modelPackageId"])
    if package["isArchived"]:
        raise invalid({"modelPackageId": "the model package is archived"})
    environment_id = body.get("predictionEnvironmentId")
    server_id = body.get("defaultPredictionServerId")
    if environment_id and server_id:
        raise invalid(
            {"predictionEnvironmentId": "give predictionEnvironmentId or defaultPredictionServerId"}
        )
    if environment_id is not None:
        environment = store.prediction_environments.get(environment_id)
        if environment is None:
            raise invalid(
                {"predictionEnvironmentId": f"prediction environment {environment_id} not found"}
            )
        if "customModel" not in environment["supportedModelFormats"]:
            raise invalid(
                {"predictionEnvironmentId": "the environment does not support custom models"}
            )
    provided = body.get("userProvidedId")
    if provided and any(d.get("userProvidedId") == provided for d in store.deployments.values()):
        raise invalid(
            {"userProvidedId": "must be unique"},
            f"Cannot create a deployment with a user provided ID {provided!r}: it is already used",
        )
    importance = _choice(body, "importance", IMPORTANCE, "LOW")
    deployed, seq = store.stamp()
    user = caller()
    ready_at = time.time() + _delay()
    deployment: dict[str, Any] = {
        "id": store.new_id(),
        "label": body["label"],
        "description": body.get("description"),
        "importance": importance,
        "userProvidedId": provided,
        "predictionEnvironmentId": environment_id,
        "defaultPredictionServerId": server_id,
        "additionalMetadata": list(body.get("additionalMetadata") or []),
        "deployed": deployed,
        "deployedBy": user["username"],
        "settings": copy.deepcopy(DEFAULT_SETTINGS),
        "_status": "active",
        "_transition": "launching",
        "_busyUntil": ready_at,
        "_servedSince": deployed,
        "_creatorId": user["id"],
        "_roles": [
            {"shareRecipientType": "user", "id": user["id"], "role": "OWNER", "canShare": True}
        ],
        "_seq": seq,
        "_logs": [],
    }
    touched = _serve(store, deployment, package)
    store.deployments[deployment["id"]] = deployment
    recount(store, *touched)
    status = new_status("deployment", _to_deployment(deployment["id"]), ready_at, "Deployment")
    return accepted(status["id"], {"id": deployment["id"]})


@extra("GET", D)
def list_deployments() -> Response:
    store = emulator().store
    search = (request.args.get("search") or "").lower()
    filters = {
        key: request.args.get(key)
        for key in ("userProvidedId", "importance", "predictionEnvironmentId", "modelPackageId")
    }
    status = request.args.get("status")
    items = []
    for deployment in sorted(store.deployments.values(), key=lambda d: d["_seq"], reverse=True):
        if "modelPackageId" not in deployment or not job_grant(store, deployment, caller()):
            continue
        if search and search not in deployment["label"].lower():
            continue
        if any(v is not None and deployment.get(k) != v for k, v in filters.items()):
            continue
        if status is not None and deployment_state(deployment) != status:
            continue
        items.append(deployment)
    chunk, meta = page(items)
    return respond(envelope(meta, [deployment_view(store, d) for d in chunk]))


@extra("GET", D + "{deploymentId}/")
def get_deployment(deploymentId: str) -> Response:
    return respond(deployment_view(emulator().store, find_deployment(deploymentId)))


@extra("PATCH", D + "{deploymentId}/")
def update_deployment(deploymentId: str) -> Response:
    deployment = find_deployment(deploymentId, WRITE)
    body = read_body().data
    unknown = sorted(set(body) - {"label", "description", "importance"})
    if unknown:
        raise invalid({key: f"{key} is not allowed key" for key in unknown})
    if "label" in body and (not isinstance(body["label"], str) or not body["label"].strip()):
        raise invalid({"label": "must be a non-empty string"})
    if "importance" in body:
        _choice(body, "importance", IMPORTANCE, "LOW")
    deployment.update(body)
    return no_content()


@extra("DELETE", D + "{deploymentId}/")
def delete_deployment(deploymentId: str) -> Response:
    store = emulator().store
    deployment = find_deployment(deploymentId, "delete")
    del store.deployments[deployment["id"]]
    for challenger_id in [
        c["id"] for c in store.challengers.values() if c["deploymentId"] == deploymentId
    ]:
        del store.challengers[challenger_id]
    recount(store, store.versions[deployment["customModelVersionId"]]["customModelId"])
    return no_content()


@extra("PATCH", D + "{deploymentId}/status/")
def change_deployment_state(deploymentId: str) -> Response:
    deployment = find_deployment(deploymentId, WRITE)
    body = read_body().data
    wanted = _choice(body, "status", ("active", "inactive"), "")
    ready_at = time.time() + _delay()
    if wanted != deployment["_status"]:
        deployment["_status"] = wanted
        deployment["_transition"] = "launching" if wanted == "active" else "deactivating"
        deployment["_busyUntil"] = ready_at
    status = new_status("deploymentStatus", _to_deployment(deploymentId), ready_at, "Status change")
    return accepted(status["id"])


# -- replacement ------------------------------------------------------------------------


def validate_replacement(
    store: Store, deployment: dict[str, Any], package: dict[str, Any]
) -> dict[str, Any]:
    """``{status, message, checks}`` of replacing the deployment's model with ``package``."""
    current = store.packages[deployment["modelPackageId"]]
    old, new = current["target"], package["target"]
    checks: dict[str, dict[str, str]] = {}

    def check(name: str, ok: bool, fail: str, message_ok: str, message: str) -> None:
        checks[name] = {
            "status": "passing" if ok else fail,
            "message": message_ok if ok else message,
        }

    check(
        "targetName",
        old["name"] == new["name"],
        "failing",
        "Target names match.",
        f"Target name {new['name']!r} differs from the deployed model's {old['name']!r}.",
    )
    check(
        "targetType",
        old["type"] == new["type"],
        "failing",
        "Target types match.",
        f"Target type {new['type']} differs from the deployed model's {old['type']}.",
    )
    check(
        "targetClassNames",
        sorted(old.get("classNames") or []) == sorted(new.get("classNames") or []),
        "failing",
        "Class names match.",
        "The class names differ from the deployed model's.",
    )
    check(
        "modelPackageBuild",
        package_build_status(package) == "complete",
        "failing",
        "The model package is built.",
        "The model package is still being built.",
    )
    tests = [t for t in store.tests.values() if t["customModelVersionId"] == package["modelId"]]
    check(
        "customModelTesting",
        any(test_state(t) in ("succeeded", "warning") for t in tests),
        "warning",
        "The custom model version passed its tests.",
        "The custom model version has no passing custom model test.",
    )
    check(
        "trainingData",
        (old.get("name"), current["datasets"].get("trainingDataCatalogId"))
        == (new.get("name"), package["datasets"].get("trainingDataCatalogId")),
        "warning",
        "Training data matches.",
        "The training data differs from the deployed model's: drift baselines will change.",
    )
    check("featureDataTypes", True, "failing", "Feature types match.", "")
    statuses = {c["status"] for c in checks.values()}
    status = (
        "failing" if "failing" in statuses else "warning" if "warning" in statuses else "passing"
    )
    messages = {
        "passing": "Model can be used to replace the current model of the deployment.",
        "warning": "Model can be used to replace the current model of the deployment, with warnings.",
        "failing": "Model cannot be used to replace the current model of the deployment.",
    }
    return {"status": status, "message": messages[status], "checks": checks}


def _replacement_package(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    package_id = body.get("modelPackageId")
    if not package_id and body.get("modelId"):
        found = [p for p in store.packages.values() if p["modelId"] == body["modelId"]]
        if not found:
            raise invalid({"modelId": "no model package of this model"})
        package_id = max(found, key=lambda p: p["_seq"])["id"]
    if not package_id:
        raise invalid({"modelPackageId": "is required"})
    return visible_package(store, str(package_id))


@extra("POST", D + "{deploymentId}/model/validation/")
def validate_model_replacement(deploymentId: str) -> Response:
    store = emulator().store
    deployment = find_deployment(deploymentId)
    package = _replacement_package(store, read_body().data)
    return respond(validate_replacement(store, deployment, package))


@extra("PATCH", D + "{deploymentId}/model/")
def replace_model(deploymentId: str) -> Response:
    store = emulator().store
    deployment = find_deployment(deploymentId, WRITE)
    body = read_body().data
    package = _replacement_package(store, body)
    _choice(body, "reason", REASONS, "")
    if time.time() < deployment["_busyUntil"]:
        raise ApiError(409, f"The deployment is {deployment['_transition']}: try again later")
    if deployment["_status"] != "active":
        raise ApiError(422, "The deployment is inactive: activate it before replacing its model")
    validation = validate_replacement(store, deployment, package)
    if validation["status"] == "failing":
        raise ApiError(422, validation["message"], checks=validation["checks"])
    ready_at = time.time() + _delay()
    deployment["_servedSince"], _ = store.stamp()
    deployment.update(_transition="replacingModel", _busyUntil=ready_at)
    recount(store, *_serve(store, deployment, package))
    for key in emulator().config["replacementResetsSettings"]:
        if key in DEFAULT_SETTINGS:
            deployment["settings"][key] = copy.deepcopy(DEFAULT_SETTINGS[key])
    status = new_status(
        "modelReplacement", _to_deployment(deploymentId), ready_at, "Model replacement"
    )
    return accepted(status["id"], {"statusId": status["id"], "checks": validation["checks"]})


# -- settings ---------------------------------------------------------------------------


def _merge_settings(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    merged = copy.deepcopy(current)
    for key, value in changes.items():
        if key not in DEFAULT_SETTINGS:
            errors[key] = f"{key} is not allowed key"
            continue
        if not isinstance(value, dict):
            errors[key] = "must be an object"
            continue
        if "enabled" in value and not isinstance(value["enabled"], bool):
            errors[f"{key}.enabled"] = "must be a boolean"
        merged[key] = {**(merged.get(key) or {}), **value}
    segment = changes.get("segmentAnalysis")
    if isinstance(segment, dict) and "enabled" not in segment:
        errors["segmentAnalysis.enabled"] = "is required"
    association = changes.get("associationId")
    if isinstance(association, dict) and "columnNames" in association:
        names = association["columnNames"]
        if not isinstance(names, list) or len(names) > 1:
            errors["associationId.columnNames"] = "must be a list of at most one column name"
    if merged["challengerModels"].get("enabled") and not merged["predictionsDataCollection"].get(
        "enabled"
    ):
        errors["challengerModels.enabled"] = (
            "challenger models need predictionsDataCollection enabled"
        )
    if errors:
        raise invalid(errors)
    return merged


@extra("GET", D + "{deploymentId}/settings/")
def get_settings(deploymentId: str) -> Response:
    return respond(find_deployment(deploymentId)["settings"])


@extra("PATCH", D + "{deploymentId}/settings/")
def update_settings(deploymentId: str) -> Response:
    deployment = find_deployment(deploymentId, WRITE)
    deployment["settings"] = _merge_settings(deployment["settings"], read_body().data)
    status = new_status(
        "deploymentSettings", _to_deployment(deploymentId), time.time() + _delay(), "Settings"
    )
    return accepted(status["id"])


# -- challengers ------------------------------------------------------------------------


def challenger_view(store: Store, challenger: dict[str, Any]) -> dict[str, Any]:
    package = store.packages[challenger["modelPackageId"]]
    environment = store.prediction_environments.get(challenger["predictionEnvironmentId"] or "")
    return {
        "id": challenger["id"],
        "name": challenger["name"],
        "model": {
            "id": package["modelId"],
            "name": package["name"],
            "type": "Custom Inference Model",
        },
        "modelPackage": {
            "id": package["id"],
            "name": package["name"],
            "registeredModelId": package["registeredModelId"],
        },
        "predictionEnvironment": (
            {
                "id": environment["id"],
                "name": environment["name"],
                "platform": environment["platform"],
            }
            if environment
            else None
        ),
    }


def _challenger(deploymentId: str, challengerId: str, need: str = READ) -> dict[str, Any]:
    find_deployment(deploymentId, need)
    challenger: dict[str, Any] | None = emulator().store.challengers.get(challengerId)
    if challenger is None or challenger["deploymentId"] != deploymentId:
        raise not_found("Challenger")
    return challenger


def _environment_id(store: Store, value: Any) -> str | None:
    if value is not None and value not in store.prediction_environments:
        raise invalid({"predictionEnvironmentId": f"prediction environment {value} not found"})
    return value if value is None else str(value)


@extra("POST", D + "{deploymentId}/challengers/")
def create_challenger(deploymentId: str) -> Response:
    store = emulator().store
    deployment = find_deployment(deploymentId, WRITE)
    body = read_body().data
    if not deployment["settings"]["challengerModels"].get("enabled"):
        raise ApiError(422, "Challenger models are not enabled for this deployment")
    package = visible_package(store, str(body.get("modelPackageId") or ""))
    if not isinstance(body.get("name"), str) or not body["name"].strip():
        raise invalid({"name": "is required"})
    ours = [c for c in store.challengers.values() if c["deploymentId"] == deploymentId]
    if len(ours) >= MAX_CHALLENGERS:
        raise ApiError(422, f"A deployment has at most {MAX_CHALLENGERS} challengers")
    validation = validate_replacement(store, deployment, package)
    if validation["status"] == "failing":
        raise ApiError(422, validation["message"], checks=validation["checks"])
    _, seq = store.stamp()
    challenger = {
        "id": store.new_id(),
        "deploymentId": deploymentId,
        "name": body["name"],
        "modelPackageId": package["id"],
        "predictionEnvironmentId": _environment_id(store, body.get("predictionEnvironmentId")),
        "_seq": seq,
    }
    store.challengers[challenger["id"]] = challenger
    location = f"{D}{deploymentId}/challengers/{challenger['id']}/"
    status = new_status("challenger", location, time.time() + _delay(), "Challenger")
    return accepted(status["id"])


@extra("GET", D + "{deploymentId}/challengers/")
def list_challengers(deploymentId: str) -> Response:
    store = emulator().store
    find_deployment(deploymentId)
    ours = sorted(
        (c for c in store.challengers.values() if c["deploymentId"] == deploymentId),
        key=lambda c: c["_seq"],
    )
    chunk, meta = page(ours)
    return respond(envelope(meta, [challenger_view(store, c) for c in chunk]))


@extra("GET", D + "{deploymentId}/challengers/{challengerId}/")
def get_challenger(deploymentId: str, challengerId: str) -> Response:
    return respond(challenger_view(emulator().store, _challenger(deploymentId, challengerId)))


@extra("PATCH", D + "{deploymentId}/challengers/{challengerId}/")
def update_challenger(deploymentId: str, challengerId: str) -> Response:
    store = emulator().store
    challenger = _challenger(deploymentId, challengerId, WRITE)
    body = read_body().data
    unknown = sorted(set(body) - {"name", "predictionEnvironmentId"})
    if unknown:
        raise invalid({key: f"{key} is not allowed key" for key in unknown})
    if "predictionEnvironmentId" in body:
        challenger["predictionEnvironmentId"] = _environment_id(
            store, body["predictionEnvironmentId"]
        )
    if "name" in body:
        challenger["name"] = body["name"]
    return respond(challenger_view(store, challenger))


@extra("DELETE", D + "{deploymentId}/challengers/{challengerId}/")
def delete_challenger(deploymentId: str, challengerId: str) -> Response:
    _challenger(deploymentId, challengerId, WRITE)
    del emulator().store.challengers[challengerId]
    return no_content()


# -- actuals, sharing -------------------------------------------------------------------


@extra("POST", D + "{deploymentId}/actuals/fromDataset/")
def submit_actuals(deploymentId: str) -> Response:
    store = emulator().store
    find_deployment(deploymentId, WRITE)
    body = read_body().data
    dataset = store.datasets.get(str(body.get("datasetId")))
    if dataset is None:
        raise ApiError(404, "Dataset not found", {"datasetId": "not found"})
    errors = {
        key: f"{body.get(key)!r} is not a column of {dataset['name']}"
        for key in ("actualValueColumn", "associationIdColumn")
        if body.get(key) not in dataset["columns"]
    }
    if errors:
        raise invalid(errors)
    status = new_status("actuals", _to_deployment(deploymentId), time.time() + _delay(), "Actuals")
    return accepted(status["id"])


@extra("GET", D + "{deploymentId}/sharedRoles/")
def list_deployment_roles(deploymentId: str) -> Response:
    return list_roles(emulator().store, find_deployment(deploymentId), can_share=False)


@extra("PATCH", D + "{deploymentId}/sharedRoles/")
def update_deployment_roles(deploymentId: str) -> Response:
    emu = emulator()
    deployment = find_deployment(deploymentId, SHARE)
    body = emu.reference.validate("SharedRolesUpdate", read_body().data)
    update_roles(emu.store, deployment, body["roles"], "deployment", _DEPLOYMENT_ROLES)
    return no_content()
