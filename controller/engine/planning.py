"""Build a plan from values: desired state, live snapshot and content evidence (pure).

The order is deterministic: models by key (each: the model, then its version, then its
sharing, then the version's gates: see :mod:`.gateplanner`), then jobs by key (each: the job, then its sharing), then deletions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace

from controller.engine.gateplanner import gate_actions
from controller.engine.matching import Matches, made_by_trusted, match_jobs, match_models
from controller.errors import PlanError
from controller.model.desired import (
    DesiredJob,
    DesiredModel,
    DesiredState,
    DesiredVersion,
    ResourceKey,
)
from controller.model.diffs import (
    ContentEvidence,
    field_changes,
    file_changes,
    grant_changes,
    runtime_body,
    runtime_changes,
)
from controller.model.identity import model_upid, owned_model_name, strip_stamp
from controller.model.live import LiveGrant, LiveJob, LiveModel, LiveSnapshot, LiveVersion
from controller.model.plans import (
    Action,
    ActionKind,
    BasisEntry,
    FieldChange,
    FileChange,
    FileChangeKind,
    GrantChange,
    Plan,
)
from controller.model.values import Fields, GitModelVersion

# Fields of CustomModelCreate that CustomModelUpdate does not accept.
MODEL_CREATE_ONLY = frozenset(
    {
        "targetType",
        "customModelType",
        "calibratePredictions",
        "playgroundId",
        "userProvidedId",
        "supportsBinaryClassification",
        "supportsRegression",
    }
)
# Fields DataRobot refuses to change on a deployed model (409).
MODEL_DEPLOYED_LOCKED = frozenset(
    {"targetName", "positiveClassLabel", "negativeClassLabel", "classLabels"}
)
# Version fields a metadata PATCH can change without a new version.
VERSION_METADATA = frozenset({"description", "requiredMetadataValues"})
# Job fields UpdateCustomJob does not accept.
JOB_CREATE_ONLY = frozenset({"jobType"})


@dataclass(frozen=True)
class PlanInputs:
    """Everything a plan is computed from.

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


def make_plan(inputs: PlanInputs) -> Plan:
    """The plan that makes the live state equal the desired state."""
    models = match_models(inputs.desired, inputs.live, inputs.namespace)
    jobs = match_jobs(inputs.desired, inputs.live, inputs.namespace)
    actions: list[Action] = []
    unchanged = 0
    for model in sorted(inputs.desired.models, key=lambda m: m.key):
        planned = _plan_model(model, models, inputs)
        actions.extend(planned)
        unchanged += not planned
    for job in sorted(inputs.desired.jobs, key=lambda j: j.key):
        planned = _plan_job(job, jobs, inputs)
        actions.extend(planned)
        unchanged += not planned
    warnings = models.warnings + jobs.warnings
    if inputs.prune:
        actions.extend(_plan_deletions(models, jobs, inputs))
    else:
        warnings += _orphans_warning(models, jobs, inputs.desired.root)
    return Plan(
        namespace=inputs.namespace,
        revision=inputs.revision,
        actions=tuple(actions),
        basis=plan_basis(inputs.live, models, jobs, include_orphans=inputs.prune),
        warnings=warnings,
        unchanged=unchanged,
    )


# --- models ------------------------------------------------------------------------------


