"""Custom jobs: create, adopt or update each declared job (fields, files, entry point,
runtime values in one action), then its sharing (pure)."""

from __future__ import annotations

from controller.engine.plan.access import plan_sharing, with_created_sharing
from controller.engine.plan.inputs import (
    PlanInputs,
    added_files,
    counted,
    fields_reason,
    runtime_values,
    user_fields,
)
from controller.model.desired import DesiredJob
from controller.model.diffs import ContentEvidence, field_changes, file_changes, runtime_changes
from controller.model.live import LiveJob
from controller.model.params import JobWrite
from controller.model.plans import Action, ActionKind, FieldChange, FileChange, RuntimeChange

# Job fields UpdateCustomJob does not accept.
JOB_CREATE_ONLY = frozenset({"jobType"})


def update_job(job: DesiredJob, live: LiveJob, adopted: bool, inputs: PlanInputs) -> list[Action]:
    """The actions of a job manifest paired with a live job (``adopted``: matched by name,
    to be taken over): the job, its sharing."""
    changes = field_changes(job.fields, user_fields(live))
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
        actions.extend(plan_sharing(ActionKind.UPDATE_JOB_SHARING, job, live, current, inputs))
    return actions


def create_job(job: DesiredJob, inputs: PlanInputs) -> list[Action]:
    """A new job (its files, entry point and runtime values) and its sharing."""
    files = added_files(job.source) if job.source else ()
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
    return with_created_sharing(actions, ActionKind.UPDATE_JOB_SHARING, job, inputs, "job")


def _entry_point_change(job: DesiredJob, live: LiveJob) -> tuple[FieldChange, ...]:
    live_path = next((i.file_path for i in live.items if i.id == live.entry_point), None)
    if (job.entry_point or None) == live_path:
        return ()
    return (FieldChange("entryPoint", live_path, job.entry_point),)


def _job_params(job: DesiredJob, runtime: tuple[RuntimeChange, ...]) -> JobWrite:
    return JobWrite(job.fields, job.entry_point, runtime_values(job.runtime_values, runtime))


def _job_reason(
    changes: tuple[FieldChange, ...],
    files: tuple[FileChange, ...],
    entry: tuple[FieldChange, ...],
    runtime: tuple[RuntimeChange, ...],
) -> str:
    parts = []
    if changes:
        parts.append(fields_reason(changes))
    if files:
        parts.append(f"{counted(len(files), 'file')} changed")
    if entry:
        parts.append("entry point changed")
    if runtime:
        parts.append(f"{counted(len(runtime), 'runtime parameter value')} changed")
    return "; ".join(parts) or "record the commit the job matches"
