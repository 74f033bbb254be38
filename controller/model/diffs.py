"""Differences between desired and live values, computed on normalised "essences".

Both sides are normalised before they are compared, so that an apply is always followed by
an empty plan: an empty string equals a missing value, numbers compare by value, enums by
the API's case, lists of ``{fieldName, value}`` pairs regardless of order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from controller.model.desired import RuntimeValue, SharingGrant, Source
from controller.model.live import LiveGrant, LiveItem, LiveRuntimeParameter
from controller.model.plans import (
    FieldChange,
    FileChange,
    FileChangeKind,
    GrantChange,
    RuntimeChange,
)
from controller.model.values import Json

_UPPER_ENUMS = frozenset({"networkEgressPolicy"})
_LOWER_ENUMS = frozenset({"egressNetworkPolicy"})
_UNORDERED_PAIRS = frozenset({"requiredMetadataValues"})


def normalized(name: str, value: Json) -> Json:
    """The comparable essence of an API field's value."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        if name in _UPPER_ENUMS:
            return value.upper()
        if name in _LOWER_ENUMS:
            return value.lower()
        return value
    if isinstance(value, dict):
        pairs = {k: normalized(k, v) for k, v in value.items()}
        return {k: v for k, v in sorted(pairs.items()) if v is not None} or None
    if name in _UNORDERED_PAIRS:
        pairs_list = [normalized("", v) for v in value]
        return sorted(
            pairs_list, key=lambda p: str(p.get("fieldName")) if isinstance(p, dict) else str(p)
        )
    return [normalized(name, v) for v in value]


def _number(value: float) -> int | float:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return round(value, 9) if isinstance(value, float) else value


def same(name: str, desired: Json, live: Json) -> bool:
    # Equal values have equal essences (normalising is a function of the value and the
    # name): most fields of a plan with nothing to do are equal as they are.
    return desired == live or normalized(name, desired) == normalized(name, live)


def field_changes(desired: Mapping[str, Json], live: Mapping[str, Json]) -> tuple[FieldChange, ...]:
    """Fields the manifest sets whose live value differs, in name order."""
    return tuple(
        FieldChange(name, live.get(name), value)
        for name, value in sorted(desired.items())
        if not same(name, value, live.get(name))
    )


# --- files -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentEvidence:
    """What is known about how a live file set compares with the desired source.

    ``changed_repo_paths``: repository paths changed since the commit the live object was
    made from (from one ``git diff``), or ``None`` when that commit is unknown.
    ``live_hashes`` / ``desired_hashes``: git blob SHA-1s by version path, when contents
    were compared instead (force push, shallow clone, hand-made version, job drift, or a
    source folder that moved since the recorded commit).
    ``in_history``: the hashes were taken although the recorded commit is in this branch's
    history, because the source folder moved since (the recorded metadata stays true).
    ``moved_from``: that folder at the recorded commit, when known: the hashes then compare
    it, at that commit, with the folder of now, by path inside the folder (no download).
    ``model_commit_gone``: the model's own ``gitModelVersion`` names a commit that is no
    longer in this branch's history (rewritten), so it should move to the current one.
    """

    changed_repo_paths: frozenset[str] | None = None
    live_hashes: Mapping[str, str] | None = None
    desired_hashes: Mapping[str, str] | None = None
    in_history: bool = False
    moved_from: str | None = None
    model_commit_gone: bool = False

    @property
    def basis(self) -> str:
        """``git`` when the recorded commit is in this branch's history (so the recorded
        metadata stays true), ``content`` when it is not and contents were compared."""
        if self.live_hashes is not None and not self.in_history:
            return "content"
        if self.changed_repo_paths is not None or self.in_history:
            return "git"
        return "none"


def file_changes(
    source: Source, live_items: Iterable[LiveItem], evidence: ContentEvidence
) -> tuple[FileChange, ...]:
    """Files to add, replace and delete so that the live set equals ``source``.

    Paths present on only one side are added or deleted whatever the evidence says; a path
    on both sides is replaced when git says its file changed since the recorded commit, or
    when its content hash differs. Without any evidence every common file is replaced (the
    caller should not let that happen: it means "we could not tell").
    """
    live = {i.file_path: i for i in live_items}
    desired_paths = source.paths()
    if _none_modified(evidence) and live.keys() == desired_paths:
        return ()  # the same paths, none changed since the recorded commit
    changes: list[FileChange] = []
    for f in source.files:
        item = live.get(f.path)
        if item is None:
            changes.append(FileChange(f.path, FileChangeKind.ADD, repo_path=f.repo_path))
        elif _modified(f.path, f.repo_path, evidence):
            changes.append(
                FileChange(f.path, FileChangeKind.MODIFY, repo_path=f.repo_path, item_id=item.id)
            )
    changes.extend(
        FileChange(path, FileChangeKind.DELETE, item_id=item.id)
        for path, item in sorted(live.items())
        if path not in desired_paths
    )
    return tuple(sorted(changes, key=lambda c: c.path))


