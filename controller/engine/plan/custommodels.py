"""Custom models: create, adopt or update each declared model, then its version, its
sharing and the version's quality gates (pure, see :mod:`.versiongates`). Deletions are :mod:`controller.engine.plan.deletions`'."""

from __future__ import annotations

from dataclasses import replace

from controller.engine.plan.access import plan_sharing, with_created_sharing
from controller.engine.plan.inputs import (
    PlanInputs,
    commit_change,
    fields_reason,
    foreign_creator,
    user_fields,
)
from controller.engine.plan.modelversions import first_version, plan_version, records_commit_only
from controller.engine.plan.versiongates import gate_actions
from controller.model.desired import DesiredModel
from controller.model.diffs import ContentEvidence, field_changes
from controller.model.identity import model_upid
from controller.model.live import LiveModel
from controller.model.params import ActionParams, ModelAdopt, ModelCreate, VersionMetadata
from controller.model.plans import Action, ActionKind, FieldChange

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


def update_model(
    model: DesiredModel, live: LiveModel, adopted: bool, inputs: PlanInputs
) -> list[Action]:
    """The actions of a model manifest paired with a live model (``adopted``: matched by
    name, to be taken over): the model, its version, its sharing."""
    squatted = None if adopted else foreign_creator(live, inputs)
    if squatted:
        reason = (
            f"{squatted}; dr-gitops writes nothing to it, since another DataRobot user could "
            "make it to receive this repository's source. Have it deleted (by its creator or "
            f"an administrator), or, if that user is trusted, pass --trusted-creator "
            f"{live.created_by}"
        )
        return [Action(ActionKind.BLOCKED, model.key, reason, live.id, live.name)]
    changes = field_changes(model.fields, user_fields(live))
    blocked = _model_blocker(changes, live)
    if blocked:
        return [Action(ActionKind.BLOCKED, model.key, blocked, live.id, live.name, fields=changes)]
    actions: list[Action] = []
    evidence = inputs.model_evidence.get(model.key, ContentEvidence())
    recorded = _model_git_change(live, evidence, inputs)
    if changes or adopted or recorded:
        kind = ActionKind.ADOPT_MODEL if adopted else ActionKind.UPDATE_MODEL
        reason = "adopt a model made by hand" if adopted else fields_reason(changes)
        if not changes and not adopted:
            reason = (
                "the model's recorded commit is not in this branch's history (rewritten); "
                "record the commit it matches"
            )
        params = ModelAdopt(model.fields.get("description")) if adopted else ActionParams()
        fields = changes + recorded
        actions.append(
            Action(kind, model.key, reason, live.id, live.name, fields=fields, params=params)
        )
    if model.version is not None:
        versions = plan_version(model, model.version, live, evidence, inputs)
        if adopted and records_commit_only(versions):
            # Adopting takes the version as it is; recording the commit is part of adopting.
            (record,) = versions
            adopt = actions[0]
            assert isinstance(adopt.params, ModelAdopt)
            assert isinstance(record.params, VersionMetadata)
            actions[0] = replace(adopt, params=replace(adopt.params, version=record.params.version))
            versions = []
        actions.extend(versions)
    if model.sharing is not None:
        current = inputs.live.model_sharing.get(live.id, ())
        actions.extend(plan_sharing(ActionKind.UPDATE_MODEL_SHARING, model, live, current, inputs))
    actions.extend(gate_actions(model, live, _new_version(actions), inputs.live))
    return actions


def _new_version(actions: list[Action]) -> Action | None:
    return next((a for a in actions if a.kind is ActionKind.CREATE_VERSION), None)


def _model_git_change(
    live: LiveModel, evidence: ContentEvidence, inputs: PlanInputs
) -> tuple[FieldChange, ...]:
    """The model's own ``gitModelVersion`` moved to the current commit, when the one it
    records was rewritten away (every model update writes it anyway)."""
    if not evidence.model_commit_gone or not inputs.refresh_metadata:
        return ()
    return commit_change(live.git.main_branch_commit_sha if live.git else None, inputs)


def create_model(model: DesiredModel, inputs: PlanInputs) -> list[Action]:
    """A new model, its first version and its sharing."""
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
            params=ModelCreate(body),
        )
    ]
    if model.version is not None:
        actions.append(first_version(model, model.version, "first version"))
    actions = with_created_sharing(actions, ActionKind.UPDATE_MODEL_SHARING, model, inputs, "model")
    if any(a.kind is ActionKind.BLOCKED for a in actions):
        return actions  # nothing is made, so nothing is built or tested
    return actions + gate_actions(model, None, _new_version(actions), inputs.live)


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
