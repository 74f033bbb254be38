"""The Model Registry: registered models and their versions (model packages), and the
prediction environments deployments run in (API-DELIVERY.md §4, §5, §6).

None of this is in the reference; the shapes are what the official client's converters
require, DataRobot's custom-models action and the Terraform provider read.

* ``POST /api/v2/modelPackages/fromCustomModelVersion/`` ``{customModelVersionId,
  name?, description?, registeredModelName? | registeredModelId?, tags?,
  registeredModelTags?, registeredModelDescription?}`` → **201** with the package and
  ``Location`` of a status that redirects to it when its build is done (``buildStatus``
  ``inProgress`` then ``complete`` after ``asyncDelayMs``). A new name makes a registered
  model (this package is version 1), an ID adds the next version, neither makes one named
  after the package; both is a 422; a name already used is a 409 ("... is already in
  use"). The package's ``modelId`` is the custom model version ID.
* ``GET /api/v2/modelPackages/`` (``modelId``, ``forChallenger``), ``GET .../{id}/``.
* ``GET /api/v2/registeredModels/`` (``search``, ``isArchived``, ``targetName``,
  ``targetType``, ``buildStatus``...), ``GET/PATCH {name, description, isGlobal}/DELETE``
  (archive) ``.../{id}/``, ``.../versions/`` (filters), ``.../versions/{vid}/`` (GET,
  PATCH ``{name}``), ``.../deployments/`` and ``.../versions/{vid}/deployments/``,
  ``.../sharedRoles/`` (GET, PATCH ``updateRoles``: 204).
* ``GET /api/v2/predictionEnvironments/`` (``supportedModelFormats``, ``search``),
  ``POST`` (201), ``GET``/``PATCH`` (200)/``DELETE`` (204; 409 while deployments or
  challengers use it) ``.../{id}/``: the seeded environments and those made here.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, request

from emulator.access import READ, SHARE, WRITE, job_grant, model_grant, require
from emulator.bodies import read_body
from emulator.errors import ApiError, invalid, not_found
from emulator.paging import envelope, page
from emulator.routes.deployments import deployment_state
from emulator.routes.sharing import list_roles, update_roles
from emulator.routing import absolute, caller, emulator, extra, no_content, respond
from emulator.statuses import new_status
from emulator.store import Store, iso

RM = "/api/v2/registeredModels/"
#: The platforms and model formats the official client accepts (API-DELIVERY.md §5).
PLATFORMS = (
    "aws",
    "gcp",
    "azure",
    "onPremise",
    "datarobot",
    "datarobotServerless",
    "openShift",
    "other",
    "snowflake",
    "sapAiCore",
)
MODEL_FORMATS = ("datarobot", "datarobotScoringCode", "customModel", "externalModel")
_RM_ROLES = ("OWNER", "USER", "CONSUMER", "EDITOR", "READ_ONLY", "READ_WRITE")


def user_ref(store: Store, user_id: str) -> dict[str, Any]:
    user = store.users[user_id]
    name = f"{user.get('firstName', '')} {user.get('lastName', '')}".strip()
    return {"id": user["id"], "email": user["username"], "name": name or user["username"]}


# -- prediction environments ------------------------------------------------------------


def environment_view(environment: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": environment["id"],
        "name": environment["name"],
        "description": environment["description"],
        "platform": environment["platform"],
        "supportedModelFormats": list(environment["supportedModelFormats"]),
        "isDeleted": False,
        "isManagedByManagementAgent": bool(environment.get("isManagedByManagementAgent")),
        "managedBy": "selfManaged",
        **{
            k: environment[k]
            for k in ("plugin", "datastoreId", "credentialId")
            if environment.get(k)
        },
        "permissions": ["CAN_DEPLOY", "CAN_VIEW"],
        "health": {
            "status": "passing",
            "message": "The prediction environment is healthy",
            "timestamp": iso(time.time()),
        },
    }


@extra("GET", "/api/v2/predictionEnvironments/")
def list_prediction_environments() -> Response:
    store = emulator().store
    formats = request.args.get("supportedModelFormats")
    search = (request.args.get("search") or "").lower()
    items = [
        environment_view(e)
        for e in store.prediction_environments.values()
        if (formats is None or formats in e["supportedModelFormats"])
        and search in e["name"].lower()
    ]
    chunk, meta = page(items)
    return respond(envelope(meta, list(chunk)))


def _environment(environment_id: str) -> dict[str, Any]:
    environment: dict[str, Any] | None = emulator().store.prediction_environments.get(
        environment_id
    )
    if environment is None:
        raise not_found("Prediction environment")
    return environment


def _environment_fields(body: dict[str, Any], creating: bool) -> dict[str, Any]:
    allowed = {
        "name",
        "description",
        "platform",
        "supportedModelFormats",
        "plugin",
        "isManagedByManagementAgent",
        "datastoreId",
        "credentialId",
    }
    errors = {key: f"{key} is not allowed key" for key in sorted(set(body) - allowed)}
    if creating:
        errors.update({k: "is required" for k in ("name", "platform") if k not in body})
    if "name" in body and (not isinstance(body["name"], str) or not body["name"].strip()):
        errors["name"] = "must be a non-empty string"
    if "platform" in body and body["platform"] not in PLATFORMS:
        errors["platform"] = "must be one of: " + ", ".join(PLATFORMS)
    formats = body.get("supportedModelFormats")
    if formats is not None and (
        not isinstance(formats, list) or not set(formats) <= set(MODEL_FORMATS)
    ):
        errors["supportedModelFormats"] = "must be a list of: " + ", ".join(MODEL_FORMATS)
    if errors:
        raise invalid(errors)
    return body


@extra("POST", "/api/v2/predictionEnvironments/")
def create_prediction_environment() -> Response:
    store = emulator().store
    body = _environment_fields(read_body().data, creating=True)
    environment = {
        "id": store.new_id(),
        "description": "",
        "supportedModelFormats": ["datarobot", "customModel"],
        **body,
    }
    store.prediction_environments[environment["id"]] = environment
    return respond(environment_view(environment), 201)


@extra("GET", "/api/v2/predictionEnvironments/{predictionEnvironmentId}/")
def get_prediction_environment(predictionEnvironmentId: str) -> Response:
    return respond(environment_view(_environment(predictionEnvironmentId)))


@extra("PATCH", "/api/v2/predictionEnvironments/{predictionEnvironmentId}/")
def update_prediction_environment(predictionEnvironmentId: str) -> Response:
    environment = _environment(predictionEnvironmentId)
    environment.update(_environment_fields(read_body().data, creating=False))
    return respond(environment_view(environment))


@extra("DELETE", "/api/v2/predictionEnvironments/{predictionEnvironmentId}/")
def delete_prediction_environment(predictionEnvironmentId: str) -> Response:
    store = emulator().store
    environment = _environment(predictionEnvironmentId)
    in_use = [
        d["id"]
        for d in store.deployments.values()
        if d.get("predictionEnvironmentId") == environment["id"]
    ] + [
        c["id"]
        for c in store.challengers.values()
        if c.get("predictionEnvironmentId") == environment["id"]
    ]
    if in_use:
        raise ApiError(
            409,
            "The prediction environment is used by deployments and cannot be deleted",
            deployments=in_use,
        )
    del store.prediction_environments[environment["id"]]
    return no_content()


# -- packages ---------------------------------------------------------------------------


def package_build_status(package: dict[str, Any]) -> str:
    return "complete" if time.time() >= package["_readyAt"] else "inProgress"


def active_deployments(store: Store, package_id: str) -> list[dict[str, Any]]:
    return [d for d in store.deployments.values() if d.get("modelPackageId") == package_id]


def package_view(store: Store, package: dict[str, Any]) -> dict[str, Any]:
    public = {k: v for k, v in package.items() if not k.startswith("_")}
    return {
        **public,
        "buildStatus": package_build_status(package),
        "activeDeploymentCount": len(active_deployments(store, package["id"])),
        "permissions": ["CAN_VIEW", "CAN_EDIT", "CAN_DEPLOY"],
    }


def visible_registered_model(store: Store, rm_id: str, need: str = READ) -> dict[str, Any]:
    registered = store.registeredModels.get(rm_id)
    require(
        job_grant(store, registered, caller()) if registered else None, need, "Registered model"
    )
    assert registered is not None
    return registered


def visible_package(store: Store, package_id: str) -> dict[str, Any]:
    package = store.packages.get(package_id)
    if package is None:
        raise not_found("Model package")
    visible_registered_model(store, package["registeredModelId"])
    return package


def _new_registered_model(
    store: Store, name: str, description: str, target: dict[str, Any]
) -> dict[str, Any]:
    now, seq = store.stamp()
    user = caller()
    registered: dict[str, Any] = {
        "id": store.new_id(),
        "name": name,
        "description": description,
        "createdAt": now,
        "modifiedAt": now,
        "createdBy": user_ref(store, user["id"]),
        "modifiedBy": user_ref(store, user["id"]),
        "target": {"name": target["name"], "type": target["type"]},
        "lastVersionNum": 0,
        "isArchived": False,
        "isGlobal": False,
        "tags": [],
        "_roles": [
            {"shareRecipientType": "user", "id": user["id"], "role": "OWNER", "canShare": True}
        ],
        "_seq": seq,
    }
    store.registeredModels[registered["id"]] = registered
    return registered


def _name_taken(store: Store, name: str) -> None:
    if any(r["name"] == name and not r["isArchived"] for r in store.registeredModels.values()):
        raise ApiError(
            409,
            f"Registered model name '{name}' is already in use",
            {"registeredModelName": "is already in use"},
        )


def _target(model: dict[str, Any]) -> dict[str, Any]:
    classes = model.get("classLabels") or (
        [model["positiveClassLabel"], model["negativeClassLabel"]]
        if model["targetType"] == "Binary"
        else None
    )
    return {
        "name": model.get("targetName"),
        "type": model["targetType"],
        "classNames": classes,
        "classCount": len(classes) if classes else None,
        "predictionThreshold": model.get("predictionThreshold"),
        "predictionProbabilitiesColumn": None,
    }


def register_version(store: Store, version: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Make a model package of a custom model version (the route's logic; also the client's
    legacy path)."""
    model = store.models[version["customModelId"]]
    name_given, id_given = body.get("registeredModelName"), body.get("registeredModelId")
    if name_given and id_given:
        raise invalid(
            {"registeredModelId": "give registeredModelName or registeredModelId, not both"}
        )
    target = _target(model)
    package_name = body.get("name") or f"{model['name']} ({version['label']})"
    if id_given:
        registered = visible_registered_model(store, id_given, WRITE)
        if registered["isArchived"]:
            raise invalid({"registeredModelId": "the registered model is archived"})
        if registered["target"] != {"name": target["name"], "type": target["type"]}:
            raise invalid(
                {"registeredModelId": "the registered model's target differs from this version's"}
            )
    else:
        name = name_given or package_name
        _name_taken(store, name)
        registered = _new_registered_model(
            store, name, body.get("registeredModelDescription") or "", target
        )
    registered["lastVersionNum"] += 1
    now, seq = store.stamp()
    registered["modifiedAt"] = now
    training = version.get("trainingData") or {}
    holdout = version.get("holdoutData") or {}
    emu = emulator()
    package = {
        "id": store.new_id(),
        "registeredModelId": registered["id"],
        "registeredModelVersion": registered["lastVersionNum"],
        "name": package_name,
        "description": body.get("description") or "",
        "modelId": version["id"],
        "modelExecutionType": "custom_inference_model",
        "isArchived": False,
        "isDeprecated": False,
        "importMeta": {
            "creatorId": caller()["id"],
            "creatorUsername": caller()["username"],
            "dateCreated": now,
            "originalFileName": None,
            "containsFearPipeline": False,
            "containsFeaturelists": False,
            "containsLeaderboardMeta": False,
            "containsProjectMeta": False,
        },
        "sourceMeta": {
            "environmentUrl": None,
            "projectId": None,
            "projectName": None,
            "scoringCode": {"location": None, "dataRobotPredictionVersion": None},
            "customModelDetails": {
                "id": model["id"],
                "versionLabel": version["label"],
                "creatorId": caller()["id"],
                "creatorName": caller()["username"],
                "creatorEmail": caller()["username"],
                "createdAt": version["created"],
            },
        },
        "modelKind": {
            "isTimeSeries": False,
            "isMultiseries": False,
            "isUnsupervisedLearning": model["targetType"] == "Anomaly",
            "isAnomalyDetectionModel": model["targetType"] == "Anomaly",
            "isFeatureDiscovery": False,
            "isCombinedModel": False,
            "isDecisionFlow": False,
            "isUnstructured": model["targetType"] == "Unstructured",
        },
        "target": target,
        "modelDescription": {
            "modelName": model["name"],
            "description": model.get("description") or "",
            "location": None,
            "buildEnvironmentType": model.get("language") or "Python",
            "modelCreatorId": caller()["id"],
            "modelCreatorName": caller()["username"],
            "modelCreatedAt": version["created"],
        },
        "datasets": {
            "trainingDataCatalogId": training.get("datasetId"),
            "trainingDataCatalogVersionId": training.get("datasetVersionId"),
            "holdoutDataCatalogId": holdout.get("datasetId"),
            "holdoutDataCatalogVersionId": holdout.get("datasetVersionId"),
            "trainingDataName": training.get("datasetName"),
        },
        "timeseries": {},
        "userProvidedId": None,
        "createdAt": now,
        "updatedAt": now,
        "updatedBy": user_ref(store, caller()["id"]),
        "tags": [
            {"id": store.new_id(), "name": t.get("name"), "value": t.get("value")}
            for t in body.get("tags") or []
        ],
        "_readyAt": time.time() + emu.config["asyncDelayMs"] / 1000,
        "_seq": seq,
    }
    store.packages[package["id"]] = package
    return package


