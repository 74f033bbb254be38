"""Version routes whose work DataRobot does asynchronously: conversions, feature impact,
prediction explanations initialization, versions from a remote repository.

Each answers as the reference says (202 + ``Location`` of a status, the listed 404/422s)
and keeps its state; the status completes after ``asyncDelayMs``. The results are
plausible, not computed from data:

* a **conversion** (to a JAR) succeeds when its main program item is a ``.java`` file
  (otherwise it ends with ``conversionSucceeded: false`` and a log message); ``DELETE``
  stops a running one (422 once it is not active);
* **feature impact** needs an inference model whose version has training data assigned
  (422 otherwise); it scores the training dataset's columns (all but the target and the
  partition column) with fixed pseudo-random impacts; asking again with the same
  ``rowCount`` is the reference's 404 carrying the ``jobId``;
* **prediction explanations initialization** needs a Binary or Regression inference
  model with training data assigned (422 "Specified custom model is not valid for
  prediction explanations." otherwise);
* **versions from a remote repository** take files from the seeded ``remoteRepositories``
  (listed at ``GET /api/v2/remoteRepositories/``): ``sourcePath`` names files or folders
  (a folder's files land relative to it); POST makes a version of only those files,
  PATCH adds them to the latest version's. The version exists at once; the status
  redirects to it when the pull is done.
"""

from __future__ import annotations

import copy
import hashlib
import time
from typing import Any

from flask import Response

from emulator.access import READ, WRITE
from emulator.bodies import read_body
from emulator.domain import filesets
from emulator.errors import ApiError, invalid, not_found
from emulator.paging import BOOL_STRINGS, enum_arg, envelope, page
from emulator.routes.models import find_model
from emulator.routes.versions import BASE, find_version, store_version
from emulator.routing import accepted, api, emulator, extra, respond
from emulator.statuses import new_status
from emulator.store import Store
from emulator.training import settle_version
from emulator.versioning import (
    new_items,
    next_number,
    resolve_environment,
)
from emulator.views import latest_version

VERSION = BASE + "{customModelVersionId}/"
_EXPLAINABLE = ("Binary", "Regression")


