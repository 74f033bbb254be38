"""What each action of a plan says: its headline (``new version from 1.3 (minor)``) and the
detail lines under it (fields, files, runtime values, sharing, training data, a test's
timeout, the replacement validation's failing checks), as plain strings.

Pure functions from an action to words, shared by the text and Markdown forms in
``controller.engine.render``, which escape them for where they are shown. Secret-looking
runtime values are masked here, before any form sees them.
"""

from __future__ import annotations

import json

from controller.model.deliveryparams import DeploymentCreate, ModelReplacement, VersionRegistration
from controller.model.desired import KIND_MODEL
from controller.model.params import (
    Blocked,
    GateStep,
    JobWrite,
    ModelCreate,
    VersionCreate,
    VersionMetadata,
    VersionMethod,
    VersionTest,
)
from controller.model.plans import (
    Action,
    ActionKind,
    FieldChange,
    FileChange,
    GrantChange,
    RuntimeChange,
)
from controller.model.secrets import shown
from controller.model.values import Json


def headline(action: Action) -> str:
    """One line naming what the action does, e.g. ``new version from 1.3 (minor)``."""
    name = f" {action.target_name!r}" if action.target_name else ""
    noun = "model" if action.key.kind == KIND_MODEL else "custom job"
    match action.kind:
        case ActionKind.CREATE_MODEL | ActionKind.CREATE_JOB:
            return f"create {noun} {_created_name(action)!r}"
        case ActionKind.ADOPT_MODEL | ActionKind.ADOPT_JOB:
            return f"adopt {noun}{name} (id {action.target_id})"
        case ActionKind.UPDATE_MODEL | ActionKind.UPDATE_JOB:
            return f"update {noun}{name}"
        case ActionKind.CREATE_VERSION:
            return _version_headline(action)
        case ActionKind.UPDATE_VERSION_METADATA:
            return f"update metadata of version {_metadata_label(action)}"
        case ActionKind.UPDATE_MODEL_SHARING | ActionKind.UPDATE_JOB_SHARING:
            return "update sharing"
        case ActionKind.DELETE_MODEL | ActionKind.DELETE_JOB:
            return f"delete {noun}{name} (id {action.target_id})"
        case ActionKind.BUILD_DEPENDENCIES | ActionKind.TEST_VERSION:
            return _gate_headline(action)
        case _:
            return _delivery_headline(action, name)


def _delivery_headline(action: Action, name: str) -> str:
    params = action.params
    match params:
        case VersionRegistration():
            return (
                f"register version {params.version_label} as "
                f"{params.registered_model_name!r} v{params.registered_version}"
            )
        case DeploymentCreate():
            title = params.body.label
            return f"create deployment {title!r} serving {params.target.version_label}"
        case ModelReplacement():
            old = next((c.old for c in action.fields if c.field == "version"), None)
            checked = f", validation {params.validation.status}" if params.validation else ""
            return (
                f"replace model of{name}: {old} → {params.target.version_label} "
                f"(reason {params.reason}{checked})"
            )
    match action.kind:
        case ActionKind.UPDATE_REGISTERED_MODEL:
            return f"update registered model{name}"
        case ActionKind.UPDATE_DEPLOYMENT:
            return f"update deployment{name}"
        case ActionKind.UPDATE_DEPLOYMENT_SETTINGS:
            return f"update settings of deployment{name}"
        case ActionKind.UPDATE_DEPLOYMENT_SHARING:
            return "update sharing"
        case ActionKind.DELETE_DEPLOYMENT:
            return f"delete deployment{name} (id {action.target_id})"
        case _:
            blocked = action.params
            if isinstance(blocked, Blocked) and blocked.gate:
                label = blocked.version.label if blocked.version else "?"
                return f"failed gate ({blocked.gate}) of version {label}"
            return "blocked"