@extra("POST", "/api/v2/modelPackages/fromCustomModelVersion/")
def create_package_from_custom_model_version() -> Response:
    store = emulator().store
    body = read_body().data
    version_id = body.get("customModelVersionId")
    if not isinstance(version_id, str):
        raise invalid({"customModelVersionId": "is required"})
    version = store.versions.get(version_id)
    model = store.models.get(version["customModelId"]) if version else None
    if version is None or model is None or not model_grant(model, caller()["id"]):
        raise ApiError(404, "Custom model version not found", {"customModelVersionId": "not found"})
    package = register_version(store, version, body)
    status = new_status(
        "modelPackageBuild",
        f"/api/v2/modelPackages/{package['id']}/",
        package["_readyAt"],
        "Model package build",
    )
    return respond(
        package_view(store, package),
        201,
        {"Location": absolute(f"/api/v2/status/{status['id']}/")},
    )


@extra("GET", "/api/v2/modelPackages/")
def list_packages() -> Response:
    store = emulator().store
    model_id = request.args.get("modelId")
    packages = [
        p
        for p in sorted(store.packages.values(), key=lambda p: p["_seq"], reverse=True)
        if (model_id is None or p["modelId"] == model_id)
        and job_grant(store, store.registeredModels[p["registeredModelId"]], caller())
    ]
    chunk, meta = page(packages)
    return respond(envelope(meta, [package_view(store, p) for p in chunk]))


