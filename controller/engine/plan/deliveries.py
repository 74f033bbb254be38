"""What delivery planning reads besides the plan of models and jobs, and how a
deployment is named in DataRobot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from controller.engine.ownership import DeploymentMatches, Matches, match_deployments
from controller.model.delivery import LiveDelivery
from controller.model.desired import DesiredState, ResourceKey
from controller.model.identity import model_upid
from controller.model.live import LiveModel, LiveSnapshot


@dataclass(frozen=True)
class DeliveryInputs:
    """What delivery planning reads besides the plan of models and jobs."""

    desired: DesiredState
    live: LiveSnapshot
    delivery: LiveDelivery
    models: Matches[LiveModel]
    namespace: str
    commit: str | None = None
    prune: bool = False
    allow_deployment_deletion: bool = False
    max_deletions: int = 5
    declared_elsewhere: frozenset[ResourceKey] = frozenset()
    gate_blocked: frozenset[str] = field(default_factory=frozenset)
    """Custom model version IDs a blocking gate failed for: never registered."""
    changed_in_git: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    """Per Deployment with ``heal: false`` (by ``metadata.name``), the manifest keys that
    changed in git since the baseline commit (``None``: the manifest is new since then);
    a deployment not named here changed in nothing (see :mod:`.unhealed`)."""

    def changed_since_baseline(self, name: str) -> frozenset[str] | None:
        return self.changed_in_git.get(name, frozenset())

    @cached_property
    def deployments(self) -> DeploymentMatches:
        """Each Deployment manifest's live deployment (``userProvidedId`` or
        ``spec.deploymentId``), once per plan."""
        return match_deployments(
            self.desired.deployments, self.delivery.deployments, self.namespace
        )


def deployment_upid(namespace: str, name: str) -> str:
    """A deployment's ``userProvidedId``: ``<namespace>/<metadata.name>`` (shortened as
    models' are when the namespace is long)."""
    return model_upid(namespace, name)
