"""Plan registration (pure): each new version of a model with ``spec.registry`` becomes the
next version of its registered model, right after the model's own actions."""

from __future__ import annotations

from dataclasses import replace

from controller.engine.plan.deliveries import DeliveryInputs
from controller.model.deliveryparams import RegisteredModelUpdate, VersionRegistration
from controller.model.desired import DesiredModel, ResourceKey
from controller.model.params import VersionCreate, VersionMethod
from controller.model.plans import Action, ActionKind, FieldChange, Plan


def new_version(plan: Plan, key: ResourceKey) -> Action | None:
    """The plan's ``create-version`` action of this model, if any."""
    return next(
        (a for a in plan.actions if a.key == key and a.kind is ActionKind.CREATE_VERSION), None
    )


def next_label(action: Action) -> str:
    """The label DataRobot gives the version a ``create-version`` action makes."""
    params = action.params
    base = params.base.label if isinstance(params, VersionCreate) and params.base else None
    if not isinstance(params, VersionCreate) or params.method is VersionMethod.CREATE or not base:
        return "1.0"
    major, _, minor = base.partition(".")
    if params.major:
        return f"{int(major) + 1}.0"
    return f"{major}.{int(minor or 0) + 1}"


def plan_registration(model: DesiredModel, plan: Plan, inputs: DeliveryInputs) -> list[Action]:
    """``register-version`` for the version this run makes (or a newest version not
    registered yet), and ``update-registered-model`` when description or ``isGlobal``
    differ; blocked when the registered model of that name holds another model's versions."""
    registry = model.registry
    assert registry is not None
    live = inputs.models.live_for(model.key)
    if any(a.key == model.key and a.kind is ActionKind.BLOCKED for a in plan.actions):
        return []
    registered = inputs.delivery.registered_model_named(registry.name)
    if registered is not None:
        held = [p for p in inputs.delivery.packages if p.registered_model_id == registered.id]
        if held and (live is None or all(p.custom_model_id != live.id for p in held)):
            return [
                Action(
                    ActionKind.BLOCKED,
                    model.key,
                    f"the registered model {registry.name!r} (id {registered.id}) holds versions "
                    "of another custom model; dr-gitops registers nothing there. Choose "
                    "another spec.registry.name",
                    registered.id,
                    registered.name,
                )
            ]
    actions: list[Action] = []
    new = new_version(plan, model.key)
    number = (registered.last_version if registered else 0) + 1
    common = VersionRegistration(
        registered_model_name=registry.name,
        registered_model_id=registered.id if registered else None,
        registered_version=number,
        version_label="",
        description=registry.description,
        is_global=registry.is_global,
    )
    if new is not None:
        label = next_label(new)
        actions.append(
            Action(
                ActionKind.REGISTER_VERSION,
                model.key,
                "every new version is registered (spec.registry)",
                live.id if live else None,
                live.name if live else None,
                params=replace(common, version_label=label),
            )
        )
    elif live is not None and live.latest_version is not None:
        latest = live.latest_version
        if (
            inputs.delivery.package_of_version(latest.id) is None
            and latest.id not in inputs.gate_blocked
        ):
            actions.append(
                Action(
                    ActionKind.REGISTER_VERSION,
                    model.key,
                    f"version {latest.label} is not registered yet",
                    live.id,
                    live.name,
                    params=replace(common, version_label=latest.label, version_id=latest.id),
                )
            )
    if registered is not None:
        changes = []
        if registry.description is not None and registry.description != registered.description:
            changes.append(FieldChange("description", registered.description, registry.description))
        if registry.is_global is not None and registry.is_global != registered.is_global:
            changes.append(FieldChange("isGlobal", registered.is_global, registry.is_global))
        if changes:
            actions.append(
                Action(
                    ActionKind.UPDATE_REGISTERED_MODEL,
                    model.key,
                    f"registered model {registered.name!r} differs from spec.registry",
                    registered.id,
                    registered.name,
                    fields=tuple(changes),
                    params=RegisteredModelUpdate(registered.id),
                )
            )
    return actions