@extra("GET", "/api/v2/modelPackages/{modelPackageId}/")
def get_package(modelPackageId: str) -> Response:
    store = emulator().store
    return respond(package_view(store, visible_package(store, modelPackageId)))


# -- registered models ------------------------------------------------------------------


def registered_view(store: Store, registered: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in registered.items() if not k.startswith("_")}


@extra("GET", RM)
def list_registered_models() -> Response:
    store = emulator().store
    search = (request.args.get("search") or "").lower()
    archived = request.args.get("isArchived")
    filters = {
        "targetName": request.args.get("targetName"),
        "targetType": request.args.get("targetType"),
    }
    items = []
    for registered in sorted(
        store.registeredModels.values(), key=lambda r: r["_seq"], reverse=True
    ):
        if not job_grant(store, registered, caller()):
            continue
        if search and search not in registered["name"].lower():
            continue
        if archived is None and registered["isArchived"]:
            continue
        if archived is not None and registered["isArchived"] != (archived.lower() == "true"):
            continue
        target = registered["target"]
        if filters["targetName"] not in (None, target["name"]):
            continue
        if filters["targetType"] not in (None, target["type"]):
            continue
        items.append(registered_view(store, registered))
    chunk, meta = page(items)
    return respond(envelope(meta, list(chunk)))


