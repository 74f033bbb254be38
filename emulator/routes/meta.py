"""Routes real clients call beyond the reference: version, account, async statuses, environments.

* ``GET /api/v2/version/``: the official client checks it on start (major version 2).
* ``GET /api/v2/account/info/``: who the token belongs to.
* ``GET/DELETE /api/v2/status/{statusId}/``: async work (API-NOTES "Async work"): 200
  with ``RUNNING`` while running, 303 to the finished resource when done, ``ERROR`` or
  ``ABORTED`` when it failed.
* ``GET /api/v2/executionEnvironments/`` (+ ``{id}/``, ``{id}/versions/``,
  ``{id}/versions/{versionId}/``): read-only views of the seeded environments.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from emulator.errors import not_found
from emulator.paging import envelope, page
from emulator.routing import absolute, caller, emulator, extra, no_content, respond
from emulator.statuses import status_state

VERSION = {"major": 2, "minor": 49, "versionString": "2.49.0", "releasedVersion": "v11.1.0"}


@extra("GET", "/api/v2/version/")
def get_version() -> Response:
    return respond(VERSION)


@extra("GET", "/api/v2/account/info/")
def get_account_info() -> Response:
    user = caller()
    return respond(
        {
            "uid": user["id"],
            "username": user["username"],
            "email": user["username"],
            "firstName": user["firstName"],
            "lastName": user["lastName"],
            "orgId": user["orgId"],
        }
    )


# -- async statuses ---------------------------------------------------------------------


@extra("GET", "/api/v2/status/{statusId}/")
def get_status(statusId: str) -> Response:
    doc = emulator().store.statuses.get(statusId)
    if doc is None:
        raise not_found("Status")
    state = status_state(doc)
    body = {
        "statusId": doc["id"],
        "status": state,
        "message": doc["message"],
        "description": doc["description"],
        "code": 0,
        "created": doc["created"],
        "statusType": doc["kind"],
    }
    if state == "COMPLETED":
        return respond(body, 303, {"Location": absolute(doc["location"])})
    return respond(body)


@extra("DELETE", "/api/v2/status/{statusId}/")
def delete_status(statusId: str) -> Response:
    if emulator().store.statuses.pop(statusId, None) is None:
        raise not_found("Status")
    return no_content()


# -- execution environments ---------------------------------------------------------------


def environment_version_view(version: dict[str, Any], env_id: str) -> dict[str, Any]:
    return {
        "id": version["id"],
        "environmentId": env_id,
        "label": version["label"],
        "description": version["description"],
        "buildStatus": "success",
        "imageId": version["id"],
        "created": version["created"],
        "dockerContextSize": None,
        "dockerImageSize": None,
    }


def environment_view(env: dict[str, Any]) -> dict[str, Any]:
    latest = environment_version_view(env["versions"][-1], env["id"])
    return {
        "id": env["id"],
        "name": env["name"],
        "description": env["description"],
        "programmingLanguage": env["programmingLanguage"],
        "isPublic": True,
        "created": env["created"],
        "latestVersion": latest,
        "latestSuccessfulVersion": latest,
        "requiredMetadataKeys": [],
        "useCases": env["useCases"],
    }


@extra("GET", "/api/v2/executionEnvironments/")
def list_environments() -> Response:
    envs = list(emulator().store.environments.values())
    search = (request.args.get("searchFor") or "").lower()
    if search:
        envs = [
            e for e in envs if search in e["name"].lower() or search in e["description"].lower()
        ]
    chunk, meta = page(envs)
    return respond(envelope(meta, [environment_view(e) for e in chunk]))


def _environment(env_id: str) -> dict[str, Any]:
    env = emulator().store.environments.get(env_id)
    if env is None:
        raise not_found("Execution environment")
    return env


@extra("GET", "/api/v2/executionEnvironments/{environmentId}/")
def get_environment(environmentId: str) -> Response:
    return respond(environment_view(_environment(environmentId)))


@extra("GET", "/api/v2/executionEnvironments/{environmentId}/versions/")
def list_environment_versions(environmentId: str) -> Response:
    env = _environment(environmentId)
    chunk, meta = page(list(reversed(env["versions"])))
    return respond(envelope(meta, [environment_version_view(v, env["id"]) for v in chunk]))


@extra("GET", "/api/v2/executionEnvironments/{environmentId}/versions/{environmentVersionId}/")
def get_environment_version(environmentId: str, environmentVersionId: str) -> Response:
    env = _environment(environmentId)
    version = next((v for v in env["versions"] if v["id"] == environmentVersionId), None)
    if version is None:
        raise not_found("Execution environment version")
    return respond(environment_version_view(version, env["id"]))
