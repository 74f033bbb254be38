"""Custom models: list, create, copy, read, update, delete, download.

Beyond the reference, following API-NOTES.md: the list is newest-created first and embeds
each model's ``latestVersion``; responses always carry ``description`` and ``language``
(strings); PATCH answers 200; ``userProvidedId`` is unique (422, message starting "Cannot
create a custom model with a user provided ID"); on a deployed model, DELETE is a 409 and
a PATCH naming ``targetName``, ``positiveClassLabel``, ``negativeClassLabel`` or
``classLabels`` is a 409 (even with an unchanged value: strict on purpose).
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask import Response, request

from emulator.access import DELETE, READ, WRITE, model_grant, require
from emulator.bodies import read_body
from emulator.domain.filesets import zip_items
from emulator.errors import ApiError, bad_query, invalid, not_found
from emulator.paging import BOOL_STRINGS, enum_arg, envelope_bytes, page
from emulator.routes.model_tests import test_state
from emulator.routing import (
    absolute,
    accepted,
    api,
    caller,
    emulator,
    no_content,
    respond_raw,
)
from emulator.statuses import new_status
from emulator.store import Store
from emulator.training import dataset_for
from emulator.versioning import copy_versions
from emulator.views import latest_version, model_bytes, touch_model

NEEDS_TARGET_NAME = ("Binary", "Regression", "Multiclass", "TextGeneration")
DEPLOYED_LOCKED = ("targetName", "positiveClassLabel", "negativeClassLabel", "classLabels")
_BOOL_QUERY = {"true": True, "True": True, "false": False, "False": False}
_ORDERS = ("created", "-created", "updated", "-updated")
_MODEL_DEFAULTS: dict[str, Any] = {
    "description": "",
    "language": "",
    "targetName": None,
    "positiveClassLabel": None,
    "negativeClassLabel": None,
    "predictionThreshold": None,
    "classLabels": None,
    "userProvidedId": None,
    "gitModelVersion": None,
    "desiredMemory": None,
    "maximumMemory": None,
    "replicas": None,
    "requiresHa": None,
    "networkEgressPolicy": None,
    "resourceBundleId": None,
    "playgroundId": None,
    "calibratePredictions": False,
    "isTrainingDataForVersionsPermanentlyEnabled": False,
    "trainingDataAssignmentInProgress": False,
    "trainingDatasetId": None,
    "trainingDatasetVersionId": None,
    "trainingDataFileName": None,
    "trainingDataPartitionColumn": None,
    "externalMlopsStatsConfig": None,
}


def find_model(model_id: str, need: str = READ) -> dict[str, Any]:
    """The model, when it exists and the caller may ``need`` it (else 404/403)."""
    model = emulator().store.models.get(model_id)
    require(model_grant(model, caller()["id"]) if model else None, need, "Custom model")
    assert model is not None
    return model


# -- list -------------------------------------------------------------------------------


def _query_choice(name: str, choices: tuple[str, ...]) -> str | None:
    value = request.args.get(name)
    if value is not None and value not in choices:
        raise bad_query({name: "must be one of: " + ", ".join(choices)})
    return value


@api("GET", "/api/v2/customModels/")
def list_models() -> Response:
    store = emulator().store
    kind = _query_choice("customModelType", ("training", "inference"))
    deployed = _query_choice("isDeployed", tuple(_BOOL_QUERY))
    order = _query_choice("orderBy", _ORDERS) or "-created"
    search = (request.args.get("searchFor") or "").lower()
    user_id = caller()["id"]
    key = ("customModels", user_id, kind, deployed, order, search)
    models = store.cached_list(key)
    if models is None:
        models = _filtered_models(store, user_id, kind, deployed, order, search)
        store.cache_list(key, models)
    chunk, meta = page(models)
    return respond_raw(envelope_bytes(meta, [model_bytes(store, m) for m in chunk]))


def _filtered_models(
    store: Store, user_id: str, kind: str | None, deployed: str | None, order: str, search: str
) -> list[dict[str, Any]]:
    models = [m for m in store.models.values() if model_grant(m, user_id)]
    if kind:
        models = [m for m in models if m["customModelType"] == kind]
    if deployed is not None:
        models = [m for m in models if (m["deploymentsCount"] > 0) == _BOOL_QUERY[deployed]]
    if search:
        fields = ("name", "description", "language")
        models = [m for m in models if any(search in (m[f] or "").lower() for f in fields)]
    key = "_seq" if order.endswith("created") else "_updatedSeq"
    models.sort(key=lambda m: m[key], reverse=order.startswith("-"))
    return models


# -- create -----------------------------------------------------------------------------


def _target_type(body: dict[str, Any]) -> str:
    target = body.get("targetType")
    binary, regression = body.get("supportsBinaryClassification"), body.get("supportsRegression")
    if binary and regression:
        raise invalid({"targetType": "a model supports only one target type"})
    implied = "Binary" if binary else "Regression" if regression else None
    if target is None and implied is None:
        raise invalid({"targetType": "is required"})
    if target is not None and implied is not None and target != implied:
        raise invalid(
            {
                "targetType": f"{target} contradicts supports{'BinaryClassification' if binary else 'Regression'}"
            }
        )
    return str(target or implied)


def check_target_fields(model: dict[str, Any]) -> None:
    """The rules tying targetName and class labels to the target type (422 when broken)."""
    errors: dict[str, str] = {}
    target, inference = model["targetType"], model["customModelType"] == "inference"
    if inference and target in NEEDS_TARGET_NAME and not model["targetName"]:
        errors["targetName"] = f"is required for {target} inference models"
    if not inference and model["targetName"]:
        errors["targetName"] = "must not be set for training models"
    if target != "Binary":
        for label in ("positiveClassLabel", "negativeClassLabel"):
            if model[label] is not None:
                errors[label] = f"is only for Binary models, not {target}"
    if target == "Multiclass" and inference and len(model["classLabels"] or []) < 2:
        errors["classLabels"] = "needs at least two class labels for Multiclass models"
    if target != "Multiclass" and model["classLabels"]:
        errors["classLabels"] = f"is only for Multiclass models, not {target}"
    if errors:
        raise invalid(errors)


def _apply_labels(model: dict[str, Any], body: dict[str, Any]) -> None:
    positive, negative = "positiveClassLabel", "negativeClassLabel"
    given = [k for k in (positive, negative) if body.get(k) is not None]
    if len(given) == 1 and model[positive if given[0] == negative else negative] is None:
        missing = negative if given[0] == positive else positive
        raise invalid({missing: f"is required when {given[0]} is given"})
    if model["targetType"] == "Binary":
        model[positive] = model[positive] if model[positive] is not None else "1"
        model[negative] = model[negative] if model[negative] is not None else "0"
        if model["predictionThreshold"] is None:
            model["predictionThreshold"] = 0.5


def _check_user_provided_id(store: Store, value: str | None) -> None:
    if value is not None and value in store.user_provided_ids:
        raise ApiError(
            422,
            f"Cannot create a custom model with a user provided ID {value!r}: "
            f"custom model {store.user_provided_ids[value]} already has it",
            {"userProvidedId": "must be unique"},
        )


def new_model_doc(store: Store, fields: dict[str, Any]) -> dict[str, Any]:
    """A model document owned by the caller, from create fields (not yet stored)."""
    created, seq = store.stamp()
    user = caller()
    model_id = store.new_id()
    return {
        "id": model_id,
        **_MODEL_DEFAULTS,
        **fields,
        "created": created,
        "updated": created,
        "createdBy": user["username"],
        "deploymentsCount": 0,
        "_acl": [{"userId": user["id"], "role": "OWNER", "canShare": True}],
        "_versionIds": [],
        "_seq": seq,
        "_updatedSeq": seq,
        "_workspaceId": store.new_id(),
    }


def store_model(store: Store, model: dict[str, Any]) -> None:
    store.models[model["id"]] = model
    if model.get("userProvidedId"):
        store.user_provided_ids[model["userProvidedId"]] = model["id"]


@api("POST", "/api/v2/customModels/")
def create_model() -> Response:
    store = emulator().store
    body = read_body().data
    target = _target_type(body)
    unstructured = body.get("isUnstructuredModelKind")
    if unstructured is not None and unstructured != (target == "Unstructured"):
        raise invalid(
            {
                "isUnstructuredModelKind": f"is {str(unstructured).lower()} but targetType is {target}"
            }
        )
    _check_user_provided_id(store, body.get("userProvidedId"))
    fields = {
        k: v
        for k, v in body.items()
        if k
        not in ("supportsBinaryClassification", "supportsRegression", "isUnstructuredModelKind")
    }
    model = new_model_doc(store, {**fields, "targetType": target})
    if model["description"] is None:
        model["description"] = ""
    _apply_labels(model, body)
    check_target_fields(model)
    store_model(store, model)
    return respond_raw(model_bytes(store, model), 201)


@api("POST", "/api/v2/customModels/fromCustomModel/")
def copy_model() -> Response:
    store = emulator().store
    source = find_model(read_body().data["customModelId"])
    fields = {k: v for k, v in source.items() if not k.startswith("_") and k in _MODEL_DEFAULTS}
    fields.update(name=f"{source['name']} (copy)"[:255], userProvidedId=None)
    model = new_model_doc(
        store,
        {
            **fields,
            "customModelType": source["customModelType"],
            "targetType": source["targetType"],
        },
    )
    store_model(store, model)
    copy_versions(store, source, model)
    return respond_raw(model_bytes(store, model), 201)


# -- one model --------------------------------------------------------------------------


@api("GET", "/api/v2/customModels/{customModelId}/")
def get_model(customModelId: str) -> Response:
    return respond_raw(model_bytes(emulator().store, find_model(customModelId)))


@api("PATCH", "/api/v2/customModels/{customModelId}/")
def update_model(customModelId: str) -> Response:
    store = emulator().store
    model = find_model(customModelId, WRITE)
    body = read_body().data
    if model["deploymentsCount"] > 0:
        locked = [k for k in DEPLOYED_LOCKED if k in body]
        if locked:
            raise ApiError(
                409,
                f"{', '.join(locked)} cannot be changed while the custom model is deployed",
                dict.fromkeys(locked, "locked by deployment"),
            )
    if model["isTrainingDataForVersionsPermanentlyEnabled"] and body.get(
        "isTrainingDataForVersionsPermanentlyEnabled"
    ) in (False,):
        raise invalid(
            {"isTrainingDataForVersionsPermanentlyEnabled": "cannot be turned off once enabled"}
        )
    if isinstance(body.get("externalMlopsStatsConfig"), str):
        body["externalMlopsStatsConfig"] = parse_json_text(
            body["externalMlopsStatsConfig"], "externalMlopsStatsConfig"
        )
    updated = {**model, **body}
    for label, default in (("positiveClassLabel", "1"), ("negativeClassLabel", "0")):
        if label in body and body[label] is None and model["targetType"] == "Binary":
            updated[label] = default
    if updated["description"] is None:
        updated["description"] = ""
    _apply_labels(
        updated,
        {k: v for k, v in body.items() if k in ("positiveClassLabel", "negativeClassLabel")},
    )
    check_target_fields(updated)
    updated["updated"], updated["_updatedSeq"] = store.stamp()
    model.update(updated)
    touch_model(store, model)
    return respond_raw(model_bytes(store, model), 200)


@api("DELETE", "/api/v2/customModels/{customModelId}/")
def delete_model(customModelId: str) -> Response:
    store = emulator().store
    model = find_model(customModelId, DELETE)
    if model["deploymentsCount"] > 0:
        link = absolute(f"/api/v2/customModelDeployments/?customModelIds={model['id']}")
        raise ApiError(
            409,
            "This custom model is currently deployed and cannot be deleted.",
            deploymentsLink=link,
        )
    if any(
        t["customModelId"] == model["id"] and test_state(t) == "in_progress"
        for t in store.tests.values()
    ):
        raise ApiError(
            409, "This custom model is being tested and cannot be deleted until testing ends."
        )
    for version_id in model["_versionIds"]:
        store.versions.pop(version_id, None)
        store.changed(version_id)
    store.user_provided_ids.pop(model.get("userProvidedId") or "", None)
    del store.models[model["id"]]
    touch_model(store, model)
    return no_content()


@api("GET", "/api/v2/customModels/{customModelId}/download/")
def download_model(customModelId: str) -> Response:
    store = emulator().store
    enum_arg("pps", BOOL_STRINGS)
    model = find_model(customModelId)
    latest = latest_version(store, model)
    if latest is None:
        raise not_found("Custom model version")
    return zip_response(store, model, latest)


def zip_response(store: Store, model: dict[str, Any], version: dict[str, Any]) -> Response:
    body = zip_items(version["items"], store.blobs.__getitem__)
    filename = f"model-{model['id']}-version-{version['label']}.zip"
    return Response(
        body,
        headers={"Content-Disposition": f"attachment;filename={filename}"},
        content_type="application/zip",
    )


def parse_json_text(value: str, field: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise invalid({field: "must be an object or a JSON-encoded object"}) from None


# -- training data at the model level (deprecated) --------------------------------------


@api("PATCH", "/api/v2/customModels/{customModelId}/trainingData/")
def assign_training_data(customModelId: str) -> Response:
    """Deprecated model-level assignment (202 + status; 422 once version-level is on)."""
    emu = emulator()
    store = emu.store
    model = find_model(customModelId, WRITE)
    body = read_body().data
    if model["isTrainingDataForVersionsPermanentlyEnabled"]:
        raise ApiError(
            422,
            "Training data assignment at the model level has been permanently disabled for "
            "this custom model: assign training data to versions (POST or PATCH "
            "/api/v2/customModels/{customModelId}/versions/). This API is deprecated and "
            "scheduled for removal in v2.34.",
        )
    if model["deploymentsCount"] > 0 and model["trainingDatasetId"]:
        raise ApiError(409, "Custom model has assigned training data already and is deployed.")
    dataset, version_id = dataset_for(
        store, body.get("datasetId"), body.get("datasetVersionId"), "datasetId"
    )
    column = body.get("partitionColumn")
    if column is not None and column not in dataset["columns"]:
        raise ApiError(
            422,
            "Dataset ingest must finish before assigning training data or provided dataset is "
            "incompatible with the custom model.",
            {"partitionColumn": f"{column} is not a column of {dataset['name']}"},
        )
    ready_at = time.time() + emu.duration("trainingDataMs")
    model.update(
        trainingDatasetId=dataset["id"],
        trainingDatasetVersionId=version_id,
        trainingDataFileName=body.get("datasetName") or dataset["name"],
        trainingDataPartitionColumn=column,
        trainingDataAssignmentInProgress=True,
        _trainingReadyAt=ready_at,
    )
    model["updated"], model["_updatedSeq"] = store.stamp()
    touch_model(store, model)
    status = new_status(
        "trainingData", f"/api/v2/customModels/{model['id']}/", ready_at, "Training data"
    )
    return accepted(status["id"])