def _plan_model(
    model: DesiredModel, matches: Matches[LiveModel], inputs: PlanInputs
) -> list[Action]:
    if model.key in matches.conflicts:
        return [Action(ActionKind.BLOCKED, model.key, matches.conflicts[model.key])]
    live = matches.live_for(model.key)
    if live is None:
        return _create_model(model, inputs)
    adopted = model.key in matches.adopted
    squatted = None if adopted else foreign_creator(live, inputs)
    if squatted:
        reason = (
            f"{squatted}; dr-gitops writes nothing to it, since another DataRobot user could "
            "make it to receive this repository's source. Have it deleted (by its creator or "
            f"an administrator), or, if that user is trusted, pass --trusted-creator "
            f"{live.created_by}"
        )
        return [Action(ActionKind.BLOCKED, model.key, reason, live.id, live.name)]
    changes = field_changes(model.fields, _user_fields(live))
    blocked = _model_blocker(changes, live)
    if blocked:
        return [Action(ActionKind.BLOCKED, model.key, blocked, live.id, live.name, fields=changes)]
    actions: list[Action] = []
    evidence = inputs.model_evidence.get(model.key, ContentEvidence())
    recorded = _model_git_change(live, evidence, inputs)
    if changes or adopted or recorded:
        kind = ActionKind.ADOPT_MODEL if adopted else ActionKind.UPDATE_MODEL
        reason = "adopt a model made by hand" if adopted else _fields_reason(changes)
        if not changes and not adopted:
            reason = (
                "the model's recorded commit is not in this branch's history (rewritten); "
                "record the commit it matches"
            )
        params = Fields(description=model.fields.get("description")) if adopted else Fields()
        fields = changes + recorded
        actions.append(
            Action(kind, model.key, reason, live.id, live.name, fields=fields, params=params)
        )
    if model.version is not None:
        versions = _plan_version(model, model.version, live, evidence, inputs)
        if adopted and _records_commit_only(versions):
            # Adopting takes the version as it is; recording the commit is part of adopting.
            (record,) = versions
            adopt = actions[0]
            actions[0] = replace(adopt, params=adopt.params.replace(**record.params.to_dict()))
            versions = []
        actions.extend(versions)
    if model.sharing is not None:
        current = inputs.live.model_sharing.get(live.id, ())
        actions.extend(_plan_sharing(ActionKind.UPDATE_MODEL_SHARING, model, live, current, inputs))
    new_version = next((a for a in actions if a.kind is ActionKind.CREATE_VERSION), None)
    actions.extend(gate_actions(model, live, new_version, inputs.live))
    return actions


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


def _records_commit_only(actions: list[Action]) -> bool:
    """True for a lone metadata update whose only change is the recorded commit."""
    return (
        len(actions) == 1
        and actions[0].kind is ActionKind.UPDATE_VERSION_METADATA
        and all(c.field.startswith("gitModelVersion.") for c in actions[0].fields)
    )


def _model_git_change(
    live: LiveModel, evidence: ContentEvidence, inputs: PlanInputs
) -> tuple[FieldChange, ...]:
    """The model's own ``gitModelVersion`` moved to the current commit, when the one it
    records was rewritten away (every model update writes it anyway)."""
    if not evidence.model_commit_gone or not inputs.refresh_metadata or inputs.revision is None:
        return ()
    old = live.git.main_branch_commit_sha if live.git else None
    return (
        FieldChange(
            "gitModelVersion.mainBranchCommitSha", old, inputs.revision.main_branch_commit_sha
        ),
    )


def _user_fields(live: LiveModel | LiveJob) -> Fields:
    """The live fields as the user wrote them: the description without dr-gitops' stamp."""
    return live.fields.replace(description=strip_stamp(str(live.fields.get("description") or "")))


def _create_model(model: DesiredModel, inputs: PlanInputs) -> list[Action]:
    body = model.fields.replace(
        customModelType="inference", userProvidedId=model_upid(inputs.namespace, model.key.name)
    )
    created = [FieldChange(name, None, value) for name, value in sorted(model.fields.items())]
    actions = [
        Action(
            ActionKind.CREATE_MODEL,
            model.key,
            "no model in DataRobot for this manifest",
            fields=tuple(created),
            params=Fields(body=body.to_dict()),
        )
    ]
    if model.version is not None:
        version = model.version
        files = tuple(
            FileChange(f.path, FileChangeKind.ADD, repo_path=f.repo_path)
            for f in version.source.files
        )
        runtime = runtime_changes(version.runtime_values, ())
        settings = [FieldChange(n, None, v) for n, v in sorted(version.settings.items())]
        actions.append(
            Action(
                ActionKind.CREATE_VERSION,
                model.key,
                "first version",
                fields=tuple(settings),
                files=files,
                runtime=runtime,
                params=_version_params(version, runtime, method="create", major=True, base=None),
            )
        )
    if model.sharing is not None:
        creator = _creator_grants(inputs.live)
        sharing = grant_changes(model.sharing, creator, protected=_protected(inputs.live))
        blocked = _sharing_blocker(sharing, creator, inputs.live.controller_user)
        if blocked:  # nothing is made: a model it could not share as declared
            return [Action(ActionKind.BLOCKED, model.key, blocked, sharing=sharing)]
        if sharing:
            actions.append(
                Action(
                    ActionKind.UPDATE_MODEL_SHARING,
                    model.key,
                    "share the new model",
                    sharing=sharing,
                )
            )
    new_version = next((a for a in actions if a.kind is ActionKind.CREATE_VERSION), None)
    actions.extend(gate_actions(model, None, new_version, inputs.live))
    return actions