def _gate_headline(action: Action) -> str:
    """``build dependencies of version 1.3``, ``test the new version with dataset X: ...``."""
    step = action.params
    label = step.version_label if isinstance(step, GateStep) else "?"
    if isinstance(step, VersionTest):
        return f"test {label} with {step.summary}"
    return f"build dependencies of {label}"


def _metadata_label(action: Action) -> str | None:
    params = action.params
    return params.version.label if isinstance(params, VersionMetadata) else None


def _created_name(action: Action) -> Json:
    params = action.params
    return params.body.get("name", "") if isinstance(params, ModelCreate | JobWrite) else ""


def _version_headline(action: Action) -> str:
    params = action.params
    if not isinstance(params, VersionCreate) or params.method is VersionMethod.CREATE:
        return "first version"
    size = "major" if params.major else "minor"
    base = params.base.label if params.base else None
    how = "settings only" if params.method is VersionMethod.SETTINGS_ONLY else "files"
    return f"new {size} version from {base} ({how})"


def detail_lines(action: Action) -> list[str]:
    """The indented lines under an action: fields, files, runtime values, sharing; the
    training data of a new version; a test's timeout and whether it blocks."""
    lines = [_field_line(c) for c in action.fields]
    training = _training_line(action)
    if training:
        lines.append(training)
    test = action.params
    if isinstance(test, VersionTest):
        blocking = "blocking" if test.blocking else "not blocking"
        lines.append(f"! timeout {test.timeout or 0:g}s, {blocking}")
    lines += [_file_line(f) for f in action.files]
    lines += [_runtime_line(r) for r in action.runtime]
    lines += [_grant_line(g) for g in action.sharing]
    lines += _validation_lines(action)
    return lines


def _validation_lines(action: Action) -> list[str]:
    """The replacement validation's checks that are not passing."""
    params = action.params
    if not isinstance(params, ModelReplacement) or params.validation is None:
        return []
    return [
        f"! check {name}: {status}: {message}"
        for name, status, message in sorted(params.validation.checks)
        if status != "passing"
    ]


def _training_line(action: Action) -> str | None:
    """``! training data X, holdout Y`` for a new version with training data."""
    if not isinstance(action.params, VersionCreate):
        return None
    wanted = action.params.settings
    dataset = wanted.get("trainingDatasetId")
    if not dataset:
        return None
    holdout = wanted.get("holdoutDatasetId") or (
        f"partition column {wanted['partitionColumn']}" if wanted.get("partitionColumn") else None
    )
    return f"! training data {dataset}, holdout {holdout or '(none)'}"


def _value(value: Json) -> str:
    if value is None:
        return "(unset)"
    return json.dumps(value, ensure_ascii=False)


def _field_line(change: FieldChange) -> str:
    if change.old is None:
        return f"+ {change.field}: {_value(change.new)}"
    if change.new is None:
        return f"- {change.field}: {_value(change.old)}"
    return f"~ {change.field}: {_value(change.old)} → {_value(change.new)}"


def _file_line(change: FileChange) -> str:
    symbol = {"add": "+", "modify": "~", "delete": "-"}[change.change.value]
    return f"{symbol} file {change.path}"


def _runtime_line(change: RuntimeChange) -> str:
    old = _value(shown(change.field_name, change.type, change.old))
    new = _value(shown(change.field_name, change.type, change.new))
    if change.new is None:
        return f"~ runtime {change.field_name}: {old} → (default)"
    return f"~ runtime {change.field_name}: {old} → {new}"


def _grant_line(change: GrantChange) -> str:
    who = f"{change.recipient_type} {change.recipient}"
    share = " (can share)" if change.new_can_share else ""
    if change.verb == "grant":
        return f"+ {who}: {change.new_role}{share}"
    if change.verb == "revoke":
        return f"- {who}: {change.old_role} (revoke)"
    moved = (
        f"{change.old_role} → {change.new_role}"
        if change.old_role != change.new_role
        else change.new_role
    )
    return f"~ {who}: {moved}{share}"
