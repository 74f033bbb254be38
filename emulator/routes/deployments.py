"""Deployments of custom models as the custom model routes see them, and an admin shortcut.

Real deployments are made through the registry (:mod:`emulator.routes.production`); for
tests that only need "this model is deployed", ``POST
/__emulator__/customModels/{customModelId}/deploy`` (body, all
optional: ``{"customModelVersionId", "label"}``; default the latest version) deploys a
model: the version becomes frozen, the model's ``deploymentsCount`` goes up, DELETE of
the model and PATCH of its target fields become 409s, and the deployment shows in
``GET /api/v2/customModelDeployments/``. ``DELETE /__emulator__/deployments/{id}/``
undeploys (the version stays frozen, as in DataRobot).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, request

from emulator.access import model_grant
from emulator.errors import ApiError, not_found
from emulator.paging import envelope, page
from emulator.routes.admin import admin_body
from emulator.routing import accepted, api, caller, emulator, extra, no_content, respond, text
from emulator.statuses import new_status
from emulator.store import Store
from emulator.views import touch_model

LIMITS = {
    "desiredCustomModelContainerSize": 2 * 1024**3,
    "maxCustomModelContainerSize": 15032385536,
    "maxCustomModelReplicasPerDeployment": 8,
    "maxCustomModelTestingParallelUsers": 5,
}


def image_for(store: Store, version: dict[str, Any]) -> str:
    """The id of the image of a version on its environment version (made once)."""
    key = f"{version['id']}:{version['baseEnvironmentVersionId']}"
    image = next((i for i in store.images.values() if i["key"] == key), None)
    if image is None:
        image = {"id": store.new_id(), "key": key}
        store.images[image["id"]] = image
    return str(image["id"])


def deployment_state(deployment: dict[str, Any]) -> str:
    """A registry deployment's state (see :mod:`emulator.routes.production`); else active."""
    if "_status" not in deployment:
        return "active"
    if time.time() < deployment["_busyUntil"]:
        return str(deployment["_transition"])
    return str(deployment["_status"])


def deployment_view(store: Store, deployment: dict[str, Any]) -> dict[str, Any]:
    version = store.versions[deployment["customModelVersionId"]]
    env = store.environments[version["baseEnvironmentId"]]
    env_version = store.environment_versions[version["baseEnvironmentVersionId"]]
    model = store.models[version["customModelId"]]
    return {
        "id": deployment["id"],
        "customModel": {"id": model["id"], "name": model["name"]},
        "customModelVersion": {"id": version["id"], "label": version["label"]},
        "customModelImageId": deployment["customModelImageId"],
        "executionEnvironment": {"id": env["id"], "name": env["name"]},
        "executionEnvironmentVersion": {"id": env_version["id"], "label": env_version["label"]},
        "deployed": deployment["deployed"],
        "deployedBy": deployment["deployedBy"],
        "imageType": "customModelVersion",
        "label": deployment["label"],
        "status": deployment_state(deployment),
        "testingStatus": "not_tested",
    }


@extra("POST", "/__emulator__/customModels/{customModelId}/deploy")
def admin_deploy(customModelId: str) -> Response:
    store = emulator().store
    model = store.models.get(customModelId)
    if model is None:
        raise not_found("Custom model")
    body = admin_body()
    version_id = body.get("customModelVersionId") or (model["_versionIds"] or [None])[-1]
    if version_id not in model["_versionIds"]:
        raise ApiError(
            422,
            "The custom model has no such version to deploy",
            {"customModelVersionId": "not a version of this model"},
        )
    version = store.versions[version_id]
    deployed, seq = store.stamp()
    deployment = {
        "id": store.new_id(),
        "customModelVersionId": version_id,
        "customModelImageId": image_for(store, version),
        "deployed": deployed,
        "deployedBy": store.users[store.seed.token_owner]["username"],
        "label": str(body.get("label") or f"{model['name']} deployment"),
        "_seq": seq,
        "_logs": [],
    }
    store.deployments[deployment["id"]] = deployment
    version["isFrozen"] = True
    model["deploymentsCount"] += 1
    touch_model(store, model, version_id)
    return respond(deployment_view(store, deployment), 201)


@extra("DELETE", "/__emulator__/deployments/{deploymentId}/")
def admin_undeploy(deploymentId: str) -> Response:
    store = emulator().store
    deployment = store.deployments.pop(deploymentId, None)
    if deployment is None:
        raise not_found("Deployment")
    model = store.models.get(store.versions[deployment["customModelVersionId"]]["customModelId"])
    if model is not None:
        model["deploymentsCount"] -= 1
        touch_model(store, model)
    return no_content()


def _id_list(name: str) -> set[str] | None:
    values = [v for raw in request.args.getlist(name) for v in raw.split(",") if v]
    return set(values) if values else None


@api("GET", "/api/v2/customModelDeployments/")
def list_deployments() -> Response:
    store = emulator().store
    model_ids, env_ids = _id_list("customModelIds"), _id_list("environmentIds")
    views = []
    for deployment in sorted(store.deployments.values(), key=lambda d: d["_seq"], reverse=True):
        view = deployment_view(store, deployment)
        model = store.models[view["customModel"]["id"]]
        if not model_grant(model, caller()["id"]):
            continue
        if model_ids is not None and model["id"] not in model_ids:
            continue
        if env_ids is not None and view["executionEnvironment"]["id"] not in env_ids:
            continue
        views.append(view)
    chunk, meta = page(views)
    return respond(envelope(meta, list(chunk)))


def _deployment(deployment_id: str) -> dict[str, Any]:
    store = emulator().store
    deployment = store.deployments.get(deployment_id)
    if deployment is None:
        raise not_found("Deployment")
    model = store.models[store.versions[deployment["customModelVersionId"]]["customModelId"]]
    if not model_grant(model, caller()["id"]):
        raise not_found("Deployment")
    return deployment


@api("GET", "/api/v2/customModelDeployments/{deploymentId}/logs/")
def get_deployment_log(deploymentId: str) -> Response:
    view = deployment_view(emulator().store, _deployment(deploymentId))
    log = (
        f"Deploying custom model {view['customModel']['name']} version {view['customModelVersion']['label']}\n"
        f"Image {view['customModelImageId']} on {view['executionEnvironment']['name']}\n"
        "Deployment is active\n"
    )
    return text(log, f"deployment-{deploymentId}.log")


@api("POST", "/api/v2/customModelDeployments/{deploymentId}/logs/")
def request_deployment_log(deploymentId: str) -> Response:
    deployment = _deployment(deploymentId)
    store = emulator().store
    status = new_status("deploymentLog", "", time.time() + emulator().config["asyncDelayMs"] / 1000)
    status["location"] = f"/api/v2/customModelDeployments/{deploymentId}/logs/{status['id']}/"
    deployment["_logs"].append(status["id"])
    store.changed()
    return accepted(status["id"])


@api("GET", "/api/v2/customModelDeployments/{deploymentId}/logs/{logId}/")
def get_deployment_prediction_log(deploymentId: str, logId: str) -> Response:
    deployment = _deployment(deploymentId)
    if logId not in deployment["_logs"]:
        raise ApiError(404, "No logs found.")
    return text(
        f"Prediction server log of deployment {deploymentId}\nNo predictions were made (emulator)\n",
        f"deployment-{deploymentId}.log",
    )


@api("GET", "/api/v2/customModelLimits/")
def get_model_limits() -> Response:
    return respond(LIMITS)
