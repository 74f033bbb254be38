"""Delivery in one reconcile: read the registry and deployments (only when the manifests
declare some, or with ``--prune``), add registration and deployment actions
to the plan, and ask DataRobot's replacement validation about each replacement whose
registered version exists already (a read: it changes nothing)."""

from __future__ import annotations

from dataclasses import replace

from controller.engine.ownership import Matches
from controller.engine.plan.deliveries import DeliveryInputs, deployment_upid
from controller.engine.plan.promotions import add_delivery
from controller.manifests import deployment_changes
from controller.model.delivery import LiveDeployment
from controller.model.deliveryparams import ModelReplacement
from controller.model.desired import DesiredState, ResourceKey
from controller.model.live import LiveModel, LiveSnapshot
from controller.model.plans import Plan
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
) -> tuple[Plan, tuple[LiveDeployment, ...] | None]:
    """The plan with registration and deployments, and the deployments it was made
    from (read only when the manifests declare some, or with ``--prune``;
    ``None`` when not read)."""
    pruning = settings.prune  # owned deployments whose manifest is gone are shown
    wanted = desired.deployments or any(m.registry for m in desired.models)
    if not wanted and not pruning:
        return plan, None
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
            changed_in_git=_changed_in_git(source, settings, desired),
        ),
    )
    return _with_validations(client, plan), delivery.deployments


def _changed_in_git(
    source: GitSource, settings: EngineSettings, desired: DesiredState
) -> dict[str, frozenset[str] | None]:
    """Per Deployment with ``heal: false``, the manifest keys git changed since the
    baseline (``EngineSettings.drift_baseline``, else the checkout's first parent; at the
    first commit every manifest is new). One ``git cat-file`` for all of them."""
    unhealed = [d for d in desired.deployments if not d.heal]
    head = source.checkout.sha
    base = settings.drift_baseline
    if base is None and unhealed:
        parents = source.checkout.commit.parents
        base = parents[0] if parents else None
    if not unhealed or base == head:
        return {}
    files = sorted({d.location.file for d in unhealed})
    then = source.files_at([(base, f) for f in files]) if base else {}
    changed: dict[str, frozenset[str] | None] = {}
    for file in files:
        path = source.checkout.root / file
        now = path.read_bytes() if path.is_file() else b""
        changed |= deployment_changes(then.get((base or "", file)), now, file)
    names = {d.key.name for d in unhealed}
    return {name: keys for name, keys in changed.items() if name in names}


def _with_validations(client: DataRobotClient, plan: Plan) -> Plan:
    """Replacements of a deployment by a version registered already carry what the
    replacement validation says now (``params.validation``); a read, no change."""
    actions = []
    for action in plan.actions:
        params = action.params
        if isinstance(params, ModelReplacement) and params.target.package_id and action.target_id:
            check = client.validate_replacement(action.target_id, params.target.package_id)
            action = replace(
                action,
                reason=f"{action.reason}; validation {check.status}",
                params=replace(params, validation=check),
            )
        actions.append(action)
    return plan.with_actions(tuple(actions))