def _model_blocker(changes: tuple[FieldChange, ...], live: LiveModel) -> str | None:
    fixed = [c.field for c in changes if c.field in MODEL_CREATE_ONLY]
    if fixed:
        return (
            f"{', '.join(fixed)} cannot change on an existing model; give the manifest a new "
            "metadata.name to create a new model (and prune the old one), or revert the change"
        )
    locked = [c.field for c in changes if c.field in MODEL_DEPLOYED_LOCKED]
    if locked and live.deployments_count:
        return (
            f"the model is deployed ({live.deployments_count} deployments) and DataRobot does not "
            f"allow changing {', '.join(locked)} on a deployed model; revert the change or undeploy it"
        )
    return None


def _plan_version(
    model: DesiredModel,
    version: DesiredVersion,
    live: LiveModel,
    evidence: ContentEvidence,
    inputs: PlanInputs,
) -> list[Action]:
    latest = live.latest_version
    if latest is None:
        files = tuple(
            FileChange(f.path, FileChangeKind.ADD, repo_path=f.repo_path)
            for f in version.source.files
        )
        runtime = runtime_changes(version.runtime_values, ())
        settings = tuple(FieldChange(n, None, v) for n, v in sorted(version.settings.items()))
        return [
            Action(
                ActionKind.CREATE_VERSION,
                model.key,
                "the model has no version yet",
                live.id,
                live.name,
                fields=settings,
                files=files,
                runtime=runtime,
                params=_version_params(version, runtime, method="create", major=True, base=None),
            )
        ]
    files = file_changes(version.source, latest.items, evidence)
    settings = field_changes(version.settings.without(*VERSION_METADATA), latest.settings)
    runtime = runtime_changes(version.runtime_values, latest.runtime_parameters)
    metadata = field_changes(
        {k: v for k, v in version.settings.items() if k in VERSION_METADATA},
        {"description": latest.description, **latest.settings.to_dict()},
    )
    if files or settings or runtime:
        major = latest.is_frozen or any(c.field == "baseEnvironmentId" for c in settings)
        method = "from-latest" if files else "settings-only"
        return [
            Action(
                ActionKind.CREATE_VERSION,
                model.key,
                _version_reason(files, settings, runtime, evidence),
                live.id,
                live.name,
                fields=settings + metadata,
                files=files,
                runtime=runtime,
                params=_version_params(version, runtime, method=method, major=major, base=latest),
            )
        ]
    refresh = _git_refresh(latest, evidence, inputs)
    if metadata or refresh:
        reason = "version metadata differs" if metadata else refresh
        return [
            Action(
                ActionKind.UPDATE_VERSION_METADATA,
                model.key,
                reason or "",
                live.id,
                live.name,
                fields=metadata + _git_change(latest, inputs, bool(refresh)),
                params=Fields(versionId=latest.id, versionLabel=latest.label),
            )
        ]
    return []


def _version_params(
    version: DesiredVersion,
    runtime: tuple[object, ...],
    *,
    method: str,
    major: bool,
    base: LiveVersion | None,
) -> Fields:
    return Fields(
        method=method,
        isMajorUpdate=major,
        baseVersionId=base.id if base else None,
        baseVersionLabel=base.label if base else None,
        settings=version.settings.to_dict(),
        runtimeValues=runtime_body(version.runtime_values, runtime),  # type: ignore[arg-type]
    )


