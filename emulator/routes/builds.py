"""Dependency builds of custom model versions (routes the reference does not list).

``POST .../versions/{id}/dependencyBuild/`` (no body; TF sends ``{}``) starts building the
version's ``dependencies`` (parsed from its ``requirements.txt``) and answers **202** with
the build info; ``GET`` of the same path reports ``{buildStatus, buildStart, buildEnd}``
(404 before any build), ``DELETE`` cancels (204; 409 once finished), and
``GET .../dependencyBuildLog/`` is the build's text log (API-DELIVERY.md §2).

``buildStatus`` goes ``submitted`` (first fifth of the build) → ``processing`` →
``success`` or ``failed`` after ``dependencyBuildMs`` (``/__emulator__/config``; ``-1``
means ``asyncDelayMs``; ``0`` finishes at once). A build fails when a requirement's
package name (or whole line) is in the ``failingDependencies`` setting; its log then
names the line, as pip does. Like the other async work, nothing runs in the background:
the state is computed when someone looks.

Choices where the real API is unconfirmed: a version without dependencies is a 422; a
second POST while a build is running is a 422, after it ended it starts a new build; a
cancelled build ends ``failed`` (the only terminal states the clients know are
``success`` and ``failed``) with "canceled" in its log.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response

from emulator.access import READ, WRITE
from emulator.domain.builds import TERMINAL, build_log, build_state, build_view, failing_line
from emulator.errors import ApiError
from emulator.routes.models import find_model
from emulator.routes.versions import find_version
from emulator.routing import emulator, extra, no_content, respond, text
from emulator.store import Store, iso

BASE = "/api/v2/customModels/{customModelId}/versions/{customModelVersionId}/"
_NOT_BUILT = "No dependency build found for this custom model version"


def version_build(store: Store, version_id: str) -> dict[str, Any] | None:
    """The version's latest dependency build, if any."""
    return store.builds.get(version_id)


def _subject(
    customModelId: str, customModelVersionId: str, need: str = READ
) -> tuple[dict[str, Any], dict[str, Any]]:
    model = find_model(customModelId, need)
    return model, find_version(model, customModelVersionId)


@extra("POST", BASE + "dependencyBuild/")
def start_build(customModelId: str, customModelVersionId: str) -> Response:
    emu = emulator()
    store = emu.store
    model, version = _subject(customModelId, customModelVersionId, WRITE)
    if not version["dependencies"]:
        raise ApiError(
            422,
            "The custom model version has no dependencies to build: add a requirements.txt",
        )
    current = store.builds.get(version["id"])
    if current is not None and build_state(current) not in TERMINAL:
        raise ApiError(422, "A dependency build is already in progress for this version")
    now = time.time()
    build = {
        "id": version["id"],
        "customModelId": model["id"],
        "buildStart": iso(now),
        "_startedAt": now,
        "_readyAt": now + emu.duration("dependencyBuildMs"),
        "_dependencies": [
            {"line": d["line"], "packageName": d["packageName"]} for d in version["dependencies"]
        ],
        "_failedLine": failing_line(version["dependencies"], emu.config["failingDependencies"]),
        "_outcome": None,
        "_endedAt": None,
    }
    build["_result"] = "failed" if build["_failedLine"] else "success"
    store.builds[version["id"]] = build
    return respond(build_view(build), 202)


def _build(customModelId: str, customModelVersionId: str, need: str = READ) -> dict[str, Any]:
    _, version = _subject(customModelId, customModelVersionId, need)
    build: dict[str, Any] | None = emulator().store.builds.get(version["id"])
    if build is None:
        raise ApiError(404, _NOT_BUILT)
    return build


@extra("GET", BASE + "dependencyBuild/")
def get_build(customModelId: str, customModelVersionId: str) -> Response:
    return respond(build_view(_build(customModelId, customModelVersionId)))


@extra("DELETE", BASE + "dependencyBuild/")
def cancel_build(customModelId: str, customModelVersionId: str) -> Response:
    build = _build(customModelId, customModelVersionId, WRITE)
    if build_state(build) in TERMINAL:
        raise ApiError(409, "The dependency build has already finished")
    build["_outcome"], build["_endedAt"] = "failed", time.time()
    return no_content()


@extra("GET", BASE + "dependencyBuildLog/")
def get_build_log(customModelId: str, customModelVersionId: str) -> Response:
    build = _build(customModelId, customModelVersionId)
    return text(build_log(build), f"dependency-build-{build['id']}.log")
