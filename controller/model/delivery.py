"""Delivery values: registered models, their versions (model packages) and deployments.

Desired values come from ``CustomModel.spec.registry`` and ``kind: Deployment`` manifests;
live values from the list routes of the registry and of deployments (API-DELIVERY.md §4,
§5). The planner pairs them (see :mod:`controller.engine.plan.promotions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from controller.model.desired import ResourceKey, SharingGrant
from controller.model.live import LiveGrant
from controller.model.plans import FieldChange
from controller.model.values import Fields, Location

KIND_DEPLOYMENT: Final = "Deployment"
LATEST: Final = "latest"
REPLACEMENT_REASONS: Final = (
    "ACCURACY",
    "DATA_DRIFT",
    "ERRORS",
    "SCHEDULED_REFRESH",
    "SCORING_SPEED",
    "DEPRECATION",
    "OTHER",
)
# The deployment settings a manifest may manage (only the declared ones are compared).
MANAGED_SETTINGS: Final = (
    "associationId",
    "targetDrift",
    "featureDrift",
    "predictionsDataCollection",
    "challengerModels",
    "segmentAnalysis",
)


@dataclass(frozen=True)
class DesiredRegistry:
    """``CustomModel.spec.registry``: each new version that passed its gate is registered
    as the next version of the registered model ``name``."""

    name: str
    description: str | None = None
    is_global: bool | None = None


@dataclass(frozen=True)
class DesiredDeployment:
    """A ``kind: Deployment`` manifest.

    ``model`` is the ``metadata.name`` of a CustomModel of the repository (with a registry);
    ``version`` is ``latest``, a version label (``"1.3"``) or a commit SHA. ``settings``
    holds the declared settings in the API's shape (``{"targetDrift": {"enabled": true}}``).
    """

    key: ResourceKey
    location: Location
    label: str
    model: str
    version: str
    description: str | None = None
    prediction_environment_id: str | None = None
    prediction_environment: str | None = None
    importance: str | None = None
    replacement_reason: str = "OTHER"
    settings: Fields = field(default_factory=Fields)
    sharing: tuple[SharingGrant, ...] | None = None
    heal: bool = True
    deployment_id: str | None = None
    """``spec.deploymentId``: an existing deployment adopted by ID (its identity then)."""

    @property
    def pinned_to_commit(self) -> bool:
        return is_commit_pin(self.version)


def is_commit_pin(version: str) -> bool:
    """A pin that names a commit: 7 to 40 hex digits (a label always has a dot)."""
    return 7 <= len(version) <= 40 and all(c in "0123456789abcdef" for c in version)


def is_label_pin(version: str) -> bool:
    """A pin that names a version label: ``MAJOR.MINOR``."""
    major, dot, minor = version.partition(".")
    return bool(dot) and major.isdigit() and minor.isdigit()


@dataclass(frozen=True)
class LivePackage:
    """A registered model version (a model package), linked to the custom model version
    it was made from (``version_id`` is the package's ``modelId``)."""

    id: str
    registered_model_id: str
    registered_version: int
    version_id: str
    custom_model_id: str | None = None
    version_label: str | None = None
    name: str = ""
    build_status: str | None = None


@dataclass(frozen=True)
class LiveRegisteredModel:
    id: str
    name: str
    description: str = ""
    is_global: bool = False
    last_version: int = 0
    archived: bool = False


@dataclass(frozen=True)
class LiveDeployment:
    """A deployment as the list route shows it: what it serves and its own fields."""

    id: str
    user_provided_id: str | None
    label: str
    description: str | None
    importance: str | None
    package_id: str | None
    version_id: str | None
    custom_model_id: str | None = None
    version_label: str | None = None
    prediction_environment_id: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class PredictionEnvironment:
    id: str
    name: str


def _frozen(mapping: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class LiveDelivery:
    """The registry and deployments as read for one plan.

    ``settings`` and ``sharing`` are keyed by deployment ID and hold entries only for the
    deployments whose manifests declare them. ``versions_by_commit`` maps a commit SHA a
    Deployment pins to the custom model version IDs recorded from it, per model ID
    (``{sha: {model_id: (version_id, label)}}``).
    """

    registered_models: tuple[LiveRegisteredModel, ...] = ()
    packages: tuple[LivePackage, ...] = ()
    deployments: tuple[LiveDeployment, ...] = ()
    environments: tuple[PredictionEnvironment, ...] = ()
    settings: Mapping[str, Fields] = field(default_factory=lambda: MappingProxyType({}))
    sharing: Mapping[str, tuple[LiveGrant, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    versions_by_commit: Mapping[str, Mapping[str, tuple[str, str]]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __post_init__(self) -> None:
        for name in ("settings", "sharing", "versions_by_commit"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def package_of_version(self, version_id: str) -> LivePackage | None:
        """The registered version made from this custom model version (the newest if
        several: made by hand)."""
        found = [p for p in self.packages if p.version_id == version_id]
        return max(found, key=lambda p: p.registered_version) if found else None

    def packages_of_model(self, model_id: str) -> tuple[LivePackage, ...]:
        return tuple(p for p in self.packages if p.custom_model_id == model_id)

    def registered_model_named(self, name: str) -> LiveRegisteredModel | None:
        return next((r for r in self.registered_models if r.name == name and not r.archived), None)

    def deployment_with_upid(self, upid: str) -> LiveDeployment | None:
        return next((d for d in self.deployments if d.user_provided_id == upid), None)

    def deployment_with_id(self, deployment_id: str) -> LiveDeployment | None:
        return next((d for d in self.deployments if d.id == deployment_id), None)


def settings_changes(desired: Fields, live: Fields | None) -> tuple[FieldChange, ...]:
    """Declared settings that differ from ``live`` (``None``: a new deployment), one per
    sub-field: ``settings.targetDrift.enabled: false → true``."""
    changes = []
    for key in MANAGED_SETTINGS:
        wanted = desired.get(key)
        if not isinstance(wanted, dict):
            continue
        current = live.get(key) if live is not None else None
        current = current if isinstance(current, dict) else {}
        for sub, value in sorted(wanted.items()):
            old = current.get(sub)
            if live is None or old != value:
                changes.append(FieldChange(f"settings.{key}.{sub}", old, value))
    return tuple(changes)
