"""Pruning: the deletions of owned objects whose manifests are gone, or, without
``--prune``, a warning naming them (pure). Refusals (``PlanError``) guard against deleting
everything or more than ``--max-deletions``."""

from __future__ import annotations

from controller.engine.ownership import MatchResult
from controller.engine.plan.inputs import PlanInputs, foreign_creator
from controller.errors import PlanError
from controller.model.desired import ResourceKey
from controller.model.identity import owned_model_name
from controller.model.live import LiveModel
from controller.model.plans import Action, ActionKind


def orphans_warning(matched: MatchResult, root: str) -> tuple[str, ...]:
    """Without --prune, owned objects whose manifests are gone are left alone, but said."""
    keys = matched.orphans
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


def plan_deletions(matched: MatchResult, inputs: PlanInputs) -> list[Action]:
    """With --prune: delete each owned object whose manifest is gone, unless that is not
    safe (several objects claim it, another user made it, it was adopted, it is deployed)."""
    if inputs.desired.is_empty() and not inputs.allow_empty:
        raise PlanError(
            "refusing to prune: the manifests declare nothing, so every owned object would be deleted. "
            "If that is really what you want, pass --allow-empty"
        )
    models, jobs = matched.models, matched.jobs
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
        actions.append(_model_deletion(key, model, inputs))
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


def _model_deletion(key: ResourceKey, model: LiveModel, inputs: PlanInputs) -> Action:
    """The deletion of an orphaned model, or why it is not deleted."""
    upid = model.user_provided_id
    foreign = foreign_creator(model, inputs)
    if foreign:
        reason = (
            f"its manifest is gone, but {foreign}; prune never deletes it: delete "
            "it by hand if it should go"
        )
    elif upid and owned_model_name(inputs.namespace, upid) is None:
        reason = (
            f"its manifest is gone, but the model was adopted and its userProvidedId "
            f"{upid!r} is another's (a tool or repository may still manage it); "
            "prune never deletes it: delete it by hand if it should go"
        )
    elif model.deployments_count:
        reason = (
            f"its manifest is gone but the model is deployed "
            f"({model.deployments_count} deployments); undeploy it, then prune again"
        )
    else:
        return Action(ActionKind.DELETE_MODEL, key, "its manifest is gone", model.id, model.name)
    return Action(ActionKind.BLOCKED, key, reason, model.id, model.name)
