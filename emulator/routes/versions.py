"""Custom model versions: create (POST: exactly the uploaded files; PATCH: from the latest),
list, read, edit metadata, download; and the version routes the emulator does not compute.

Bodies are ``multipart/form-data`` (``file`` parts paired in order with ``filePath``
fields, repeated ``filesToDelete``) or JSON (no files; ``filesToDelete`` an array), see
API-NOTES "Versions". Creation is synchronous: 201 with the version.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Response, request

from emulator.access import WRITE
from emulator.bodies import Body, read_body
from emulator.domain import filesets
from emulator.errors import ApiError, bad_query, invalid, not_found
from emulator.paging import BOOL_STRINGS, enum_arg, envelope, page
from emulator.routes.models import find_model, zip_response
from emulator.routing import accepted, api, emulator, respond
from emulator.statuses import new_status
from emulator.store import Store
from emulator.training import assign
from emulator.versioning import (
    add_version,
    new_items,
    next_number,
    resolve_environment,
    version_fields,
)
from emulator.views import latest_version, touch_model, version_view

_SHA = re.compile(r"[0-9a-fA-F]{40}")
_TRUE = ("true", "True")
BASE = "/api/v2/customModels/{customModelId}/versions/"


def _create(model_id: str, *, from_latest: bool) -> Response:
    store = emulator().store
    model = find_model(model_id, WRITE)
    body: Body = read_body(files=True)
    data = body.data
    latest = latest_version(store, model)
    number = next_number(latest, data["isMajorUpdate"] in _TRUE)
    environment = resolve_environment(store, data, latest)
    try:
        pairs = filesets.pair_uploads(
            [(u.filename, u.content) for u in body.files], data.get("filePath")
        )
        uploaded = new_items(store, model, pairs)
        base = latest["items"] if (from_latest and latest) else []
        items = filesets.apply_changes(
            base, uploaded, filesets.ids_to_delete(data.get("filesToDelete"))
        )
    except filesets.InvalidFiles as exc:
        raise invalid(exc.errors) from None
    extra = {"gitModelVersion": data["gitModelVersion"]} if "gitModelVersion" in data else {}
    version = store_version(model, latest, data, number, environment, items, extra)
    return respond(version_view(store, version), 201)


def store_version(
    model: dict[str, Any],
    latest: dict[str, Any] | None,
    data: dict[str, Any],
    number: tuple[int, int],
    environment: tuple[str, str],
    items: list[dict[str, Any]],
    extra: dict[str, Any],
) -> dict[str, Any]:
    """A new version of ``model`` holding ``items`` (uploaded, or pulled from a remote
    repository), with the fields ``data`` asks for and ``extra`` on top; stored."""
    emu = emulator()
    fields = version_fields(
        emu.store,
        emu.reference,
        model,
        latest,
        data,
        number=number,
        environment=environment,
        items=items,
        training_seconds=emu.duration("trainingDataMs"),
    )
    return add_version(emu.store, model, {**fields, **extra})


@api("POST", BASE)
def create_version(customModelId: str) -> Response:
    return _create(customModelId, from_latest=False)


@api("PATCH", BASE)
def create_version_from_latest(customModelId: str) -> Response:
    return _create(customModelId, from_latest=True)


@api("GET", BASE)
def list_versions(customModelId: str) -> Response:
    store = emulator().store
    model = find_model(customModelId)
    versions = [store.versions[v] for v in reversed(model["_versionIds"])]
    sha = request.args.get("mainBranchCommitSha")
    if sha is not None:
        if not _SHA.fullmatch(sha):
            raise bad_query({"mainBranchCommitSha": "must be a 40-character commit SHA"})
        versions = [
            v
            for v in versions
            if (v["gitModelVersion"] or {}).get("mainBranchCommitSha", "").lower() == sha.lower()
        ]
    chunk, meta = page(versions)
    return respond(envelope(meta, [version_view(store, v) for v in chunk]))


def find_version(model: dict[str, Any], version_id: str) -> dict[str, Any]:
    store = emulator().store
    version = store.versions.get(version_id)
    if version is None or version["customModelId"] != model["id"]:
        raise not_found("Custom model version")
    return version


@api("GET", BASE + "{customModelVersionId}/")
def get_version(customModelId: str, customModelVersionId: str) -> Response:
    model = find_model(customModelId)
    return respond(version_view(emulator().store, find_version(model, customModelVersionId)))


@api("PATCH", BASE + "{customModelVersionId}/")
def update_version_metadata(customModelId: str, customModelVersionId: str) -> Response:
    store = emulator().store
    model = find_model(customModelId, WRITE)
    version = find_version(model, customModelVersionId)
    version.update(read_body().data)
    touch_model(store, model, version["id"])
    return respond(version_view(store, version))


@api("GET", BASE + "{customModelVersionId}/download/")
def download_version(customModelId: str, customModelVersionId: str) -> Response:
    enum_arg("pps", BOOL_STRINGS)
    model = find_model(customModelId)
    return zip_response(emulator().store, model, find_version(model, customModelVersionId))


# -- deprecated: training data ----------------------------------------------------------


@api("PATCH", BASE + "withTrainingData/")
def create_version_with_training_data(customModelId: str) -> Response:
    """Deprecated: a new minor version from the latest with training (and holdout) data.

    202 with the new version and ``Location`` of a status that redirects to it once the
    assignment is done; 404 no model or no edit right; 410 deleted dataset; 422 the model
    has no version to start from or the data does not fit (API-DELIVERY.md §3).
    """
    emu = emulator()
    store = emu.store
    try:
        model = find_model(customModelId, WRITE)
    except ApiError as exc:
        raise ApiError(
            404, "Custom model not found or user does not have edit permissions."
        ) from exc
    data = read_body().data
    latest = latest_version(store, model)
    if latest is None:
        raise ApiError(
            422, "Cannot update custom model training data: the custom model has no version"
        )
    duration = emu.duration("trainingDataMs")
    training = assign(store, model, data["trainingData"], data.get("holdoutData"), duration)
    fields: dict[str, Any] = {
        k: copy.deepcopy(v)
        for k, v in latest.items()
        if k not in ("id", "customModelId", "created", "isFrozen", "_seq", "label")
        and not k.startswith("_training")
    }
    number = next_number(latest, False)
    fields.update(
        versionMajor=number[0],
        versionMinor=number[1],
        gitModelVersion=data.get("gitModelVersion", latest["gitModelVersion"]),
        **training,
    )
    version = add_version(store, model, fields)
    location = f"/api/v2/customModels/{model['id']}/versions/{version['id']}/"
    status = new_status(
        "customModelVersionTrainingData", location, training["_trainingReadyAt"], "Training data"
    )
    return accepted(status["id"], version_view(store, version))


def versions_of(store: Store, model: dict[str, Any]) -> list[dict[str, Any]]:
    return [store.versions[v] for v in model["_versionIds"]]
