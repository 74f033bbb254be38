"""Sharing calls: model ``accessControl`` and job ``sharedRoles``, read whole, written in batches.

Writes take the engine's :class:`~controller.model.plans.GrantChange` values (or entries
already in the API's form) and send at most :data:`MAX_BATCH` per request, owners first and
revocations last, so that no batch leaves an object without an owner while a later batch
would have named a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from controller.model.live import LiveGrant
from controller.model.plans import GrantChange
from controller.model.values import Json
from controller.remote import routes
from controller.remote.decoders import decoding, job_grant_from_api, model_grant_from_api
from controller.remote.pages import paginate
from controller.remote.transport import Transport

MAX_BATCH = 100
JOB_REVOKED_ROLE = "NO_ROLE"

Entry = GrantChange | Mapping[str, Json]


class SharingCalls:
    """Calls on ``accessControl/`` and ``sharedRoles/``; mixed into ``DataRobotClient``."""

    http: Transport

    def get_model_access(self, model_id: str) -> tuple[LiveGrant, ...]:
        """Every user with a role on a model (all pages)."""
        pages = paginate(self.http, routes.MODEL_ACCESS, path={"customModelId": model_id})
        with decoding("GET", routes.MODEL_ACCESS):
            return tuple(model_grant_from_api(raw) for raw in pages)

    def update_model_access(self, model_id: str, entries: Iterable[Entry]) -> int:
        """Grant, change or revoke (``role`` null) users' roles; returns the requests made."""
        data = _ordered([model_access_entry(e) for e in entries], revoked=None)
        for batch in _batches(data):
            self.http.request(
                "PATCH",
                routes.MODEL_ACCESS,
                path={"customModelId": model_id},
                json={"data": batch},
            )
        return len(_batches(data))

    def get_job_roles(self, job_id: str) -> tuple[LiveGrant, ...]:
        """Every user, group and organization with a role on a job (all pages)."""
        pages = paginate(self.http, routes.JOB_ROLES, path={"customJobId": job_id})
        with decoding("GET", routes.JOB_ROLES):
            return tuple(job_grant_from_api(raw) for raw in pages)

    def update_job_roles(self, job_id: str, entries: Iterable[Entry]) -> int:
        """Grant, change or revoke (``NO_ROLE``) roles; returns the requests made."""
        roles = _ordered([job_role_entry(e) for e in entries], revoked=JOB_REVOKED_ROLE)
        for batch in _batches(roles):
            self.http.request(
                "PATCH",
                routes.JOB_ROLES,
                path={"customJobId": job_id},
                json={"operation": "updateRoles", "roles": batch},
            )
        return len(_batches(roles))


def model_access_entry(entry: Entry) -> dict[str, Json]:
    """``{"username", "role", "canShare"?}``; a revocation has ``"role": null``."""
    if not isinstance(entry, GrantChange):
        return dict(entry)
    out: dict[str, Json] = {"username": entry.recipient, "role": entry.new_role}
    if entry.new_role is not None and entry.new_can_share is not None:
        out["canShare"] = entry.new_can_share
    return out


def job_role_entry(entry: Entry) -> dict[str, Json]:
    """``{"shareRecipientType", "role", "username" | "id", "canShare"?}``.

    Users are named by username (by ID when declared by ID only); groups and organizations
    by ID when known (their names are not unique), else by name. A revocation has
    ``"role": "NO_ROLE"``.
    """
    if not isinstance(entry, GrantChange):
        return dict(entry)
    out: dict[str, Json] = {
        "shareRecipientType": entry.recipient_type,
        "role": entry.new_role or JOB_REVOKED_ROLE,
    }
    by_id = entry.recipient_type != "user" or entry.recipient == entry.recipient_id
    if entry.recipient_id and by_id:
        out["id"] = entry.recipient_id
    else:
        out["username"] = entry.recipient
    if entry.new_role is not None and entry.new_can_share is not None:
        out["canShare"] = entry.new_can_share
    return out


def _ordered(entries: list[dict[str, Json]], *, revoked: str | None) -> list[dict[str, Json]]:
    def rank(entry: Mapping[str, Any]) -> int:
        role = entry.get("role")
        if role == revoked or role is None:
            return 2
        return 0 if str(role).upper() == "OWNER" else 1

    return sorted(entries, key=rank)


def _batches(entries: list[dict[str, Json]]) -> list[list[dict[str, Json]]]:
    return [entries[i : i + MAX_BATCH] for i in range(0, len(entries), MAX_BATCH)]