def _none_modified(evidence: ContentEvidence) -> bool:
    """True when :func:`_modified` says False of every path."""
    if evidence.live_hashes is not None and evidence.desired_hashes is not None:
        return False
    return evidence.changed_repo_paths is not None and not evidence.changed_repo_paths


def _modified(path: str, repo_path: str, evidence: ContentEvidence) -> bool:
    if evidence.live_hashes is not None and evidence.desired_hashes is not None:
        return evidence.live_hashes.get(path) != evidence.desired_hashes.get(path)
    if evidence.changed_repo_paths is not None:
        return repo_path in evidence.changed_repo_paths
    return True


# --- runtime parameters ------------------------------------------------------------------


def runtime_changes(
    desired: Iterable[RuntimeValue], live: Iterable[LiveRuntimeParameter]
) -> tuple[RuntimeChange, ...]:
    """Values to set, and overrides to reset (``new=None``) because the manifest dropped them."""
    live_by_name = {p.field_name: p for p in live}
    wanted = {v.field_name: v for v in desired}
    changes = [
        RuntimeChange(v.field_name, v.type, _live_override(live_by_name.get(name)), v.value)
        for name, v in sorted(wanted.items())
        if not _same_runtime(v.value, _live_override(live_by_name.get(name)))
    ]
    changes.extend(
        RuntimeChange(name, p.type, p.override_value, None)
        for name, p in sorted(live_by_name.items())
        if name not in wanted and p.override_value is not None
    )
    return tuple(sorted(changes, key=lambda c: c.field_name))


def _live_override(param: LiveRuntimeParameter | None) -> Json:
    return None if param is None else param.override_value


def _same_runtime(desired: Json, live: Json) -> bool:
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return math.isclose(float(desired), float(live), rel_tol=1e-12, abs_tol=0.0)
    return desired == live


def runtime_body(
    desired: Iterable[RuntimeValue], changes: Iterable[RuntimeChange]
) -> list[dict[str, Json]]:
    """The ``runtimeParameterValues`` list to send: every desired value plus the resets.

    Values merge with the previous ones in DataRobot; sending all of them keeps a version
    made for another reason (a file change) from depending on what it inherits.
    """
    body: dict[str, dict[str, Json]] = {
        v.field_name: {"fieldName": v.field_name, "type": v.type, "value": v.value} for v in desired
    }
    for c in changes:
        if c.new is None:
            body[c.field_name] = {"fieldName": c.field_name, "type": c.type, "value": None}
    return [body[name] for name in sorted(body)]


# --- sharing -----------------------------------------------------------------------------


def grant_changes(
    desired: Iterable[SharingGrant], live: Iterable[LiveGrant], *, protected: Iterable[str] = ()
) -> tuple[GrantChange, ...]:
    """Grants, role changes and revocations that make ``live`` equal ``desired``.

    The declared list is authoritative: live entries it does not name are revoked, except
    ``protected`` recipients (the controller's own user), which are never touched unless
    declared. Recipients match by type and by name or ID, case-insensitively; a change is
    sent with DataRobot's spelling (the live entry's; a new user's username in lower case),
    never the manifest's, so that no spelling can keep plan and apply disagreeing.
    """
    live_list = list(live)
    keep = {p.lower() for p in protected}
    matched: set[int] = set()
    changes: list[GrantChange] = []
    for grant in desired:
        index = _find_live(grant, live_list)
        entry = live_list[index] if index is not None else None
        if index is not None:
            matched.add(index)
        change = _grant_change(grant, entry)
        if change is not None:
            changes.append(change)
    for index, entry in enumerate(live_list):
        if index in matched or entry.name.lower() in keep or (entry.id or "").lower() in keep:
            continue
        changes.append(
            GrantChange(
                entry.recipient_type,
                entry.name,
                entry.role.upper(),
                None,
                entry.can_share,
                None,
                entry.id,
            )
        )
    return tuple(sorted(changes, key=lambda c: (c.recipient_type, c.recipient.lower())))


def _find_live(grant: SharingGrant, live: list[LiveGrant]) -> int | None:
    for index, entry in enumerate(live):
        if entry.recipient_type != grant.recipient_type:
            continue
        names = {entry.name.lower(), (entry.id or "").lower()} - {""}
        if (grant.name and grant.name.lower() in names) or (grant.id and grant.id.lower() in names):
            return index
    return None


def _grant_change(grant: SharingGrant, entry: LiveGrant | None) -> GrantChange | None:
    role = grant.role.upper()
    if entry is None:
        # Not seen in DataRobot yet: a username goes in DataRobot's spelling, lower case.
        name = grant.recipient.lower() if grant.recipient_type == "user" else grant.recipient
        return GrantChange(grant.recipient_type, name, None, role, None, grant.can_share, grant.id)
    share_differs = grant.can_share is not None and grant.can_share != bool(entry.can_share)
    if entry.role.upper() == role and not share_differs:
        return None
    return GrantChange(
        grant.recipient_type,
        entry.name or grant.recipient,
        entry.role.upper(),
        role,
        entry.can_share,
        grant.can_share if grant.can_share is not None else entry.can_share,
        entry.id or grant.id,
    )
