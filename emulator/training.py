"""Training and holdout data of custom model versions (and, deprecated, of models).

API-DELIVERY.md §3. On version creation ``trainingData`` is a JSON string
``{"datasetId", "datasetVersionId"?}`` and ``holdoutData`` one of ``{"partitionColumn"}``
(structured models) or ``{"datasetId", "datasetVersionId"?}`` (Unstructured); both need
the model flag ``isTrainingDataForVersionsPermanentlyEnabled`` (422 otherwise), holdout
data needs training data, and the datasets must be in the catalog (404; 410 for a deleted
one). Without new data a version inherits the previous version's unless
``keepTrainingHoldoutData`` is false.

The version is created at once (201) while the assignment runs: ``trainingData``
carries ``assignmentInProgress: true`` for ``trainingDataMs`` (``-1``: ``asyncDelayMs``),
then ``false``, with ``assignmentError {message}`` when the partition column is not a
column of the training dataset. Like all async work here the state is settled when
someone looks (:func:`settle_version`, called by the views).
"""

from __future__ import annotations

import json
import time
from typing import Any

from emulator.errors import ApiError, invalid
from emulator.store import Store

_TRAINING_KEYS = {"datasetId", "datasetVersionId"}
_HOLDOUT_KEYS = {"datasetId", "datasetVersionId", "partitionColumn"}


def dataset_for(store: Store, dataset_id: Any, version_id: Any, field: str) -> tuple[Any, str]:
    """A catalog dataset and version for training data: 404 unknown, 410 deleted, 422 bad version."""
    if not isinstance(dataset_id, str) or not dataset_id:
        raise invalid({field: "datasetId is required (a string)"})
    dataset = store.datasets.get(dataset_id)
    if dataset is None:
        raise ApiError(404, f"Dataset {dataset_id} not found", {field: "dataset not found"})
    if dataset.get("isDeleted"):
        raise ApiError(410, "The requested Dataset has been deleted.", {field: "dataset deleted"})
    if version_id is None:
        return dataset, str(dataset["versions"][-1]["id"])
    if store.dataset_versions.get(version_id, {}).get("datasetId") != dataset_id:
        raise invalid({field: f"dataset version {version_id} is not a version of {dataset_id}"})
    return dataset, str(version_id)


def _json_object(value: Any, field: str, keys: set[str]) -> dict[str, Any] | None:
    if value in (None, "", "null"):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise invalid({field: "must be a JSON-encoded object"}) from None
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid({field: "must be a JSON-encoded object"})
    unknown = sorted(set(value) - keys)
    if unknown:
        raise invalid({f"{field}.{unknown[0]}": f"{unknown[0]} is not allowed key"})
    return value


def _settled(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """Inherited training data: finished as it finished for the previous version."""
    if data is None:
        return None
    return {**data, "assignmentInProgress": False}


def training_for(
    store: Store,
    model: dict[str, Any],
    latest: dict[str, Any] | None,
    body: dict[str, Any],
    duration: float,
) -> dict[str, Any]:
    """``trainingData``, ``holdoutData`` (and internal settling keys) for a new version."""
    training = _json_object(body.get("trainingData"), "trainingData", _TRAINING_KEYS)
    holdout = _json_object(body.get("holdoutData"), "holdoutData", _HOLDOUT_KEYS)
    enabled = bool(model.get("isTrainingDataForVersionsPermanentlyEnabled"))
    if (training or holdout) and not enabled:
        raise invalid(
            {
                "trainingData": "training data for versions is not enabled for this model: "
                "set isTrainingDataForVersionsPermanentlyEnabled on the model first"
            },
            "Training data assignment at the version level is not enabled for this custom model",
        )
    if training is None and holdout is not None:
        raise invalid({"holdoutData": "holdout data needs training data (trainingData)"})
    if training is None:
        keep = body.get("keepTrainingHoldoutData", True) in (True, "true", "True")
        if enabled and keep and latest is not None:
            settle_version(store, latest)
            holdout_data = latest.get("holdoutData")
            return {
                "trainingData": _settled(latest.get("trainingData")),
                "holdoutData": dict(holdout_data) if holdout_data else None,
            }
        return {"trainingData": None, "holdoutData": None}
    return assign(store, model, training, holdout, duration)


def assign(
    store: Store,
    model: dict[str, Any],
    training: dict[str, Any],
    holdout: dict[str, Any] | None,
    duration: float,
) -> dict[str, Any]:
    """The fields of a new assignment (in progress for ``duration`` seconds)."""
    dataset, version_id = dataset_for(
        store, training.get("datasetId"), training.get("datasetVersionId"), "trainingData"
    )
    unstructured = model["targetType"] == "Unstructured"
    holdout_view = None
    error = None
    if holdout is not None:
        if unstructured:
            if "partitionColumn" in holdout:
                raise invalid(
                    {"holdoutData.partitionColumn": "unstructured models take a holdout dataset"}
                )
            h_dataset, h_version = dataset_for(
                store, holdout.get("datasetId"), holdout.get("datasetVersionId"), "holdoutData"
            )
            holdout_view = {
                "datasetId": h_dataset["id"],
                "datasetVersionId": h_version,
                "datasetName": h_dataset["name"],
                "partitionColumn": None,
            }
        else:
            if "datasetId" in holdout or "datasetVersionId" in holdout:
                raise invalid(
                    {
                        "holdoutData.datasetId": "structured models take a partitionColumn, "
                        "not a holdout dataset"
                    }
                )
            column = holdout.get("partitionColumn")
            if not isinstance(column, str) or not column or len(column) > 500:
                raise invalid({"holdoutData.partitionColumn": "must be 1 to 500 characters"})
            holdout_view = {
                "datasetId": None,
                "datasetVersionId": None,
                "datasetName": None,
                "partitionColumn": column,
            }
            if column not in dataset["columns"]:
                error = (
                    f"Partition column '{column}' was not found in the training dataset "
                    f"{dataset['name']}"
                )
    return {
        "trainingData": {
            "datasetId": dataset["id"],
            "datasetVersionId": version_id,
            "datasetName": dataset["name"],
            "assignmentInProgress": True,
            "assignmentError": None,
        },
        "holdoutData": holdout_view,
        "_trainingReadyAt": time.time() + duration,
        "_trainingError": error,
    }


def settle_version(store: Store, version: dict[str, Any]) -> None:
    """Finish the version's training data assignment if its time has come."""
    ready_at = version.get("_trainingReadyAt")
    if ready_at is None or time.time() < ready_at:
        return
    training = version.get("trainingData")
    if training is not None:
        error = version.get("_trainingError")
        training["assignmentInProgress"] = False
        training["assignmentError"] = {"message": error} if error else None
    version.pop("_trainingReadyAt", None)
    store.changed(version["id"], f"model-bytes:{version['customModelId']}")


def settle_model(store: Store, model: dict[str, Any]) -> None:
    """Finish a (deprecated) model-level assignment if its time has come."""
    ready_at = model.get("_trainingReadyAt")
    if ready_at is None or time.time() < ready_at:
        return
    model["trainingDataAssignmentInProgress"] = False
    model.pop("_trainingReadyAt", None)
    store.changed(f"model-bytes:{model['id']}")


def pending(version: dict[str, Any] | None) -> bool:
    return version is not None and version.get("_trainingReadyAt") is not None