def _git_refresh(latest: LiveVersion, evidence: ContentEvidence, inputs: PlanInputs) -> str | None:
    """Why the newest version's gitModelVersion should move to the current commit, if so."""
    if not inputs.refresh_metadata or inputs.revision is None:
        return None
    recorded = latest.git
    if (
        recorded is not None
        and recorded.main_branch_commit_sha == inputs.revision.main_branch_commit_sha
    ):
        return None
    if recorded is None:
        return "the newest version has no git metadata; record the commit it matches"
    if recorded.pull_request_commit_sha:
        return "the newest version was made from a pull request that is now merged; record the merge commit"
    if evidence.basis == "content":
        return "the newest version's recorded commit is not in this branch's history; record the commit it matches"
    return None


def _git_change(latest: LiveVersion, inputs: PlanInputs, refresh: bool) -> tuple[FieldChange, ...]:
    if not refresh or inputs.revision is None:
        return ()
    old = latest.git.main_branch_commit_sha if latest.git else None
    return (
        FieldChange(
            "gitModelVersion.mainBranchCommitSha", old, inputs.revision.main_branch_commit_sha
        ),
    )


def _version_reason(
    files: tuple[FileChange, ...],
    settings: tuple[FieldChange, ...],
    runtime: tuple[object, ...],
    evidence: ContentEvidence,
) -> str:
    parts = []
    if files:
        how = "by content" if evidence.basis == "content" else "since the recorded commit"
        if evidence.moved_from is not None:
            how += f" (the source folder was {evidence.moved_from or '.'} then)"
        parts.append(f"{len(files)} file{'s' if len(files) != 1 else ''} changed {how}")
    if settings:
        parts.append("settings changed: " + ", ".join(c.field for c in settings))
    if runtime:
        parts.append(
            f"{len(runtime)} runtime parameter value{'s' if len(runtime) != 1 else ''} changed"
        )
    return "; ".join(parts)


def _fields_reason(changes: tuple[FieldChange, ...]) -> str:
    return "fields differ: " + ", ".join(c.field for c in changes)


# --- sharing -----------------------------------------------------------------------------


def _protected(live: LiveSnapshot) -> tuple[str, ...]:
    return tuple(n for n in (live.controller_user, live.controller_user_id) if n)


def _creator_grants(live: LiveSnapshot) -> tuple[LiveGrant, ...]:
    """What a new object's sharing holds: its creator (the token's user) as OWNER (with its
    ID, so that a declaration of that user by ID is recognised as the controller's)."""
    if not live.controller_user:
        return ()
    return (
        LiveGrant("user", live.controller_user, "OWNER", live.controller_user_id, can_share=True),
    )


def _plan_sharing(
    kind: ActionKind,
    res: DesiredModel | DesiredJob,
    live: LiveModel | LiveJob,
    current: tuple[LiveGrant, ...],
    inputs: PlanInputs,
) -> list[Action]:
    assert res.sharing is not None
    changes = grant_changes(res.sharing, current, protected=_protected(inputs.live))
    if not changes:
        return []
    blocked = _sharing_blocker(changes, current, inputs.live.controller_user)
    if blocked:
        return [Action(ActionKind.BLOCKED, res.key, blocked, live.id, live.name, sharing=changes)]
    reason = "sharing differs from the declared list"
    return [Action(kind, res.key, reason, live.id, live.name, sharing=changes)]


