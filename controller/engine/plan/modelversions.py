"""Versions: a new version when files, settings or runtime values differ; a metadata
PATCH when only the description or required metadata does; the recorded commit moved
when it is unknown to this branch (pure)."""

from __future__ import annotations

from controller.engine.plan.inputs import (
    PlanInputs,
    added_files,
    commit_change,
    counted,
    runtime_values,
)
from controller.model.desired import DesiredModel, DesiredVersion
from controller.model.diffs import ContentEvidence, field_changes, file_changes, runtime_changes
from controller.model.live import LiveModel, LiveVersion
from controller.model.params import (
    VersionCreate,
    VersionMetadata,
    VersionMethod,
    VersionRef,
)
from controller.model.plans import Action, ActionKind, FieldChange, FileChange, RuntimeChange
from controller.model.values import Json

# Version fields a metadata PATCH can change without a new version.
VERSION_METADATA = frozenset({"description", "requiredMetadataValues"})


def first_version(
    model: DesiredModel, version: DesiredVersion, reason: str, live: LiveModel | None = None
) -> Action:
    """A model's first version: exactly the source's files, every setting and value."""
    files = added_files(version.source)
    runtime = runtime_changes(version.runtime_values, ())
    settings = tuple(FieldChange(n, None, v) for n, v in sorted(version.settings.items()))
    return Action(
        ActionKind.CREATE_VERSION,
        model.key,
        reason,
        live.id if live else None,
        live.name if live else None,
        fields=settings,
        files=files,
        runtime=runtime,
        params=_version_params(version, runtime, VersionMethod.CREATE, major=True, base=None),
    )


def plan_version(
    model: DesiredModel,
    version: DesiredVersion,
    live: LiveModel,
    evidence: ContentEvidence,
    inputs: PlanInputs,
) -> list[Action]:
    """What makes the newest version of an existing model the declared one."""
    latest = live.latest_version
    if latest is None:
        return [first_version(model, version, "the model has no version yet", live)]
    files = file_changes(version.source, latest.items, evidence)
    settings = field_changes(version.settings.without(*VERSION_METADATA), latest.settings)
    runtime = runtime_changes(version.runtime_values, latest.runtime_parameters)
    metadata = _metadata_changes(version, latest)
    if files or settings or runtime:
        major = latest.is_frozen or any(c.field == "baseEnvironmentId" for c in settings)
        method = VersionMethod.FROM_LATEST if files else VersionMethod.SETTINGS_ONLY
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
                params=_version_params(version, runtime, method, major=major, base=latest),
            )
        ]
    refresh = _git_refresh(latest, evidence, inputs)
    if metadata or refresh:
        reason = "version metadata differs" if metadata else refresh
        old = latest.git.main_branch_commit_sha if latest.git else None
        return [
            Action(
                ActionKind.UPDATE_VERSION_METADATA,
                model.key,
                reason or "",
                live.id,
                live.name,
                fields=metadata + (commit_change(old, inputs) if refresh else ()),
                params=VersionMetadata(VersionRef(latest.id, latest.label)),
            )
        ]
    return []


def _metadata_changes(version: DesiredVersion, latest: LiveVersion) -> tuple[FieldChange, ...]:
    """The metadata fields the manifest sets whose live value differs."""
    desired = {k: v for k, v in version.settings.items() if k in VERSION_METADATA}
    if not desired:
        return ()
    live: dict[str, Json] = {"description": latest.description, **latest.settings}
    if not field_changes(desired, live):
        return ()  # the usual answer, without a deep copy of the live settings
    # A change holds a copy of the live value, as it always has.
    return field_changes(desired, {"description": latest.description, **latest.settings.to_dict()})


def records_commit_only(actions: list[Action]) -> bool:
    """True for a lone metadata update whose only change is the recorded commit."""
    return (
        len(actions) == 1
        and actions[0].kind is ActionKind.UPDATE_VERSION_METADATA
        and all(c.field.startswith("gitModelVersion.") for c in actions[0].fields)
    )


def _version_params(
    version: DesiredVersion,
    runtime: tuple[RuntimeChange, ...],
    method: VersionMethod,
    *,
    major: bool,
    base: LiveVersion | None,
) -> VersionCreate:
    return VersionCreate(
        method=method,
        major=major,
        base=VersionRef(base.id, base.label) if base else None,
        settings=version.settings,
        runtime_values=runtime_values(version.runtime_values, runtime),
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


def _version_reason(
    files: tuple[FileChange, ...],
    settings: tuple[FieldChange, ...],
    runtime: tuple[RuntimeChange, ...],
    evidence: ContentEvidence,
) -> str:
    parts = []
    if files:
        how = "by content" if evidence.basis == "content" else "since the recorded commit"
        if evidence.moved_from is not None:
            how += f" (the source folder was {evidence.moved_from or '.'} then)"
        parts.append(f"{counted(len(files), 'file')} changed {how}")
    if settings:
        parts.append("settings changed: " + ", ".join(c.field for c in settings))
    if runtime:
        parts.append(f"{counted(len(runtime), 'runtime parameter value')} changed")
    return "; ".join(parts)
