"""The AI Catalog, read-only: the seeded datasets (``datasets:`` in the seed file).

``GET /api/v2/datasets/`` lists the latest version of each dataset as the real catalog
does (``datasetId``, ``versionId``, ``name``, ``categories``, ``creationDate``,
``isSnapshot``, ``isLatestVersion``, ``processingState``, ...: the fields the official
client's ``Dataset`` requires); ``GET .../{datasetId}/``, ``.../versions/`` and
``.../versions/{datasetVersionId}/`` read one. Custom model tests and training/holdout
data refer to these ids; :func:`resolve_dataset` is their check (404 unknown dataset,
422 a version of another dataset).
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from emulator.errors import ApiError, not_found
from emulator.paging import envelope, page
from emulator.routing import emulator, extra, respond
from emulator.store import Store


def dataset_view(store: Store, dataset: dict[str, Any], version_id: str) -> dict[str, Any]:
    version = store.dataset_versions[version_id]
    latest = dataset["versions"][-1]["id"]
    owner = store.users.get(store.seed.token_owner, {})
    return {
        "datasetId": dataset["id"],
        "versionId": version_id,
        "name": dataset["name"],
        "categories": list(dataset["categories"]),
        "creationDate": version["created"],
        "createdBy": owner.get("username"),
        "dataPersisted": True,
        "isDataEngineEligible": True,
        "isLatestVersion": version_id == latest,
        "isSnapshot": bool(dataset["isSnapshot"]),
        "datasetSize": int(dataset["datasetSize"]),
        "rowCount": int(dataset["rowCount"]),
        "sampleSize": None,
        "processingState": "COMPLETED",
    }


def resolve_dataset(
    store: Store, dataset_id: str, version_id: str | None, field: str = "datasetId"
) -> tuple[dict[str, Any], str]:
    """The dataset and its version (default: the latest); 404/422 as the API answers."""
    dataset = store.datasets.get(dataset_id)
    if dataset is None:
        raise ApiError(404, f"Dataset {dataset_id} not found", {field: "not found"})
    if version_id is None:
        return dataset, str(dataset["versions"][-1]["id"])
    if store.dataset_versions.get(version_id, {}).get("datasetId") != dataset_id:
        raise ApiError(
            422,
            f"Dataset version {version_id} is not a version of dataset {dataset_id}",
            {field.replace("datasetId", "datasetVersionId"): "not a version of this dataset"},
        )
    return dataset, version_id


def _dataset(dataset_id: str) -> dict[str, Any]:
    dataset: dict[str, Any] | None = emulator().store.datasets.get(dataset_id)
    if dataset is None:
        raise not_found("Dataset")
    return dataset


@extra("GET", "/api/v2/datasets/")
def list_datasets() -> Response:
    store = emulator().store
    search = (request.args.get("searchFor") or "").lower()
    category = request.args.get("category")
    items = [
        dataset_view(store, d, d["versions"][-1]["id"])
        for d in store.datasets.values()
        if search in d["name"].lower() and (category is None or category in d["categories"])
    ]
    chunk, meta = page(items)
    return respond(envelope(meta, list(chunk)))


@extra("GET", "/api/v2/datasets/{datasetId}/")
def get_dataset(datasetId: str) -> Response:
    dataset = _dataset(datasetId)
    return respond(dataset_view(emulator().store, dataset, dataset["versions"][-1]["id"]))


@extra("GET", "/api/v2/datasets/{datasetId}/versions/")
def list_dataset_versions(datasetId: str) -> Response:
    dataset = _dataset(datasetId)
    store = emulator().store
    views = [dataset_view(store, dataset, v["id"]) for v in reversed(dataset["versions"])]
    chunk, meta = page(views)
    return respond(envelope(meta, list(chunk)))


@extra("GET", "/api/v2/datasets/{datasetId}/versions/{datasetVersionId}/")
def get_dataset_version(datasetId: str, datasetVersionId: str) -> Response:
    dataset = _dataset(datasetId)
    if datasetVersionId not in {v["id"] for v in dataset["versions"]}:
        raise not_found("Dataset version")
    return respond(dataset_view(emulator().store, dataset, datasetVersionId))
