"""Sharing entries of a manifest → :class:`SharingGrant` values.

Models are shared with users only: ``{username, role, canShare?}``. Jobs are shared with
users, groups and organizations: ``{shareRecipientType, username | name | id, role,
canShare?}``, where a user is named by ``username``, a group or an organization by
``name``, and any of them by ``id`` instead. ``shareRecipientType`` defaults to ``user``.
A declared list is authoritative, so it must name at least one OWNER; a recipient may
appear once.
"""

from __future__ import annotations

from typing import Any, cast

from controller.manifests.problems import FieldPath, Problem
from controller.manifests.yamlparser import Document
from controller.model.desired import RecipientType, SharingGrant
from controller.model.values import Location

_NAME_KEYS: dict[str, tuple[str, ...]] = {
    "user": ("username", "id"),
    "group": ("name", "id"),
    "organization": ("name", "id"),
}


def model_grants(
    document: Document, path: FieldPath, entries: list[dict[str, Any]]
) -> tuple[tuple[SharingGrant, ...], list[Problem]]:
    """Grants of a CustomModel's ``sharing`` list (already schema-valid)."""
    grants = [
        SharingGrant(
            recipient_type="user",
            role=entry["role"],
            name=entry["username"],
            can_share=entry.get("canShare"),
            location=_location(document, (*path, index)),
        )
        for index, entry in enumerate(entries)
    ]
    return _finish(document, path, grants)


def job_grants(
    document: Document, path: FieldPath, entries: list[dict[str, Any]]
) -> tuple[tuple[SharingGrant, ...], list[Problem]]:
    """Grants of a CustomJob's ``sharing`` list (already schema-valid)."""
    grants: list[SharingGrant] = []
    problems: list[Problem] = []
    for index, entry in enumerate(entries):
        kind = entry.get("shareRecipientType", "user")
        given = [k for k in ("username", "name", "id") if k in entry]
        allowed = _NAME_KEYS[kind]
        wrong = [k for k in given if k not in allowed]
        if wrong or len(given) != 1:
            problems.append(
                document.problem(
                    (*path, index, wrong[0]) if wrong else (*path, index),
                    f"a {kind} is named by exactly one of {' or '.join(allowed)}"
                    + (f"; {wrong[0]!r} does not apply" if wrong else ""),
                    f"write {allowed[0]}: ... or id: ...",
                )
            )
            continue
        key = given[0]
        grants.append(
            SharingGrant(
                recipient_type=cast(RecipientType, kind),
                role=entry["role"],
                name=entry[key] if key != "id" else None,
                id=entry[key] if key == "id" else None,
                can_share=entry.get("canShare"),
                location=_location(document, (*path, index)),
            )
        )
    if problems:
        return (), problems
    return _finish(document, path, grants)


def _location(document: Document, path: FieldPath) -> Location:
    return Location(document.file, document.index, document.line_of(path))


def _finish(
    document: Document, path: FieldPath, grants: list[SharingGrant]
) -> tuple[tuple[SharingGrant, ...], list[Problem]]:
    problems: list[Problem] = []
    seen: dict[tuple[str, str], int] = {}
    for index, grant in enumerate(grants):
        key = (grant.recipient_type, grant.recipient.lower())
        if key in seen:
            problems.append(
                document.problem(
                    (*path, index),
                    f"{grant.recipient_type} {grant.recipient!r} is listed twice "
                    f"(also at sharing[{seen[key]}])",
                    "keep one entry per recipient",
                )
            )
        seen.setdefault(key, index)
    if grants and not any(g.role == "OWNER" for g in grants):
        problems.append(
            document.problem(
                path,
                "sharing names no OWNER; the API refuses to leave an object without one",
                "give at least one recipient the OWNER role, usually the controller's own user",
            )
        )
    ordered = sorted(grants, key=lambda g: (g.recipient_type, g.recipient.lower(), g.id or ""))
    return tuple(ordered), problems
