"""Owned deployments whose manifests are gone (pruning, pure), and the basis entries of
the deployments a plan read (for the stale-plan check)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from controller.engine.plan.deliveries import DeliveryInputs
from controller.model.delivery import LiveDeployment
from controller.model.desired import ResourceKey
from controller.model.identity import upid_prefix
from controller.model.plans import Action, ActionKind, BasisEntry


def _orphans(inputs: DeliveryInputs) -> list[tuple[ResourceKey, LiveDeployment]]:
    prefix = upid_prefix(inputs.namespace)
    declared = {d.key.name for d in inputs.desired.deployments}
    # A deployment a manifest names by spec.deploymentId is never pruned (even when that
    # claim is refused: the manifest blocks until someone decides).
    claimed = {d.deployment_id for d in inputs.desired.deployments if d.deployment_id}
    found = []
    for live in inputs.delivery.deployments:
        upid = live.user_provided_id or ""
        if not upid.startswith(prefix) or live.id in claimed:
            continue
        name = upid[len(prefix) :]
        key = ResourceKey("Deployment", name)
        if name not in declared and key not in inputs.declared_elsewhere:
            found.append((key, live))
    return sorted(found, key=lambda pair: pair[0])


def deployment_deletions(inputs: DeliveryInputs) -> list[Action]:
    """Owned deployments whose manifest is gone: deleted with ``--prune
    --allow-deployment-deletion``, blocked with ``--prune`` alone."""
    if not inputs.prune:
        return []
    actions = []
    for key, live in _orphans(inputs):
        if inputs.allow_deployment_deletion:
            actions.append(
                Action(
                    ActionKind.DELETE_DEPLOYMENT,
                    key,
                    "its manifest is gone: the deployment stops serving predictions",
                    live.id,
                    live.label,
                )
            )
        else:
            actions.append(
                Action(
                    ActionKind.BLOCKED,
                    key,
                    "its manifest is gone, but deleting a deployment needs "
                    "--allow-deployment-deletion as well as --prune",
                    live.id,
                    live.label,
                )
            )
    return actions


def orphan_warning(inputs: DeliveryInputs) -> tuple[str, ...]:
    """Without ``--prune``: the owned deployments whose manifest is gone, said."""
    if inputs.prune:
        return ()
    orphans = _orphans(inputs)
    if not orphans:
        return ()
    names = ", ".join(str(k) for k, _ in orphans[:10])
    return (
        f"{len(orphans)} owned deployment(s) have no manifest any more ({names}); they keep "
        "serving: apply with --prune --allow-deployment-deletion to delete them",
    )


def adoption_note(inputs: DeliveryInputs) -> tuple[str, ...]:
    """The deployments managed through ``spec.deploymentId`` (adopted: no write), said."""
    adopted = sorted(inputs.deployments.adopted)
    if not adopted:
        return ()
    names = ", ".join(f"{k} ({inputs.deployments.adopted[k].id})" for k in adopted[:10])
    more = f" and {len(adopted) - 10} more" if len(adopted) > 10 else ""
    return (
        f"{len(adopted)} deployment(s) adopted by spec.deploymentId: {names}{more}. Adopting "
        "writes nothing; the ID in the manifest is their identity (DataRobot sets a "
        "deployment's userProvidedId only when it is created), and --prune never deletes them",
    )


def deployment_basis(inputs: DeliveryInputs) -> tuple[BasisEntry, ...]:
    """Digests of the deployments the plan read (for the stale-plan check)."""
    prefix = upid_prefix(inputs.namespace)
    adopted = {live.id: key.name for key, live in inputs.deployments.adopted.items()}
    entries = []
    for live in inputs.delivery.deployments:
        upid = live.user_provided_id or ""
        if live.id in adopted:
            upid = prefix + adopted[live.id]
        elif not upid.startswith(prefix):
            continue
        settings = inputs.delivery.settings.get(live.id)
        facts = {
            "deployment": asdict(live),
            "settings": settings.to_dict() if settings is not None else None,
            "sharing": [asdict(g) for g in inputs.delivery.sharing.get(live.id, ())],
        }
        entries.append(
            BasisEntry(
                f"Deployment/{upid[len(prefix) :]}",
                live.id,
                hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16],
                f"deployment {live.label!r} serving {live.version_label}",
            )
        )
    return tuple(entries)