def _sharing_blocker(
    changes: tuple[GrantChange, ...], current: tuple[LiveGrant, ...], controller: str | None
) -> str | None:
    """Why these sharing changes must not be applied, if they must not."""
    after = {(g.recipient_type, g.name.lower()): g.role.upper() for g in current}
    for change in changes:
        key = (change.recipient_type, change.recipient.lower())
        if change.new_role is None:
            after.pop(key, None)
        else:
            after[key] = change.new_role
    if "OWNER" not in [role for (kind, _), role in after.items() if kind == "user"]:
        return (
            "the declared sharing would leave no user with role OWNER, which DataRobot "
            "refuses (a group or an organization is not enough); declare at least one user "
            "with role OWNER"
        )
    if controller and after.get(("user", controller.lower()), "OWNER") != "OWNER":
        return (
            f"the declared sharing would take OWNER away from {controller}, the user dr-gitops "
            "runs as, and it could no longer manage this object; declare it as OWNER, or leave "
            "it out (it is then kept as it is)"
        )
    return None


# --- jobs --------------------------------------------------------------------------------


def _plan_job(job: DesiredJob, matches: Matches[LiveJob], inputs: PlanInputs) -> list[Action]:
    if job.key in matches.conflicts:
        return [Action(ActionKind.BLOCKED, job.key, matches.conflicts[job.key])]
    live = matches.live_for(job.key)
    if live is None:
        return _create_job(job, inputs)
    adopted = job.key in matches.adopted
    changes = field_changes(job.fields, _user_fields(live))
    fixed = [c.field for c in changes if c.field in JOB_CREATE_ONLY]
    if fixed:
        reason = (
            f"{', '.join(fixed)} cannot change on an existing custom job; give the manifest a new "
            "metadata.name to create a new job (and prune the old one), or revert the change"
        )
        return [Action(ActionKind.BLOCKED, job.key, reason, live.id, live.name, fields=changes)]
    evidence = inputs.job_evidence.get(job.key, ContentEvidence())
    files = file_changes(job.source, live.items, evidence) if job.source else ()
    entry = _entry_point_change(job, live)
    runtime = runtime_changes(job.runtime_values, live.runtime_parameters)
    actions: list[Action] = []
    restamp = evidence.basis == "content" and inputs.refresh_metadata
    if changes or files or entry or runtime or adopted or restamp:
        kind = ActionKind.ADOPT_JOB if adopted else ActionKind.UPDATE_JOB
        reason = (
            "adopt a custom job made by hand"
            if adopted
            else _job_reason(changes, files, entry, runtime)
        )
        actions.append(
            Action(
                kind,
                job.key,
                reason,
                live.id,
                live.name,
                fields=changes + entry,
                files=files,
                runtime=runtime,
                params=_job_params(job, runtime),
            )
        )
    if job.sharing is not None:
        current = inputs.live.job_sharing.get(live.id, ())
        actions.extend(_plan_sharing(ActionKind.UPDATE_JOB_SHARING, job, live, current, inputs))
    return actions


def _create_job(job: DesiredJob, inputs: PlanInputs) -> list[Action]:
    files = (
        tuple(
            FileChange(f.path, FileChangeKind.ADD, repo_path=f.repo_path) for f in job.source.files
        )
        if job.source
        else ()
    )
    runtime = runtime_changes(job.runtime_values, ())
    created = [FieldChange(n, None, v) for n, v in sorted(job.fields.items())]
    if job.entry_point:
        created.append(FieldChange("entryPoint", None, job.entry_point))
    actions = [
        Action(
            ActionKind.CREATE_JOB,
            job.key,
            "no custom job in DataRobot for this manifest",
            fields=tuple(created),
            files=files,
            runtime=runtime,
            params=_job_params(job, runtime),
        )
    ]
    if job.sharing is not None:
        creator = _creator_grants(inputs.live)
        sharing = grant_changes(job.sharing, creator, protected=_protected(inputs.live))
        blocked = _sharing_blocker(sharing, creator, inputs.live.controller_user)
        if blocked:  # nothing is made: a job it could not share as declared
            return [Action(ActionKind.BLOCKED, job.key, blocked, sharing=sharing)]
        if sharing:
            actions.append(
                Action(ActionKind.UPDATE_JOB_SHARING, job.key, "share the new job", sharing=sharing)
            )
    return actions


