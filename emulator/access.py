"""Who may see and change what: roles on custom models and custom jobs.

A model's ``_acl`` lists users (``{userId, role, canShare}``); a job's ``_roles`` lists
users, groups and organizations (``{shareRecipientType, id, role, canShare}``), and a
user holds the highest role given to them, their groups or their organization. The
creator starts as ``OWNER`` with ``canShare``.

What a role allows (the emulator's simplification, documented in the README):

* any role: see the object (without one, the object does not exist for that user: 404);
* ``OWNER``, ``ADMIN``, ``EDITOR``, ``USER``, ``DATA_SCIENTIST``, ``READ_WRITE``: change it;
* ``OWNER``: delete it;
* ``OWNER`` or ``canShare``: change its sharing.

``CONSUMER``, ``OBSERVER`` and ``READ_ONLY`` may only read (403 on writes).
"""

from __future__ import annotations

from typing import Any

from emulator.errors import ApiError, not_found
from emulator.store import Store

ROLES = (
    "ADMIN",
    "CONSUMER",
    "DATA_SCIENTIST",
    "EDITOR",
    "OBSERVER",
    "OWNER",
    "READ_ONLY",
    "READ_WRITE",
    "USER",
)
WRITE_ROLES = frozenset({"OWNER", "ADMIN", "EDITOR", "USER", "DATA_SCIENTIST", "READ_WRITE"})
_RANK = {"OWNER": 4, "ADMIN": 3, "EDITOR": 2, "READ_WRITE": 2, "DATA_SCIENTIST": 2, "USER": 2}

READ, WRITE, SHARE, DELETE = "read", "write", "share", "delete"


def _rank(role: str) -> int:
    return _RANK.get(role, 1)


def model_grant(model: dict[str, Any], user_id: str) -> dict[str, Any] | None:
    """The user's entry in a model's access list, if any."""
    return next((entry for entry in model["_acl"] if entry["userId"] == user_id), None)


def job_grant(store: Store, job: dict[str, Any], user: dict[str, Any]) -> dict[str, Any] | None:
    """The highest role the user holds on a job, directly, through a group or the org."""
    mine = {("user", user["id"]), ("organization", user.get("orgId"))}
    mine |= {("group", group_id) for group_id in store.user_groups(user["id"])}
    grants = [e for e in job["_roles"] if (e["shareRecipientType"], e["id"]) in mine]
    if not grants:
        return None
    best: dict[str, Any] = max(grants, key=lambda e: (_rank(e["role"]), bool(e.get("canShare"))))
    return best


def require(grant: dict[str, Any] | None, need: str, what: str) -> None:
    """Raise 404 when there is no grant, 403 when the grant does not allow ``need``."""
    if grant is None:
        raise not_found(what)
    role = grant["role"]
    allowed = {
        READ: True,
        WRITE: role in WRITE_ROLES,
        DELETE: role == "OWNER",
        SHARE: role == "OWNER" or bool(grant.get("canShare")),
    }[need]
    if not allowed:
        raise ApiError(403, f"Your role {role} on this {what.lower()} does not allow this ({need})")
