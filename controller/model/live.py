"""The live state: what DataRobot holds now, as read by ``controller.remote``.

Fields keep the API's names and raw values; the planner normalises both sides before it
compares. Only what planning needs is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from controller.model.gates import LiveGates
from controller.model.values import Fields, GitModelVersion, Scalar


@dataclass(frozen=True, slots=True)
class LiveItem:
    """A file held by a version or a job: its item ID and path."""

    id: str
    file_path: str
    file_name: str = ""


@dataclass(frozen=True, slots=True)
class LiveRuntimeParameter:
    """A runtime parameter as the API shows it: the definition plus its values."""

    field_name: str
    type: str
    default_value: Scalar = None
    override_value: Scalar = None
    current_value: Scalar = None
    min_value: float | None = None
    max_value: float | None = None
    credential_type: str | None = None
    allow_empty: bool = True


@dataclass(frozen=True, slots=True)
class LiveVersion:
    """A model version. ``settings`` uses the same API names as ``DesiredVersion.settings``."""

    id: str
    model_id: str
    label: str
    major: int
    minor: int
    is_frozen: bool
    items: tuple[LiveItem, ...]
    settings: Fields
    runtime_parameters: tuple[LiveRuntimeParameter, ...] = ()
    git: GitModelVersion | None = None
    description: str | None = None
    created: str = ""

    def item_by_path(self) -> dict[str, LiveItem]:
        return {i.file_path: i for i in self.items}


@dataclass(frozen=True, slots=True)
class LiveModel:
    """A custom model with its newest version embedded (as the list route returns it)."""

    id: str
    user_provided_id: str | None
    fields: Fields
    latest_version: LiveVersion | None
    deployments_count: int = 0
    git: GitModelVersion | None = None
    created_by: str | None = None
    created: str = ""
    updated: str = ""

    @property
    def name(self) -> str:
        return str(self.fields.get("name") or "")


@dataclass(frozen=True, slots=True)
class LiveJob:
    """A custom job. ``entry_point`` is an item ID (or ``None``)."""

    id: str
    fields: Fields
    items: tuple[LiveItem, ...]
    entry_point: str | None = None
    runtime_parameters: tuple[LiveRuntimeParameter, ...] = ()
    created: str = ""
    updated: str = ""

    @property
    def name(self) -> str:
        return str(self.fields.get("name") or "")

    def item_by_path(self) -> dict[str, LiveItem]:
        return {i.file_path: i for i in self.items}


@dataclass(frozen=True, slots=True)
class LiveGrant:
    """One live access entry. For users ``name`` is the username."""

    recipient_type: str
    name: str
    role: str
    id: str | None = None
    can_share: bool | None = None


def _frozen(
    mapping: Mapping[str, tuple[LiveGrant, ...]] | None,
) -> Mapping[str, tuple[LiveGrant, ...]]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """Everything read from DataRobot for one plan.

    ``model_sharing`` and ``job_sharing`` are keyed by object ID and hold entries only for
    objects whose sharing was read (those whose manifests declare sharing).
    ``controller_user`` is the username the API token belongs to, when known.
    ``model_gates`` holds, by model ID, the build and tests of the newest version of the
    models whose manifests configure gates (read apart, like sharing).
    """

    models: tuple[LiveModel, ...] = ()
    jobs: tuple[LiveJob, ...] = ()
    model_sharing: Mapping[str, tuple[LiveGrant, ...]] = field(
        default_factory=lambda: _frozen(None)
    )
    job_sharing: Mapping[str, tuple[LiveGrant, ...]] = field(default_factory=lambda: _frozen(None))
    controller_user: str | None = None
    controller_user_id: str | None = None
    model_gates: Mapping[str, LiveGates] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "model_sharing", _frozen(self.model_sharing))
        object.__setattr__(self, "model_gates", MappingProxyType(dict(self.model_gates)))
        object.__setattr__(self, "job_sharing", _frozen(self.job_sharing))
