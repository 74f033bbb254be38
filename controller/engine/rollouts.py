"""Delivery in one reconcile: read the registry and deployments (only when the manifests
declare some, or with ``--prune``), add registration and deployment actions
to the plan, and ask DataRobot's replacement validation about each replacement whose
registered version exists already (a read: it changes nothing)."""

from __future__ import annotations

from dataclasses import replace

from controller.engine.deliveries import DeliveryInputs, deployment_upid
from controller.engine.ownership import Matches
from controller.engine.promotions import add_delivery
from controller.model.desired import DesiredState, ResourceKey
from controller.model.live import LiveModel, LiveSnapshot
from controller.model.params import delivery_params
from controller.model.plans import ActionKind, Plan
from controller.remote import DataRobotClient
from controller.remote.deliveryreads import DeliveryNeeds, read_delivery
from controller.settings import EngineSettings
from controller.sources import GitSource


def with_delivery(
    plan: Plan,
    client: DataRobotClient,
    settings: EngineSettings,
    source: GitSource,
    desired: DesiredState,
    snapshot: LiveSnapshot,
    models: Matches[LiveModel],
    elsewhere: frozenset[ResourceKey],
) -> Plan:
    """The plan with registration and deployments (read only when the manifests declare
    some, or with ``--prune``)."""
    pruning = settings.prune  # owned deployments whose manifest is gone are shown
    wanted = desired.deployments or any(m.registry for m in desired.models)
    if not wanted and not pruning:
        return plan
    namespace = source.namespace()
    commits = set()
    for d in desired.deployments:
        live = models.live_for(ResourceKey("CustomModel", d.model))
        found = source.commit(d.version) if d.pinned_to_commit else None
        if live is not None and found is not None:
            commits.add((d.version, found.sha, live.id))
    needs = DeliveryNeeds(
        settings_of=frozenset(
            d.deployment_id or deployment_upid(namespace, d.key.name)
            for d in desired.deployments
            if d.settings
        ),
        sharing_of=frozenset(
            d.deployment_id or deployment_upid(namespace, d.key.name)
            for d in desired.deployments
            if d.sharing is not None
        ),
        environments=any(d.prediction_environment for d in desired.deployments),
        commits=frozenset(commits),
    )
    delivery = read_delivery(client, needs, concurrency=max(8, 2 * settings.concurrency))
    plan = add_delivery(
        plan,
        DeliveryInputs(
            desired=desired,
            live=snapshot,
            delivery=delivery,
            models=models,
            namespace=namespace,
            commit=source.checkout.sha,
            prune=settings.prune,
            allow_deployment_deletion=settings.allow_deployment_deletion,
            max_deletions=settings.max_deletions,
            declared_elsewhere=elsewhere,
        ),
    )
    return _with_validations(client, plan)


def _with_validations(client: DataRobotClient, plan: Plan) -> Plan:
    """Replacements of a deployment by a version registered already carry what the
    replacement validation says now (``params.validation``); a read, no change."""
    actions = []
    for action in plan.actions:
        target = delivery_params(action.params).get("target")
        package = target.get("packageId") if isinstance(target, dict) else None
        if action.kind is ActionKind.REPLACE_DEPLOYMENT_MODEL and package and action.target_id:
            check = client.validate_replacement(action.target_id, str(package))
            action = replace(
                action,
                reason=f"{action.reason}; validation {check.status}",
                params=delivery_params(action.params).replace(validation=check.to_json()),
            )
        actions.append(action)
    return plan.with_actions(tuple(actions))