def _entry_point_change(job: DesiredJob, live: LiveJob) -> tuple[FieldChange, ...]:
    live_path = next((i.file_path for i in live.items if i.id == live.entry_point), None)
    if (job.entry_point or None) == live_path:
        return ()
    return (FieldChange("entryPoint", live_path, job.entry_point),)


def _job_params(job: DesiredJob, runtime: tuple[object, ...]) -> Fields:
    return Fields(
        body=job.fields.to_dict(),
        entryPoint=job.entry_point,
        runtimeValues=runtime_body(job.runtime_values, runtime),  # type: ignore[arg-type]
    )


def _job_reason(
    changes: tuple[FieldChange, ...],
    files: tuple[FileChange, ...],
    entry: tuple[FieldChange, ...],
    runtime: tuple[object, ...],
) -> str:
    parts = []
    if changes:
        parts.append(_fields_reason(changes))
    if files:
        parts.append(f"{len(files)} file{'s' if len(files) != 1 else ''} changed")
    if entry:
        parts.append("entry point changed")
    if runtime:
        parts.append(
            f"{len(runtime)} runtime parameter value{'s' if len(runtime) != 1 else ''} changed"
        )
    return "; ".join(parts) or "record the commit the job matches"


# --- deletions ---------------------------------------------------------------------------


def _orphans_warning(
    models: Matches[LiveModel], jobs: Matches[LiveJob], root: str
) -> tuple[str, ...]:
    """Without --prune, owned objects whose manifests are gone are left alone, but said."""
    keys = sorted([*models.orphans, *jobs.orphans])
    if not keys:
        return ()
    shown = ", ".join(str(k) for k in keys[:10]) + (
        f" and {len(keys) - 10} more" if len(keys) > 10 else ""
    )
    objects = "object has" if len(keys) == 1 else "objects have"
    if root:  # --path: they may well be declared elsewhere in the repository
        return (
            f"{len(keys)} owned {objects} no manifest under {root}/ ({shown}); they are left "
            "as they are (expected if they are declared elsewhere in this namespace)",
        )
    return (
        f"{len(keys)} owned {objects} no manifest any more ({shown}); they are left as they "
        "are: apply with --prune to delete them",
    )


def _plan_deletions(
    models: Matches[LiveModel], jobs: Matches[LiveJob], inputs: PlanInputs
) -> list[Action]:
    if inputs.desired.is_empty() and not inputs.allow_empty:
        raise PlanError(
            "refusing to prune: the manifests declare nothing, so every owned object would be deleted. "
            "If that is really what you want, pass --allow-empty"
        )
    actions: list[Action] = [
        Action(
            ActionKind.BLOCKED,
            key,
            f"its manifest is gone, but several objects claim {key.name.split('#')[0]} (this is "
            f"{obj.id}); delete the extra ones by hand, then prune again",
            obj.id,
            obj.name,
        )
        for matches in (models, jobs)
        for key, obj in matches.orphans.items()
        if key in matches.ambiguous
    ]
    for key, model in models.orphans.items():
        if key in models.ambiguous or key in inputs.declared_elsewhere:
            continue
        upid = model.user_provided_id
        foreign = foreign_creator(model, inputs)
        if foreign:
            actions.append(
                Action(
                    ActionKind.BLOCKED,
                    key,
                    f"its manifest is gone, but {foreign}; prune never deletes it: delete "
                    "it by hand if it should go",
                    model.id,
                    model.name,
                )
            )
            continue
        if upid and owned_model_name(inputs.namespace, upid) is None:
            actions.append(
                Action(
                    ActionKind.BLOCKED,
                    key,
                    f"its manifest is gone, but the model was adopted and its userProvidedId "
                    f"{upid!r} is another's (a tool or repository may still manage it); "
                    "prune never deletes it: delete it by hand if it should go",
                    model.id,
                    model.name,
                )
            )
            continue
        if model.deployments_count:
            actions.append(
                Action(
                    ActionKind.BLOCKED,
                    key,
                    f"its manifest is gone but the model is deployed "
                    f"({model.deployments_count} deployments); undeploy it, then prune again",
                    model.id,
                    model.name,
                )
            )
        else:
            actions.append(
                Action(ActionKind.DELETE_MODEL, key, "its manifest is gone", model.id, model.name)
            )
    actions.extend(
        Action(ActionKind.DELETE_JOB, key, "its manifest is gone", job.id, job.name)
        for key, job in jobs.orphans.items()
        if key not in jobs.ambiguous and key not in inputs.declared_elsewhere
    )
    deletions = sum(a.kind.is_deletion for a in actions)
    if deletions > inputs.max_deletions:
        names = ", ".join(str(a.key) for a in actions if a.kind.is_deletion)
        raise PlanError(
            f"refusing to prune: {deletions} objects would be deleted ({names}), more than "
            f"--max-deletions {inputs.max_deletions}. Check that no manifest is missing by mistake; "
            "raise --max-deletions to allow it"
        )
    return actions


