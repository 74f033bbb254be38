"""Plan the path from a version to production: registration and deployments (pure).

:func:`add_delivery` takes the plan of models and jobs and adds, from values only:

* per model with ``spec.registry``: ``register-version`` right after the model's own
  actions (the version this run makes, or a newest version not registered yet), and
  ``update-registered-model`` when the registered model's description or ``isGlobal``
  differ from the manifest;
* per Deployment manifest: create, replace the model, update label/description/importance,
  settings (declared keys only, field by field) and sharing, in that order;
* owned deployments whose manifest is gone: deleted only with ``--prune`` and
  ``--allow-deployment-deletion`` (within ``--max-deletions``), else said.

A version this run creates or registers has no ID yet: the action then carries
``target.pending`` and is resolved when applied (see :mod:`controller.engine.deployer`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from controller.engine.plan.deliveries import DeliveryInputs, deployment_upid
from controller.engine.plan.registrations import new_version, plan_registration
from controller.engine.plan.retirements import (
    adoption_note,
    deployment_basis,
    deployment_deletions,
    orphan_warning,
)
from controller.engine.plan.unhealed import split_drift
from controller.errors import PlanError
from controller.model.delivery import (
    LATEST,
    DesiredDeployment,
    LiveDelivery,
    LiveDeployment,
    LivePackage,
    is_commit_pin,
    settings_changes,
)
from controller.model.deliveryparams import (
    DeploymentBody,
    DeploymentCreate,
    DeploymentSettings,
    DeploymentTarget,
    ModelReplacement,
    VersionRegistration,
)
from controller.model.desired import ResourceKey
from controller.model.diffs import grant_changes
from controller.model.live import LiveGrant, LiveModel, LiveSnapshot
from controller.model.plans import Action, ActionKind, DriftReport, FieldChange, Plan


@dataclass(frozen=True)
class _Target:
    """What a deployment should serve: a registered version (``package``), or one this run
    registers (``pending``: the model's new version, or ``version_id``)."""

    label: str
    package: LivePackage | None = None
    version_id: str | None = None

    def to_params(self, model: str, pin: str) -> DeploymentTarget:
        return DeploymentTarget(
            model=model,
            pin=pin,
            version_label=self.label,
            package_id=self.package.id if self.package else None,
            version_id=self.package.version_id if self.package else self.version_id,
        )


def add_delivery(plan: Plan, inputs: DeliveryInputs) -> Plan:
    """``plan`` with registration and deployment actions added; see the module doc."""
    by_model: dict[ResourceKey, list[Action]] = {}
    for model in inputs.desired.models:
        if model.registry is not None:
            by_model[model.key] = plan_registration(model, plan, inputs)
    registering = {
        key: a
        for key, acts in by_model.items()
        for a in acts
        if a.kind is ActionKind.REGISTER_VERSION
    }
    deployments: list[Action] = []
    # A model the plan left unchanged is changed now if it gets registered.
    touched = {a.key for a in plan.actions}
    unchanged = -sum(1 for key, acts in by_model.items() if acts and key not in touched)
    reported: list[DriftReport] = []
    for deployment in sorted(inputs.desired.deployments, key=lambda d: d.key):
        planned = _plan_deployment(deployment, plan, registering, inputs, reported)
        deployments += planned
        unchanged += not planned
    deletions = deployment_deletions(inputs)
    actions = _placed(plan.actions, by_model, deployments, deletions)
    total = sum(a.kind.is_deletion for a in actions)
    if total > inputs.max_deletions:
        names = ", ".join(str(a.key) for a in actions if a.kind.is_deletion)
        raise PlanError(
            f"refusing to prune: {total} objects would be deleted ({names}), more than "
            f"--max-deletions {inputs.max_deletions}. Check that no manifest is missing by "
            "mistake; raise --max-deletions to allow it"
        )
    drift = tuple(f"{r.key}: {r.reason}" for r in reported)
    warnings = plan.warnings + drift + orphan_warning(inputs) + adoption_note(inputs)
    return replace(
        plan,
        actions=actions,
        warnings=warnings,
        drift=plan.drift + tuple(reported),
        unchanged=plan.unchanged + unchanged,
        basis=tuple(
            sorted(plan.basis + deployment_basis(inputs), key=lambda e: (e.key, e.object_id))
        ),
    )


def _placed(
    actions: Sequence[Action],
    by_model: Mapping[ResourceKey, list[Action]],
    deployments: list[Action],
    deletions: list[Action],
) -> tuple[Action, ...]:
    """Registration after each model's own actions; deployments after models and jobs;
    deletions (the plan's and these) last."""
    out: list[Action] = []
    pending = dict(by_model)
    kept = [a for a in actions if not a.kind.is_deletion]
    for index, action in enumerate(kept):
        out.append(action)
        following = kept[index + 1] if index + 1 < len(kept) else None
        if following is None or following.key != action.key:
            out += pending.pop(action.key, [])
    for key in sorted(pending):  # models with nothing else to do
        out += pending[key]
    out += deployments
    out += [a for a in actions if a.kind.is_deletion]
    return tuple(out + deletions)


# --- deployments -------------------------------------------------------------------------


def _target(
    deployment: DesiredDeployment,
    live: LiveModel | None,
    new: Action | None,
    register: Action | None,
    inputs: DeliveryInputs,
) -> _Target | str:
    """What the deployment should serve, or why that cannot be told."""
    pin = deployment.version
    registration = register.params if register is not None else None
    assert registration is None or isinstance(registration, VersionRegistration)
    pending_label = registration.version_label if registration else None
    pending_id = registration.version_id if registration else None
    pending = _Target(pending_label or "", None, pending_id)
    if pin == LATEST:
        if register is not None:
            return pending
        latest = live.latest_version if live else None
        package = inputs.delivery.package_of_version(latest.id) if latest else None
        if latest is not None and package is not None:
            return _Target(latest.label, package)
        return (
            f"model {deployment.model!r} has no registered version yet"
            if new is None
            else f"the new version of model {deployment.model!r} is not registered"
        )
    if is_commit_pin(pin):
        found = inputs.delivery.versions_by_commit.get(pin, {}).get(live.id if live else "")
        if found is None and new is not None and inputs.commit and inputs.commit.startswith(pin):
            return pending if register else f"version {pin[:12]} is not registered"
        if found is None:
            return (
                f"model {deployment.model!r} has no version recorded from commit {pin[:12]}; "
                "pin a commit a version was made from, a version label, or latest"
            )
        version_id, label = found
        package = inputs.delivery.package_of_version(version_id)
        if package is not None:
            return _Target(label, package)
        if register is not None and pending_id == version_id:
            return pending
        return (
            f"version {label} of model {deployment.model!r} (commit {pin[:12]}) is not registered"
        )
    held = [
        p
        for p in inputs.delivery.packages_of_model(live.id if live else "")
        if p.version_label == pin
    ]
    if held:
        return _Target(pin, max(held, key=lambda p: p.registered_version))
    if register is not None and pending_label == pin:
        return pending
    return (
        f"version {pin} of model {deployment.model!r} is not registered (no registered version "
        "links to a custom model version with that label); pin a registered version or latest"
    )


def _plan_deployment(
    deployment: DesiredDeployment,
    plan: Plan,
    registering: Mapping[ResourceKey, Action],
    inputs: DeliveryInputs,
    reported: list[DriftReport],
) -> list[Action]:
    key = deployment.key
    model_key = ResourceKey("CustomModel", deployment.model)
    live_model = inputs.models.live_for(model_key)
    upid = deployment_upid(inputs.namespace, key.name)
    refused = inputs.deployments.conflicts.get(key)
    if refused is not None:
        return [Action(ActionKind.BLOCKED, key, refused)]
    live = inputs.deployments.live_for(key)
    target = _target(
        deployment, live_model, new_version(plan, model_key), registering.get(model_key), inputs
    )
    target_id, target_name = (live.id, live.label) if live else (None, None)
    if isinstance(target, str):
        return [Action(ActionKind.BLOCKED, key, target, target_id, target_name)]
    environment = _environment(deployment, inputs.delivery)
    if environment is None:
        names = ", ".join(sorted(e.name for e in inputs.delivery.environments)) or "none"
        reason = (
            f"no prediction environment named {deployment.prediction_environment!r} supports "
            f"custom models (there are: {names}); fix spec.predictionEnvironment"
        )
        return [Action(ActionKind.BLOCKED, key, reason, target_id, target_name)]
    serves = target.to_params(deployment.model, deployment.version)
    if live is None:
        return _create(deployment, target, environment, upid, serves, inputs)
    actions: list[Action] = []
    if target.package is None or target.package.id != live.package_id:
        actions.append(
            Action(
                ActionKind.REPLACE_DEPLOYMENT_MODEL,
                key,
                f"it serves {live.version_label or 'another version'}; version: "
                f"{deployment.version} asks for {target.label} (reason "
                f"{deployment.replacement_reason})",
                live.id,
                live.label,
                fields=(FieldChange("version", live.version_label, target.label),),
                params=ModelReplacement(serves, deployment.replacement_reason, deployment.settings),
            )
        )
    changes = _field_changes(deployment, live)
    if changes:
        actions.append(
            Action(
                ActionKind.UPDATE_DEPLOYMENT,
                key,
                "deployment fields differ: " + ", ".join(c.field for c in changes),
                live.id,
                live.label,
                fields=changes,
            )
        )
    settings = settings_changes(deployment.settings, inputs.delivery.settings.get(live.id))
    if settings:
        actions.append(
            Action(
                ActionKind.UPDATE_DEPLOYMENT_SETTINGS,
                key,
                "deployment settings differ",
                live.id,
                live.label,
                fields=settings,
                params=DeploymentSettings(deployment.settings),
            )
        )
    if deployment.sharing is not None:
        current = inputs.delivery.sharing.get(live.id, ())
        sharing = grant_changes(deployment.sharing, current, protected=_protected(inputs.live))
        if sharing:
            actions.append(
                Action(
                    ActionKind.UPDATE_DEPLOYMENT_SHARING,
                    key,
                    "sharing differs from the declared list",
                    live.id,
                    live.label,
                    sharing=sharing,
                )
            )
    changed = inputs.changed_since_baseline(key.name)
    actions, drift = split_drift(
        deployment, actions, changed, inputs.delivery.settings.get(live.id)
    )
    if drift is not None:
        reported.append(drift)
    return actions


def _create(
    deployment: DesiredDeployment,
    target: _Target,
    environment: str,
    upid: str,
    serves: DeploymentTarget,
    inputs: DeliveryInputs,
) -> list[Action]:
    body = DeploymentBody(
        label=deployment.label,
        prediction_environment_id=environment,
        user_provided_id=upid,
        importance=deployment.importance,
        description=deployment.description,
    )
    key = deployment.key
    declared = body.to_json()
    fields = [FieldChange(k, None, v) for k, v in sorted(declared.items()) if k != "userProvidedId"]
    fields.append(FieldChange("version", None, target.label))
    actions = [
        Action(
            ActionKind.CREATE_DEPLOYMENT,
            key,
            f"create deployment {deployment.label!r} serving {target.label}",
            fields=tuple(fields),
            params=DeploymentCreate(
                serves, body, deployment.replacement_reason, deployment.settings
            ),
        )
    ]
    if deployment.settings:
        actions.append(
            Action(
                ActionKind.UPDATE_DEPLOYMENT_SETTINGS,
                key,
                "settings of the new deployment",
                fields=settings_changes(deployment.settings, None),
                params=DeploymentSettings(deployment.settings),
            )
        )
    if deployment.sharing is not None:
        creator: tuple[LiveGrant, ...] = ()
        if inputs.live.controller_user:
            creator = (
                LiveGrant(
                    "user", inputs.live.controller_user, "OWNER", inputs.live.controller_user_id
                ),
            )
        sharing = grant_changes(deployment.sharing, creator, protected=_protected(inputs.live))
        if sharing:
            actions.append(
                Action(
                    ActionKind.UPDATE_DEPLOYMENT_SHARING,
                    key,
                    "share the new deployment",
                    sharing=sharing,
                )
            )
    return actions


def _protected(live: LiveSnapshot) -> tuple[str, ...]:
    return tuple(n for n in (live.controller_user, live.controller_user_id) if n)


def _environment(deployment: DesiredDeployment, delivery: LiveDelivery) -> str | None:
    if deployment.prediction_environment_id:
        return deployment.prediction_environment_id
    wanted = (deployment.prediction_environment or "").casefold()
    return next((e.id for e in delivery.environments if e.name.casefold() == wanted), None)


def _field_changes(deployment: DesiredDeployment, live: LiveDeployment) -> tuple[FieldChange, ...]:
    changes = []
    if deployment.label != live.label:
        changes.append(FieldChange("label", live.label, deployment.label))
    if deployment.description is not None and deployment.description != (live.description or ""):
        changes.append(FieldChange("description", live.description, deployment.description))
    if deployment.importance is not None and deployment.importance != live.importance:
        changes.append(FieldChange("importance", live.importance, deployment.importance))
    return tuple(changes)