@extra("GET", RM + "{registeredModelId}/")
def get_registered_model(registeredModelId: str) -> Response:
    store = emulator().store
    return respond(registered_view(store, visible_registered_model(store, registeredModelId)))


@extra("PATCH", RM + "{registeredModelId}/")
def update_registered_model(registeredModelId: str) -> Response:
    store = emulator().store
    registered = visible_registered_model(store, registeredModelId, WRITE)
    body = read_body().data
    unknown = sorted(set(body) - {"name", "description", "isGlobal"})
    if unknown:
        raise invalid({key: f"{key} is not allowed key" for key in unknown})
    if "name" in body and body["name"] != registered["name"]:
        if not isinstance(body["name"], str) or not body["name"].strip():
            raise invalid({"name": "must be a non-empty string"})
        _name_taken(store, body["name"])
    if "description" in body and not isinstance(body["description"], str):
        raise invalid({"description": "must be a string"})
    if "isGlobal" in body and not isinstance(body["isGlobal"], bool):
        raise invalid({"isGlobal": "must be a boolean"})
    registered.update(body)
    registered["modifiedAt"], _ = store.stamp()
    registered["modifiedBy"] = user_ref(store, caller()["id"])
    return respond(registered_view(store, registered))


@extra("DELETE", RM + "{registeredModelId}/")
def archive_registered_model(registeredModelId: str) -> Response:
    store = emulator().store
    registered = visible_registered_model(store, registeredModelId, WRITE)
    packages = [p for p in store.packages.values() if p["registeredModelId"] == registered["id"]]
    if any(active_deployments(store, p["id"]) for p in packages):
        raise ApiError(
            409, "The registered model has versions in use by deployments and cannot be archived"
        )
    registered["isArchived"] = True
    for package in packages:
        package["isArchived"] = True
    return no_content()


