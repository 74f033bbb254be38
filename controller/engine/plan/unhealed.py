"""``heal: false`` (pure): of a deployment's planned actions, what git asks for is kept and
the drift (changes made outside git) is reported, not put back.

What git asks for is told by the manifest keys that changed in git since the baseline
commit (``DeliveryInputs.changed_in_git``: ``label``, ``description``, ``importance``,
``model``, ``version``, ``settings.<key>``, ``sharing``...; ``None`` when the manifest is
new since then, so all of it comes from git), and by a version this run registers for the
deployment to serve (a source commit is a change in git too).

* a model replacement is kept when the version to serve is new in this run or the
  manifest's ``model`` or ``version`` changed; the settings it puts back afterwards are
  then only those that matched before it, or changed in git (not the drifted ones);
* label, description and importance are kept field by field;
* settings are kept by key (``settings.targetDrift``), and only those keys are sent;
* sharing is kept when the manifest's ``sharing`` changed.
"""

from __future__ import annotations

from dataclasses import replace

from controller.model.delivery import DesiredDeployment, settings_changes
from controller.model.deliveryparams import DeploymentSettings, ModelReplacement
from controller.model.plans import Action, ActionKind, DriftReport, FieldChange, GrantChange
from controller.model.values import Fields


def split_drift(
    deployment: DesiredDeployment,
    actions: list[Action],
    changed: frozenset[str] | None,
    live_settings: Fields | None,
) -> tuple[list[Action], DriftReport | None]:
    """``(actions to apply, the drift left as it is)`` of an existing deployment."""
    if deployment.heal or changed is None or not actions:
        return actions, None
    kept: list[Action] = []
    left: list[FieldChange] = []
    sharing_left: tuple[GrantChange, ...] = ()
    for action in actions:
        match action.kind:
            case ActionKind.REPLACE_DEPLOYMENT_MODEL:
                params = action.params
                assert isinstance(params, ModelReplacement)
                if params.target.pending or changed & {"model", "version"}:
                    settings = _undrifted(params.settings, live_settings, changed)
                    kept.append(replace(action, params=replace(params, settings=settings)))
                else:
                    left += action.fields
            case ActionKind.UPDATE_DEPLOYMENT:
                ours = tuple(c for c in action.fields if c.field in changed)
                left += [c for c in action.fields if c not in ours]
                if ours:
                    reason = "deployment fields changed in git: " + ", ".join(c.field for c in ours)
                    kept.append(replace(action, fields=ours, reason=reason))
            case ActionKind.UPDATE_DEPLOYMENT_SETTINGS:
                ours = tuple(c for c in action.fields if _setting(c.field) in changed)
                left += [c for c in action.fields if c not in ours]
                if ours:
                    keys = {c.field.split(".")[1] for c in ours}
                    wanted = Fields({k: v for k, v in deployment.settings.items() if k in keys})
                    reason = "deployment settings changed in git"
                    kept.append(
                        replace(
                            action, fields=ours, reason=reason, params=DeploymentSettings(wanted)
                        )
                    )
            case ActionKind.UPDATE_DEPLOYMENT_SHARING if "sharing" not in changed:
                sharing_left = action.sharing
            case _:
                kept.append(action)
    if not left and not sharing_left:
        return kept, None
    what = [c.field for c in left] + (["sharing"] if sharing_left else [])
    report = DriftReport(
        deployment.key,
        next((a.target_id for a in actions if a.target_id), None),
        f"changed outside git ({', '.join(what)}); heal: false, so it is reported and left "
        "as it is",
        fields=tuple(left),
        sharing=sharing_left,
    )
    return kept, report


def _setting(field: str) -> str:
    """``settings.targetDrift.enabled`` → ``settings.targetDrift``."""
    return ".".join(field.split(".")[:2])


def _undrifted(declared: Fields, live: Fields | None, changed: frozenset[str]) -> Fields:
    """The declared settings a replacement may put back: those that matched before it (a
    replacement may reset them) or that changed in git; not the ones changed by hand."""
    if live is None:
        return declared
    drifted = {_setting(c.field).split(".")[1] for c in settings_changes(declared, live)}
    return Fields(
        {k: v for k, v in declared.items() if k not in drifted or f"settings.{k}" in changed}
    )
