"""What a plan is computed from, and the facts every planner module asks of it (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from controller.engine.ownership import made_by_trusted
from controller.model.desired import DesiredState, ResourceKey, RuntimeValue, Source
from controller.model.diffs import ContentEvidence, runtime_body
from controller.model.identity import owned_model_name, strip_stamp
from controller.model.live import LiveJob, LiveModel, LiveSnapshot
from controller.model.params import ParameterValue
from controller.model.plans import FieldChange, FileChange, FileChangeKind, RuntimeChange
from controller.model.values import Fields, GitModelVersion


@dataclass(frozen=True)
class PlanInputs:
    """Everything a plan is computed from, besides the pairing of manifests and live
    objects (:class:`controller.engine.ownership.MatchResult`).

    ``refresh_metadata``: the checkout is the tracked branch, so versions whose recorded
    commit is unknown (or a pull request's) get their ``gitModelVersion`` moved to it.
    """

    desired: DesiredState
    live: LiveSnapshot
    namespace: str
    revision: GitModelVersion | None
    model_evidence: Mapping[ResourceKey, ContentEvidence] = field(default_factory=dict)
    job_evidence: Mapping[ResourceKey, ContentEvidence] = field(default_factory=dict)
    refresh_metadata: bool = True
    prune: bool = False
    max_deletions: int = 5
    allow_empty: bool = False
    declared_elsewhere: frozenset[ResourceKey] = frozenset()
    """Keys declared in the repository outside ``--path``: never pruned, nor called gone."""
    trusted_creators: tuple[str, ...] = ()
    """Usernames besides ``live.controller_user`` whose models under our ``userProvidedId``
    are ours (see :func:`foreign_creator`)."""


def foreign_creator(live: LiveModel, inputs: PlanInputs) -> str | None:
    """Why a model under our ``userProvidedId`` is not ours, if it is not: it was created by
    neither the controller's user nor a trusted one. ``None`` also when that cannot be told
    (the server names no creator, or not the token's user). Adopted models (matched by
    their stamp, with their own ``userProvidedId``) were made by someone else by design and
    are not asked."""
    creator, controller = live.created_by, inputs.live.controller_user
    upid = live.user_provided_id or ""
    if owned_model_name(inputs.namespace, upid) is None:
        return None
    if made_by_trusted(live, inputs.live, inputs.trusted_creators):
        return None
    return (
        f"the model with this manifest's userProvidedId {live.user_provided_id!r} (id "
        f"{live.id}) was created by {creator!r}, not by {controller!r} (the user dr-gitops "
        "runs as) nor a --trusted-creator"
    )


def user_fields(live: LiveModel | LiveJob) -> Fields:
    """The live fields as the user wrote them: the description without dr-gitops' stamp."""
    return live.fields.replace(description=strip_stamp(str(live.fields.get("description") or "")))


def commit_change(old: str | None, inputs: PlanInputs) -> tuple[FieldChange, ...]:
    """The recorded commit moved from ``old`` to the checkout's (nothing without one)."""
    if inputs.revision is None:
        return ()
    new = inputs.revision.main_branch_commit_sha
    return (FieldChange("gitModelVersion.mainBranchCommitSha", old, new),)


def added_files(source: Source) -> tuple[FileChange, ...]:
    """Every file of ``source``, added (to a new object or version)."""
    return tuple(
        FileChange(f.path, FileChangeKind.ADD, repo_path=f.repo_path) for f in source.files
    )


def fields_reason(changes: tuple[FieldChange, ...]) -> str:
    return "fields differ: " + ", ".join(c.field for c in changes)


def counted(number: int, noun: str) -> str:
    """``"1 file"``, ``"3 files"``."""
    return f"{number} {noun}{'s' if number != 1 else ''}"


def runtime_values(
    desired: tuple[RuntimeValue, ...], changes: tuple[RuntimeChange, ...]
) -> tuple[ParameterValue, ...]:
    """The runtime values to send: every declared one plus the resets (see
    :func:`controller.model.diffs.runtime_body`)."""
    return tuple(
        ParameterValue(str(v["fieldName"]), str(v["type"]), v["value"])
        for v in runtime_body(desired, changes)
    )
