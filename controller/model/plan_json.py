"""The JSON form of a plan: what ``plan --output json`` prints and ``plan --out`` saves.

The document is described by ``schemas/plan.schema.json``; :func:`plan_to_json` and
:func:`plan_from_json` are its only writer and reader, and a saved plan read back equals the
plan that was written, except that secret-looking values are masked. :func:`first_difference`
tells ``apply FILE`` in words how a saved plan differs from the plan made anew.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import fields
from typing import Any

from controller.model.desired import ResourceKey
from controller.model.plans import (
    PARAMS_BY_KIND,
    PLAN_FORMAT,
    Action,
    ActionKind,
    BasisEntry,
    DriftReport,
    FieldChange,
    FileChange,
    FileChangeKind,
    GrantChange,
    Plan,
    RuntimeChange,
)
from controller.model.values import GitModelVersion


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The JSON document ``schemas/plan.schema.json`` describes."""
    doc = {
        **_head_to_json(plan),
        "actions": [_action_to_json(a) for a in plan.actions],
        "basis": [_basis_to_json(b) for b in plan.basis],
    }
    if plan.drift:  # written only when there is some: plans without it keep their bytes
        doc["drift"] = [_drift_to_json(d) for d in plan.drift]
    return doc


def plan_json_text(plan: Plan) -> Iterator[str]:
    """``json.dumps(plan_to_json(plan), indent=2)`` in pieces, byte for byte, one action or
    basis entry at a time: at 10,000 models neither the document nor its text is held
    whole (a test compares the two)."""
    head = json.dumps(_head_to_json(plan), indent=2)
    yield head.removesuffix("\n}")
    sections: list[tuple[str, Iterator[dict[str, Any]]]] = [
        ("actions", map(_action_to_json, plan.actions)),
        ("basis", map(_basis_to_json, plan.basis)),
    ]
    if plan.drift:
        sections.append(("drift", map(_drift_to_json, plan.drift)))
    for name, docs in sections:
        yield f',\n  "{name}": ['
        separator = "\n    "
        for doc in docs:
            # Strings hold no raw newline (JSON escapes it): every newline starts a line,
            # which sits two levels deeper in the whole document than in the entry's own.
            yield separator + json.dumps(doc, indent=2).replace("\n", "\n    ")
            separator = ",\n    "
        yield "]" if separator == "\n    " else "\n  ]"
    yield "\n}"


def _head_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "format": plan.format,
        "namespace": plan.namespace,
        "revision": plan.revision.to_api() if plan.revision else None,
        "summary": plan.summary_line(),
        "counts": dict(sorted(plan.counts().items())),
        "unchanged": plan.unchanged,
        "warnings": list(plan.warnings),
    }


def _drift_to_json(report: DriftReport) -> dict[str, Any]:
    return {
        "key": str(report.key),
        "targetId": report.target_id,
        "reason": report.reason,
        "fields": [_plain(c) for c in report.fields],
        "sharing": [_plain(g) for g in report.sharing],
    }


def _basis_to_json(entry: BasisEntry) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "key": entry.key,
        "objectId": entry.object_id,
        "digest": entry.digest,
        "summary": entry.summary,
    }
    if entry.parts:
        doc["parts"] = dict(entry.parts)
    return doc


def _action_to_json(action: Action) -> dict[str, Any]:
    action = action.masked()
    return {
        "kind": action.kind.value,
        "key": str(action.key),
        "reason": action.reason,
        "targetId": action.target_id,
        "targetName": action.target_name,
        "fields": [_plain(c) for c in action.fields],
        "files": [
            {"path": f.path, "change": f.change.value, "repoPath": f.repo_path, "itemId": f.item_id}
            for f in action.files
        ],
        "runtime": [
            {"fieldName": r.field_name, "type": r.type, "old": r.old, "new": r.new}
            for r in action.runtime
        ],
        "sharing": [_plain(g) for g in action.sharing],
        "params": action.params.to_json(),
    }


