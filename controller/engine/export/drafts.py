"""The parts every exported manifest shares: the draft of comments and notes, runtime values,
sharing entries, the header and the commented-out block (pure; see :mod:`.documents`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from controller.engine.export.selection import Selected
from controller.engine.export.yamltext import Commented, Path, block
from controller.model.delivery import KIND_DEPLOYMENT
from controller.model.desired import KIND_JOB, KIND_MODEL
from controller.model.live import LiveGrant, LiveRuntimeParameter
from controller.model.secrets import is_sensitive

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_RECIPIENT_ORDER = {"user": 0, "group": 1, "organization": 2}
SCHEMA_FILES = {
    KIND_MODEL: "custom-model.schema.json",
    KIND_JOB: "custom-job.schema.json",
    KIND_DEPLOYMENT: "deployment.schema.json",
}
FOLDERS = {KIND_MODEL: "models", KIND_JOB: "jobs", KIND_DEPLOYMENT: "deployments"}


@dataclass(frozen=True)
class Missing:
    """A file (``path`` inside the source folder) or a whole download (``path`` None)
    that could not be exported, and why."""

    path: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


@dataclass(frozen=True)
class Files:
    """How the export of an object's files went: ``missing`` names what could not be
    written (with why), ``count`` the files that were."""

    count: int = 0
    missing: tuple[Missing, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Rendered:
    """A manifest to write, and what the user should hear about it."""

    document: Commented
    notes: tuple[str, ...] = ()


@dataclass
class Draft:
    """A manifest being written: its header, comments by path, and notes for the report."""

    header: list[str]
    notes: dict[Path, list[str]] = field(default_factory=dict)
    trailing: dict[tuple[Path, int], str] = field(default_factory=dict)
    report: list[str] = field(default_factory=list)

    def note(self, path: Path, *lines: str) -> None:
        self.notes.setdefault(path, []).extend(lines)

    def done(self, data: dict[str, Any]) -> Rendered:
        return Rendered(
            Commented(
                data,
                tuple(self.header),
                {k: tuple(v) for k, v in self.notes.items()},
                dict(self.trailing),
            ),
            tuple(self.report),
        )


def runtime_values(
    parameters: tuple[LiveRuntimeParameter, ...], path: Path, draft: Draft
) -> dict[str, Any]:
    """Each parameter's override (credentials as ``{credentialId}``); a secret-looking value
    becomes a comment at ``path`` instead."""
    values: dict[str, Any] = {}
    for param in sorted(parameters, key=lambda p: p.field_name):
        value = param.override_value
        if value is None:
            continue
        if param.type == "credential" and isinstance(value, str) and _OBJECT_ID.match(value):
            values[param.field_name] = {"credentialId": value}
        elif param.type == "credential" or is_sensitive(param.field_name, param.type, value):
            draft.note(
                path,
                f"{param.field_name}: not exported, the value looks like a secret. Store it as a "
                "DataRobot credential, make the parameter a `type: credential` in the source's "
                f"metadata file, and set {param.field_name}: {{credentialId: <ID>}} here. "
                "Until then dr-gitops resets it to its default.",
            )
            draft.report.append(
                f"runtime parameter {param.field_name}: a secret-looking value was not written; "
                "the plan will reset it unless you reference it as a credential"
            )
        else:
            values[param.field_name] = value
    return values


def add_sharing(
    spec: dict[str, Any], grants: tuple[LiveGrant, ...] | None, kind: str, draft: Draft
) -> None:
    """``spec.sharing`` from the live grants (all of them: a declared list is authoritative)."""
    if grants is None:
        draft.note(("spec",), "sharing is not managed: it could not be read when this was exported")
        draft.report.append("sharing could not be read; left unmanaged")
        return
    if not grants:
        return
    ordered = sorted(
        grants,
        key=lambda g: (_RECIPIENT_ORDER.get(g.recipient_type, 3), g.name.lower(), g.id or ""),
    )
    entries: list[dict[str, Any]] = []
    for index, grant in enumerate(ordered):
        entry, comment = _grant_entry(grant, kind)
        entries.append(entry)
        if comment:
            draft.trailing[(("spec", "sharing"), index)] = comment
    spec["sharing"] = entries


def _grant_entry(grant: LiveGrant, kind: str) -> tuple[dict[str, Any], str | None]:
    entry: dict[str, Any] = {}
    comment = None
    if kind == KIND_MODEL or (grant.recipient_type == "user" and grant.name):
        entry["username"] = grant.name
    elif grant.id:
        # Group and organization names need not be unique; the ID always is.
        entry["shareRecipientType"] = grant.recipient_type
        entry["id"] = grant.id
        comment = grant.name or None
    else:
        entry["shareRecipientType"] = grant.recipient_type
        entry["name"] = grant.name
    entry["role"] = grant.role.upper()
    if grant.can_share is not None:
        entry["canShare"] = grant.can_share
    return entry, comment


def comment_out(
    draft: Draft, key: str | None, content: dict[str, Any], files: Files, what: str
) -> None:
    """Leave ``content`` out of the manifest, written as a comment to uncomment later."""
    shown = {key: content} if key else content
    draft.note(
        ("spec",),
        f"Not managed yet: {what} could not all be exported:",
        *(f"  - {m}" for m in files.missing),
        "Complete the source folder, then uncomment these lines to manage the files too:",
        *block(shown),
    )
    draft.report.append(
        f"{what} are not managed until the folder is completed (see the comment in the manifest)"
    )


def header(
    kind: str, noun: str, object_id: str, display: str, extra: str, selected: Selected[Any]
) -> list[str]:
    """The comment lines at the top: the editor modeline and where the manifest came from."""
    lines = [
        f"yaml-language-server: $schema=../schemas/{SCHEMA_FILES[kind]}",
        "",
        f"Exported by `dr-gitops export` from DataRobot {noun} {object_id} ({display!r}{extra}).",
    ]
    if not selected.owned:
        lines.append(
            "Made by hand: `metadata.adopt: true` lets dr-gitops take it over at the next apply."
        )
    return lines


def manifest(kind: str, selected: Selected[Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The whole document: ``apiVersion``, ``kind``, ``metadata`` (adopt when made by hand), ``spec``."""
    metadata: dict[str, Any] = {"name": selected.name}
    if not selected.owned:
        metadata["adopt"] = True
    return {"apiVersion": "dr-gitops/v1", "kind": kind, "metadata": metadata, "spec": spec}