def _versions_of(store: Store, registered: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(
        (p for p in store.packages.values() if p["registeredModelId"] == registered["id"]),
        key=lambda p: p["registeredModelVersion"],
        reverse=True,
    )


@extra("GET", RM + "{registeredModelId}/versions/")
def list_registered_versions(registeredModelId: str) -> Response:
    store = emulator().store
    registered = visible_registered_model(store, registeredModelId)
    build_status = request.args.get("buildStatus")
    search = (request.args.get("search") or "").lower()
    views = [
        package_view(store, p)
        for p in _versions_of(store, registered)
        if search in p["name"].lower()
    ]
    if build_status is not None:
        views = [v for v in views if v["buildStatus"] == build_status]
    chunk, meta = page(views)
    return respond(envelope(meta, list(chunk)))


def _registered_version(registeredModelId: str, versionId: str, need: str = READ) -> dict[str, Any]:
    store = emulator().store
    registered = visible_registered_model(store, registeredModelId, need)
    package = store.packages.get(versionId)
    if package is None or package["registeredModelId"] != registered["id"]:
        raise not_found("Registered model version")
    return package


@extra("GET", RM + "{registeredModelId}/versions/{versionId}/")
def get_registered_version(registeredModelId: str, versionId: str) -> Response:
    package = _registered_version(registeredModelId, versionId)
    return respond(package_view(emulator().store, package))


@extra("PATCH", RM + "{registeredModelId}/versions/{versionId}/")
def update_registered_version(registeredModelId: str, versionId: str) -> Response:
    package = _registered_version(registeredModelId, versionId, WRITE)
    body = read_body().data
    unknown = sorted(set(body) - {"name", "description"})
    if unknown:
        raise invalid({key: f"{key} is not allowed key" for key in unknown})
    package.update(body)
    package["updatedAt"], _ = emulator().store.stamp()
    return respond(package_view(emulator().store, package))


def associated_deployment(
    store: Store, deployment: dict[str, Any], package: dict[str, Any], challenger: bool
) -> dict[str, Any]:
    environment = store.prediction_environments.get(deployment["predictionEnvironmentId"] or "")
    return {
        "id": deployment["id"],
        "currentlyDeployed": True,
        "registeredModelVersion": package["registeredModelVersion"],
        "isChallenger": challenger,
        "status": deployment_state(deployment),
        "label": deployment["label"],
        "firstDeployedAt": deployment["deployed"],
        "firstDeployedBy": user_ref(store, deployment["_creatorId"]),
        "createdBy": user_ref(store, deployment["_creatorId"]),
        "predictionEnvironment": (
            {"id": environment["id"], "name": environment["name"]} if environment else None
        ),
    }


def _associated(store: Store, packages: list[dict[str, Any]]) -> Response:
    by_id = {p["id"]: p for p in packages}
    items = []
    for deployment in sorted(store.deployments.values(), key=lambda d: d["_seq"], reverse=True):
        if deployment.get("modelPackageId") in by_id:
            items.append(
                associated_deployment(store, deployment, by_id[deployment["modelPackageId"]], False)
            )
    for challenger in store.challengers.values():
        if (
            challenger["modelPackageId"] in by_id
            and challenger["deploymentId"] in store.deployments
        ):
            deployment = store.deployments[challenger["deploymentId"]]
            items.append(
                associated_deployment(store, deployment, by_id[challenger["modelPackageId"]], True)
            )
    chunk, meta = page(items)
    return respond(envelope(meta, list(chunk)))


@extra("GET", RM + "{registeredModelId}/deployments/")
def list_registered_model_deployments(registeredModelId: str) -> Response:
    store = emulator().store
    registered = visible_registered_model(store, registeredModelId)
    return _associated(store, _versions_of(store, registered))


@extra("GET", RM + "{registeredModelId}/versions/{versionId}/deployments/")
def list_registered_version_deployments(registeredModelId: str, versionId: str) -> Response:
    package = _registered_version(registeredModelId, versionId)
    return _associated(emulator().store, [package])


@extra("GET", RM + "{registeredModelId}/sharedRoles/")
def list_registered_model_roles(registeredModelId: str) -> Response:
    store = emulator().store
    return list_roles(store, visible_registered_model(store, registeredModelId))


@extra("PATCH", RM + "{registeredModelId}/sharedRoles/")
def update_registered_model_roles(registeredModelId: str) -> Response:
    emu = emulator()
    registered = visible_registered_model(emu.store, registeredModelId, SHARE)
    body = emu.reference.validate("SharedRolesUpdate", read_body().data)
    update_roles(emu.store, registered, body["roles"], "registered model", _RM_ROLES)
    return no_content()