def _plain(value: Any) -> dict[str, Any]:
    return {_camel(f.name): getattr(value, f.name) for f in fields(value)}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def plan_from_json(doc: dict[str, Any]) -> Plan:
    """Read a saved plan; raises ``ValueError`` (with the reason) when it is not one."""
    if not isinstance(doc, dict) or doc.get("format") != PLAN_FORMAT:
        raise ValueError(f"not a dr-gitops plan of format {PLAN_FORMAT}")
    try:
        return Plan(
            namespace=str(doc["namespace"]),
            revision=GitModelVersion.from_api(doc.get("revision")),
            actions=tuple(_action_from_json(a) for a in doc["actions"]),
            basis=tuple(
                BasisEntry(
                    key=b["key"],
                    object_id=b["objectId"],
                    digest=b["digest"],
                    summary=b.get("summary", ""),
                    parts=tuple(sorted((str(k), str(v)) for k, v in b.get("parts", {}).items())),
                )
                for b in doc.get("basis", [])
            ),
            warnings=tuple(doc.get("warnings", [])),
            unchanged=int(doc.get("unchanged", 0)),
            drift=tuple(_drift_from_json(d) for d in doc.get("drift", [])),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed plan: missing or wrong {exc}") from exc


def _key(doc: dict[str, Any]) -> ResourceKey:
    kind, _, name = str(doc["key"]).partition("/")
    if kind not in ("CustomModel", "CustomJob", "Deployment"):
        raise ValueError(f"malformed plan: unknown key {doc['key']!r}")
    return ResourceKey(kind, name)  # type: ignore[arg-type]


def _drift_from_json(doc: dict[str, Any]) -> DriftReport:
    return DriftReport(
        key=_key(doc),
        target_id=doc.get("targetId"),
        reason=str(doc["reason"]),
        fields=tuple(FieldChange(c["field"], c["old"], c["new"]) for c in doc.get("fields", [])),
        sharing=tuple(_grant(g) for g in doc.get("sharing", [])),
    )


def _grant(g: dict[str, Any]) -> GrantChange:
    return GrantChange(
        recipient_type=g["recipientType"],
        recipient=g["recipient"],
        old_role=g["oldRole"],
        new_role=g["newRole"],
        old_can_share=g.get("oldCanShare"),
        new_can_share=g.get("newCanShare"),
        recipient_id=g.get("recipientId"),
    )


def _action_from_json(doc: dict[str, Any]) -> Action:
    action_kind = ActionKind(doc["kind"])
    return Action(
        kind=action_kind,
        key=_key(doc),
        reason=str(doc["reason"]),
        target_id=doc.get("targetId"),
        target_name=doc.get("targetName"),
        fields=tuple(FieldChange(c["field"], c["old"], c["new"]) for c in doc.get("fields", [])),
        files=tuple(
            FileChange(f["path"], FileChangeKind(f["change"]), f.get("repoPath"), f.get("itemId"))
            for f in doc.get("files", [])
        ),
        runtime=tuple(
            RuntimeChange(r["fieldName"], r["type"], r["old"], r["new"])
            for r in doc.get("runtime", [])
        ),
        sharing=tuple(_grant(g) for g in doc.get("sharing", [])),
        params=PARAMS_BY_KIND[action_kind].from_json(_params_doc(doc.get("params"))),
    )


def _params_doc(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("params: not an object")
    return value


def first_difference(saved: Plan, fresh: Plan) -> str | None:
    """The first way ``saved``'s actions differ from ``fresh``'s, in words; ``None`` if
    they are the same. ``saved`` was read from a file, so ``fresh`` is compared in its saved
    form (secret-looking values masked): a saved plan never holds such a value, and applying
    it applies the plan made anew, whose values come from the manifests."""
    now = [a.masked() for a in fresh.actions]
    for index, (old, new) in enumerate(zip(saved.actions, now, strict=False), start=1):
        if old != new:
            differ = sorted(
                _camel(f.name)
                for f in fields(Action)
                if getattr(old, f.name) != getattr(new, f.name)
            )
            return f"action {index}, {old.key}: {', '.join(differ)} differ"
    if len(saved.actions) != len(now):
        return f"{len(saved.actions)} actions saved, {len(now)} called for now"
    return None