# --- basis -------------------------------------------------------------------------------


def plan_basis(
    live: LiveSnapshot, models: Matches[LiveModel], jobs: Matches[LiveJob], *, include_orphans: bool
) -> tuple[BasisEntry, ...]:
    """Digests of every live object the plan read, for the stale-plan check."""
    entries: list[BasisEntry] = []
    model_groups = [models.owned, models.adopted] + ([models.orphans] if include_orphans else [])
    for group in model_groups:
        for key, model in group.items():
            entries.append(
                _entry(
                    key,
                    model.id,
                    _model_facts(model, live),
                    _model_summary(model),
                    _model_parts(model, live),
                )
            )
    job_groups = [jobs.owned, jobs.adopted] + ([jobs.orphans] if include_orphans else [])
    for job_group in job_groups:
        for key, job in job_group.items():
            entries.append(
                _entry(
                    key, job.id, _job_facts(job, live), f"job {job.name!r}", _job_parts(job, live)
                )
            )
    return tuple(sorted(entries, key=lambda e: (e.key, e.object_id)))


def _entry(
    key: ResourceKey, object_id: str, facts: object, summary: str, parts: dict[str, object]
) -> BasisEntry:
    return BasisEntry(
        str(key),
        object_id,
        _digest(facts, 16),
        summary,
        tuple(sorted((name, _digest(value, 8)) for name, value in parts.items())),
    )


def _digest(value: object, size: int) -> str:
    text = json.dumps(value, sort_keys=True, default=_shallow)
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def _model_parts(model: LiveModel, live: LiveSnapshot) -> dict[str, object]:
    """The parts a stale plan names: each API field, the newest version's files, runtime
    parameters and the rest of it, the sharing, and everything else."""
    parts: dict[str, object] = dict(model.fields.items())
    version = model.latest_version
    if version is not None:
        parts["files"] = version.items
        parts["runtimeParameters"] = version.runtime_parameters
        parts["version"] = replace(version, items=(), runtime_parameters=())
    parts["sharing"] = live.model_sharing.get(model.id, ())
    parts["other"] = replace(model, fields=Fields(), latest_version=None)
    return parts


def _job_parts(job: LiveJob, live: LiveSnapshot) -> dict[str, object]:
    parts: dict[str, object] = dict(job.fields.items())
    parts["files"] = job.items
    parts["entryPoint"] = job.entry_point
    parts["runtimeParameters"] = job.runtime_parameters
    parts["sharing"] = live.job_sharing.get(job.id, ())
    parts["other"] = job.created
    return parts


def _model_facts(model: LiveModel, live: LiveSnapshot) -> object:
    return {"model": model, "sharing": live.model_sharing.get(model.id, ())}


def _job_facts(job: LiveJob, live: LiveSnapshot) -> object:
    return {"job": job, "sharing": live.job_sharing.get(job.id, ())}


def _shallow(value: object) -> object:
    """JSON for our values without deep copies: a dataclass's own fields, a Fields' dict."""
    if isinstance(value, Fields):
        return dict(value.items())
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return str(value)


def _model_summary(model: LiveModel) -> str:
    label = model.latest_version.label if model.latest_version else "no version"
    return f"model {model.name!r} at version {label}"
