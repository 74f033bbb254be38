"""Sharing: custom models' ``accessControl`` and custom jobs' ``sharedRoles``.

Models (API-NOTES "Sharing"): ``GET`` lists ``{username, userId, role, canShare}`` (no
``totalCount``); ``PATCH {"data": [{username, role, canShare?}]}`` (at most 100 entries)
sets roles, ``"role": null`` revokes, an unknown user is a 422, leaving no ``OWNER`` is a
409, success is a 204. Jobs: ``GET`` lists ``{id, name, role, shareRecipientType,
canShare}`` (with ``totalCount``; filters ``id``, ``name``, ``shareRecipientType``);
``PATCH {"operation": "updateRoles", "roles": [...]}`` with users, groups or organizations
by ``username``/name or ``id``; ``NO_ROLE`` revokes; leaving no user ``OWNER`` is a 409.

``canShare`` left out means ``true`` for ``OWNER`` and ``false`` otherwise.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from emulator.access import ROLES, SHARE, job_grant, require
from emulator.bodies import read_body
from emulator.errors import ApiError, bad_query, invalid
from emulator.paging import envelope, page
from emulator.routes.models import find_model
from emulator.routing import api, caller, emulator, no_content, respond
from emulator.store import Store

NO_OWNER = "The request would leave the {} without an owner."


@api("GET", "/api/v2/customModels/{customModelId}/accessControl/")
def list_model_access(customModelId: str) -> Response:
    store = emulator().store
    model = find_model(customModelId)
    entries = [
        {
            "username": store.users[e["userId"]]["username"],
            "userId": e["userId"],
            "role": e["role"],
            "canShare": e["canShare"],
        }
        for e in model["_acl"]
    ]
    chunk, meta = page(entries, total=False)
    return respond(envelope(meta, list(chunk)))


@api("PATCH", "/api/v2/customModels/{customModelId}/accessControl/")
def update_model_access(customModelId: str) -> Response:
    store = emulator().store
    model = find_model(customModelId, SHARE)
    changes = read_body().data["data"]
    errors: dict[str, str] = {}
    acl = {e["userId"]: dict(e) for e in model["_acl"]}
    seen: set[str] = set()
    for index, change in enumerate(changes):
        user = store.user_by_name(change["username"])
        if user is None:
            errors[f"data.{index}.username"] = f"User {change['username']} does not exist"
            continue
        if user["id"] in seen:
            errors[f"data.{index}.username"] = f"{change['username']} is given more than once"
        seen.add(user["id"])
        if change["role"] is None:
            acl.pop(user["id"], None)
        else:
            can_share = change.get("canShare", change["role"] == "OWNER")
            acl[user["id"]] = {"userId": user["id"], "role": change["role"], "canShare": can_share}
    if errors:
        raise invalid(
            errors,
            "One of the users in the request does not exist, or the request is otherwise invalid",
        )
    if not any(e["role"] == "OWNER" for e in acl.values()):
        raise ApiError(409, NO_OWNER.format("custom model"))
    model["_acl"] = list(acl.values())
    return no_content()


# -- custom jobs --------------------------------------------------------------------------


def recipient_name(store: Store, kind: str, recipient_id: str) -> str:
    if kind == "user":
        return str(store.users[recipient_id]["username"])
    collection = store.groups if kind == "group" else store.organizations
    return str(collection[recipient_id]["name"])


def _find_recipient(store: Store, role: dict[str, Any]) -> str | None:
    """The id of the user, group or organization a role entry names (``None``: unknown)."""
    kind = role["shareRecipientType"]
    if kind == "user":
        if "id" in role:
            return role["id"] if role["id"] in store.users else None
        user = store.user_by_name(role["username"])
        return user["id"] if user else None
    collection = store.groups if kind == "group" else store.organizations
    if "id" in role:
        return role["id"] if role["id"] in collection else None
    return next((k for k, v in collection.items() if v["name"] == role["username"]), None)


def find_job_for(job_id: str, need: str) -> dict[str, Any]:
    store = emulator().store
    job = store.jobs.get(job_id)
    if job is not None and job.get("_deleted"):
        job = None
    require(job_grant(store, job, caller()) if job else None, need, "Custom job")
    assert job is not None
    return job


def list_roles(store: Store, doc: dict[str, Any], *, can_share: bool = True) -> Response:
    """``GET .../sharedRoles/`` of a document with job-style ``_roles`` (filters, paging).

    ``can_share``: whether items carry ``canShare`` (deployments' do not: the client's
    converter refuses the key there).
    """
    kind = request.args.get("shareRecipientType")
    if kind is not None and kind not in ("user", "group", "organization"):
        raise bad_query({"shareRecipientType": "must be one of: user, group, organization"})
    entries = [
        {
            "id": e["id"],
            "name": recipient_name(store, e["shareRecipientType"], e["id"]),
            "role": e["role"],
            "shareRecipientType": e["shareRecipientType"],
            "canShare": e["canShare"],
        }
        for e in doc["_roles"]
    ]
    filters = {
        "id": request.args.get("id"),
        "name": request.args.get("name"),
        "shareRecipientType": kind,
    }
    entries = [e for e in entries if all(v is None or e[k] == v for k, v in filters.items())]
    if not can_share:
        entries = [{k: v for k, v in e.items() if k != "canShare"} for e in entries]
    chunk, meta = page(entries)
    return respond(envelope(meta, list(chunk)))


def update_roles(
    store: Store,
    doc: dict[str, Any],
    roles: list[dict[str, Any]],
    what: str,
    allowed: tuple[str, ...] = ROLES,
) -> None:
    """Apply an ``updateRoles`` list to a document's ``_roles`` (422 unknown, 409 no owner)."""
    current = {(e["shareRecipientType"], e["id"]): dict(e) for e in doc["_roles"]}
    errors: dict[str, str] = {}
    for index, role in enumerate(roles):
        if role["role"] not in (*allowed, "NO_ROLE"):
            errors[f"roles.{index}.role"] = "must be one of: " + ", ".join((*allowed, "NO_ROLE"))
            continue
        recipient = _find_recipient(store, role)
        if recipient is None:
            name = role.get("username", role.get("id"))
            errors[f"roles.{index}"] = f"{role['shareRecipientType']} {name} does not exist"
            continue
        key = (role["shareRecipientType"], recipient)
        if role["role"] == "NO_ROLE":
            current.pop(key, None)
        else:
            can_share = role.get("canShare")
            can_share = role["role"] == "OWNER" if can_share is None else can_share
            current[key] = {
                "shareRecipientType": key[0],
                "id": recipient,
                "role": role["role"],
                "canShare": can_share,
            }
    if errors:
        raise invalid(
            errors,
            "One of the users in the request does not exist, or the request is otherwise invalid",
        )
    if not any(
        e["role"] == "OWNER" and e["shareRecipientType"] == "user" for e in current.values()
    ):
        raise ApiError(409, NO_OWNER.format(what))
    doc["_roles"] = list(current.values())


@api("GET", "/api/v2/customJobs/{customJobId}/sharedRoles/")
def list_job_roles(customJobId: str) -> Response:
    return list_roles(emulator().store, find_job_for(customJobId, "read"))


@api("PATCH", "/api/v2/customJobs/{customJobId}/sharedRoles/")
def update_job_roles(customJobId: str) -> Response:
    store = emulator().store
    job = find_job_for(customJobId, SHARE)
    update_roles(store, job, read_body().data["roles"], "custom job")
    return no_content()