def _version_of(
    customModelId: str, customModelVersionId: str, need: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    model = find_model(customModelId, need or READ)
    return model, find_version(model, customModelVersionId)


def _ready_at() -> float:
    return time.time() + float(emulator().config["asyncDelayMs"]) / 1000


def _training_assigned(store: Store, version: dict[str, Any]) -> dict[str, Any] | None:
    """The version's training data when its assignment finished without error."""
    settle_version(store, version)
    training = version.get("trainingData")
    if not training or training.get("assignmentInProgress") or training.get("assignmentError"):
        return None
    return dict(training)


# -- conversions ------------------------------------------------------------------------


def _conversion_view(store: Store, conversion: dict[str, Any]) -> dict[str, Any]:
    running = not conversion["shouldStop"] and time.time() < conversion["_readyAt"]
    succeeded = None if running else (conversion["_succeeds"] and not conversion["shouldStop"])
    model = store.models.get(conversion["_customModelId"]) or {}
    if running:
        log = "Converting the custom model to a JAR"
    elif conversion["shouldStop"]:
        log = "Conversion stopped by the user"
    elif succeeded:
        log = "Conversion finished: model.jar"
    else:
        log = "Conversion failed: the main program is not a Java source file (.java)"
    view = {
        "id": conversion["id"],
        "customModelVersionId": conversion["customModelVersionId"],
        "created": conversion["created"],
        "mainProgramItemId": conversion["mainProgramItemId"],
        "conversionInProgress": running,
        "conversionSucceeded": succeeded,
        "logMessage": log,
        "shouldStop": conversion["shouldStop"],
    }
    if succeeded:
        view["generatedMetadata"] = {
            "outputDatasets": ["predictions"],
            "outputColumns": [[model.get("targetName") or "prediction"]],
        }
    return view


def _conversions(version_id: str) -> list[dict[str, Any]]:
    store = emulator().store
    found = [c for c in store.conversions.values() if c["customModelVersionId"] == version_id]
    return sorted(found, key=lambda c: c["_seq"], reverse=True)


@api("GET", VERSION + "conversions/")
def list_conversions(customModelId: str, customModelVersionId: str) -> Response:
    latest_only = enum_arg("isLatest", BOOL_STRINGS) in ("true", "True")
    _, version = _version_of(customModelId, customModelVersionId)
    conversions = _conversions(version["id"])[: 1 if latest_only else None]
    chunk, meta = page(conversions)
    store = emulator().store
    return respond(envelope(meta, [_conversion_view(store, c) for c in chunk]))


@api("POST", VERSION + "conversions/")
def create_conversion(customModelId: str, customModelVersionId: str) -> Response:
    store = emulator().store
    model, version = _version_of(customModelId, customModelVersionId, WRITE)
    item_id = read_body().data["mainProgramItemId"]
    item = next((i for i in version["items"] if i["id"] == item_id), None)
    if item is None:
        raise invalid({"mainProgramItemId": "is not a file item of this version"})
    if any(_conversion_view(store, c)["conversionInProgress"] for c in _conversions(version["id"])):
        raise invalid({"customModelVersionId": "a conversion of this version is in progress"})
    created, seq = store.stamp()
    conversion = {
        "id": store.new_id(),
        "customModelVersionId": version["id"],
        "created": created,
        "mainProgramItemId": item_id,
        "shouldStop": False,
        "_customModelId": model["id"],
        "_succeeds": item["filePath"].endswith(".java"),
        "_readyAt": _ready_at(),
        "_seq": seq,
    }
    store.conversions[conversion["id"]] = conversion
    location = f"/api/v2/customModels/{model['id']}/versions/{version['id']}/conversions/{conversion['id']}/"
    status = new_status(
        "conversion",
        location,
        conversion["_readyAt"],
        "Custom model conversion",
        final=None if conversion["_succeeds"] else "ERROR",
        message="" if conversion["_succeeds"] else "Conversion failed",
    )
    return accepted(status["id"], {"conversionId": conversion["id"], "statusId": status["id"]})


def _conversion(
    customModelId: str, customModelVersionId: str, conversionId: str, need: str | None = None
) -> dict[str, Any]:
    _, version = _version_of(customModelId, customModelVersionId, need)
    conversion: dict[str, Any] | None = emulator().store.conversions.get(conversionId)
    if conversion is None or conversion["customModelVersionId"] != version["id"]:
        raise not_found("Conversion")
    return conversion


@api("GET", VERSION + "conversions/{conversionId}/")
def get_conversion(customModelId: str, customModelVersionId: str, conversionId: str) -> Response:
    conversion = _conversion(customModelId, customModelVersionId, conversionId)
    return respond(_conversion_view(emulator().store, conversion))


@api("DELETE", VERSION + "conversions/{conversionId}/")
def stop_conversion(customModelId: str, customModelVersionId: str, conversionId: str) -> Response:
    store = emulator().store
    conversion = _conversion(customModelId, customModelVersionId, conversionId, WRITE)
    if not _conversion_view(store, conversion)["conversionInProgress"]:
        raise ApiError(422, "The given conversion is not active.")
    conversion["shouldStop"] = True
    return Response(b"", status=204)


# -- feature impact ---------------------------------------------------------------------


def _impact(name: str) -> float:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return round(0.01 + int.from_bytes(digest[:4], "big") / 2**32, 6)


def _feature_impact_view(
    store: Store, job: dict[str, Any], model: dict[str, Any]
) -> dict[str, Any]:
    dataset = store.datasets[job["_datasetId"]]
    skip = {model.get("targetName"), job["_partitionColumn"]}
    raw = [(c, _impact(c)) for c in dataset["columns"] if c not in skip]
    top = max((v for _, v in raw), default=1.0)
    impacts = [
        {
            "featureName": name,
            "impactUnnormalized": value,
            "impactNormalized": round(value / top, 6),
            "redundantWith": None,
            "parentFeatureName": None,
        }
        for name, value in sorted(raw, key=lambda pair: pair[1], reverse=True)
    ]
    return {
        "count": len(impacts),
        "featureImpacts": impacts,
        "next": None,
        "previous": None,
        "ranRedundancyDetection": False,
        "rowCount": job["rowCount"],
        "shapBased": False,
    }


def _impactable(model: dict[str, Any]) -> None:
    if model["customModelType"] != "inference":
        raise ApiError(
            422, "Cannot compute feature impact: the custom model is not an inference model"
        )


@api("GET", VERSION + "featureImpact/")
def get_feature_impact(customModelId: str, customModelVersionId: str) -> Response:
    store = emulator().store
    model, version = _version_of(customModelId, customModelVersionId)
    _impactable(model)
    job = store.featureImpacts.get(version["id"])
    if job is None:
        raise ApiError(404, "No feature impact data found for custom model.")
    if time.time() < job["_readyAt"]:
        raise ApiError(
            422, "Cannot retrieve feature impact scores: the feature impact job is in progress"
        )
    return respond(_feature_impact_view(store, job, model))


@api("POST", VERSION + "featureImpact/")
def create_feature_impact(customModelId: str, customModelVersionId: str) -> Response:
    store = emulator().store
    model, version = _version_of(customModelId, customModelVersionId, WRITE)
    row_count = read_body().data.get("rowCount")
    _impactable(model)
    training = _training_assigned(store, version)
    if training is None:
        raise ApiError(
            422,
            "Cannot compute feature impact: training data is not yet assigned or assignment "
            "is in progress",
        )
    dataset = store.datasets[training["datasetId"]]
    if row_count is not None and row_count > dataset["rowCount"]:
        raise invalid(
            {"rowCount": f"must be at most {dataset['rowCount']} (the training data's rows)"}
        )
    current = store.featureImpacts.get(version["id"])
    if current is not None and current["rowCount"] == row_count:
        raise ApiError(404, "Feature impact has already been submitted", jobId=current["_statusId"])
    holdout = version.get("holdoutData") or {}
    job = {
        "id": version["id"],
        "rowCount": row_count,
        "_datasetId": dataset["id"],
        "_partitionColumn": holdout.get("partitionColumn"),
        "_readyAt": _ready_at(),
    }
    location = f"/api/v2/customModels/{model['id']}/versions/{version['id']}/featureImpact/"
    status = new_status("featureImpact", location, job["_readyAt"], "Feature impact")
    job["_statusId"] = status["id"]
    store.featureImpacts[version["id"]] = job
    return accepted(status["id"])


# -- prediction explanations ------------------------------------------------------------


def _initialize_explanations(model: dict[str, Any], version: dict[str, Any]) -> Response:
    store = emulator().store
    training = _training_assigned(store, version)
    if (
        model["customModelType"] != "inference"
        or model["targetType"] not in _EXPLAINABLE
        or training is None
    ):
        raise ApiError(
            422,
            "Specified custom model is not valid for prediction explanations.",
            {
                "customModelId": "needs a Binary or Regression inference model whose version "
                "has training data assigned"
            },
        )
    location = f"/api/v2/customModels/{model['id']}/versions/{version['id']}/"
    status = new_status(
        "predictionExplanationsInitialization",
        location,
        _ready_at(),
        "Prediction explanations initialization",
    )
    version["_explanationsStatusId"] = status["id"]
    return accepted(status["id"])


@api("POST", VERSION + "predictionExplanationsInitialization/")
def init_prediction_explanations(customModelId: str, customModelVersionId: str) -> Response:
    model, version = _version_of(customModelId, customModelVersionId, WRITE)
    return _initialize_explanations(model, version)


@api("POST", "/api/v2/customModels/predictionExplanationsInitialization/")
def init_prediction_explanations_legacy() -> Response:
    body = read_body().data
    model, version = _version_of(body["customModelId"], body["customModelVersionId"], WRITE)
    return _initialize_explanations(model, version)


# -- versions from a remote repository --------------------------------------------------


def _repository_view(repository: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": repository["id"],
        "name": repository["name"],
        "location": repository["location"],
        "sourceType": repository["sourceType"],
        "description": repository.get("description", ""),
    }


@extra("GET", "/api/v2/remoteRepositories/")
def list_repositories() -> Response:
    repositories = [_repository_view(r) for r in emulator().store.repositories.values()]
    chunk, meta = page(repositories)
    return respond(envelope(meta, list(chunk)))


def _pulled_files(repository: dict[str, Any], source: Any) -> list[tuple[str, str, bytes]]:
    """``(version path, repository path, content)`` of the files ``sourcePath`` names."""
    files: dict[str, str] = repository["files"]
    paths = [source] if isinstance(source, str) else list(source or [""])
    pulled: dict[str, tuple[str, str, bytes]] = {}
    for raw in paths:
        wanted = raw.strip("/")
        if wanted in files:
            name = wanted.rsplit("/", 1)[-1]
            pulled[name] = (name, wanted, files[wanted].encode("utf-8"))
            continue
        prefix = f"{wanted}/" if wanted else ""
        matched = [p for p in files if p.startswith(prefix)]
        if not matched:
            raise invalid({"sourcePath": f"{raw} was not found in repository {repository['name']}"})
        for path in matched:
            relative = path[len(prefix) :]
            pulled[relative] = (relative, path, files[path].encode("utf-8"))
    return sorted(pulled.values())


def _from_repository(customModelId: str, *, from_latest: bool) -> Response:
    emu = emulator()
    store = emu.store
    model = find_model(customModelId, WRITE)
    data = read_body().data
    repository = store.repositories.get(data["repositoryId"])
    if repository is None:
        raise invalid({"repositoryId": f"remote repository {data['repositoryId']} not found"})
    pulled = _pulled_files(repository, data.get("sourcePath"))
    latest = latest_version(store, model)
    number = next_number(latest, bool(data.get("isMajorUpdate", True)))
    environment = resolve_environment(store, data, latest)
    commit = hashlib.sha1(  # noqa: S324 - a fake commit SHA, not security
        "".join(repository["files"][p] for p in sorted(repository["files"])).encode("utf-8")
    ).hexdigest()
    uploaded = new_items(store, model, [(path, content) for path, _, content in pulled])
    for item, (_, repo_path, _) in zip(uploaded, pulled, strict=True):
        item.update(
            fileSource=repository["sourceType"],
            repositoryName=repository["name"],
            repositoryLocation=repository["location"],
            repositoryFilePath=repo_path,
            ref=data.get("ref") or "main",
            commitSha=commit,
        )
    base = copy.deepcopy(latest["items"]) if (from_latest and latest) else []
    items = filesets.apply_changes(base, uploaded, [])
    version = store_version(model, latest, data, number, environment, items, {})
    location = f"/api/v2/customModels/{model['id']}/versions/{version['id']}/"
    status = new_status("customModelVersion", location, _ready_at(), "Pull from repository")
    return accepted(status["id"])


@api("POST", BASE + "fromRepository/")
def create_version_from_repository(customModelId: str) -> Response:
    return _from_repository(customModelId, from_latest=False)


@api("PATCH", BASE + "fromRepository/")
def update_version_from_repository(customModelId: str) -> Response:
    return _from_repository(customModelId, from_latest=True)
