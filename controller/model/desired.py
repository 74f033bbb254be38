"""The desired state: what the manifests at one commit ask DataRobot to hold.

Built by ``controller.manifests`` after validation; read by the planner. Values here are
already normalised (memory in bytes, enums in the API's case, defaults filled) so that the
planner compares like with like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final, Literal

from controller.model.gates import VersionGates
from controller.model.values import Fields, Location, Scalar

if TYPE_CHECKING:  # delivery values build on these ones
    from controller.model.delivery import DesiredDeployment, DesiredRegistry

KIND_MODEL: Final = "CustomModel"
KIND_JOB: Final = "CustomJob"
Kind = Literal["CustomModel", "CustomJob", "Deployment"]
RecipientType = Literal["user", "group", "organization"]


@dataclass(frozen=True, order=True, slots=True)
class ResourceKey:
    """A manifest's identity inside a namespace: its kind and ``metadata.name``."""

    kind: Kind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file of a model version or a job.

    ``path`` is where it lives inside the version (the API's ``filePath``); ``repo_path`` is
    the same file relative to the repository root (what git and the engine read).
    """

    path: str
    repo_path: str
    size: int


@dataclass(frozen=True, slots=True)
class Source:
    """A source folder and the files it contributes, sorted by ``path``."""

    dir: str
    files: tuple[SourceFile, ...]

    def paths(self) -> frozenset[str]:
        return frozenset(f.path for f in self.files)

    def without(self, ignored: Callable[[str], bool]) -> Source:
        """This source without the files whose ``repo_path`` is ``ignored``."""
        return replace(self, files=tuple(f for f in self.files if not ignored(f.repo_path)))


@dataclass(frozen=True, slots=True)
class RuntimeParameterDefinition:
    """A runtime parameter definition from ``model-metadata.yaml`` / ``metadata.yaml``."""

    field_name: str
    type: str
    default_value: Scalar = None
    min_value: float | None = None
    max_value: float | None = None
    credential_type: str | None = None
    allow_empty: bool = True
    description: str | None = None


@dataclass(frozen=True, slots=True)
class RuntimeValue:
    """A runtime parameter value the manifest sets. A credential's value is its ID."""

    field_name: str
    type: str
    value: Scalar


@dataclass(frozen=True, slots=True)
class SharingGrant:
    """One declared access grant.

    Users are named by ``username``; groups and organizations by ``name`` or ``id``.
    ``can_share`` of ``None`` means "the API's default".
    """

    recipient_type: RecipientType
    role: str
    name: str | None = None
    id: str | None = None
    can_share: bool | None = None
    location: Location | None = field(default=None, compare=False)

    @property
    def recipient(self) -> str:
        """The name used to match this grant with a live one."""
        return self.name or self.id or ""


@dataclass(frozen=True, slots=True)
class DesiredVersion:
    """The desired content and settings of a model's newest version.

    ``settings`` holds version fields by their API names: ``baseEnvironmentId``,
    ``baseEnvironmentVersionId``, ``maximumMemory`` (bytes), ``replicas``,
    ``networkEgressPolicy``, ``requiresHa``, ``resourceBundleId``, ``desiredMemory``,
    ``requiredMetadataValues`` (a list of ``{fieldName, value}``), ``description``, and the
    training data: ``trainingDatasetId``, ``trainingDatasetVersionId``, ``holdoutDatasetId``,
    ``partitionColumn``. Only fields the manifest sets are present. ``gates``: the
    dependency build and test every new version must pass (``None``: the defaults, a build
    when ``requirements.txt`` is there and no test).
    """

    source: Source
    settings: Fields
    runtime_values: tuple[RuntimeValue, ...] = ()
    runtime_definitions: tuple[RuntimeParameterDefinition, ...] = ()
    gates: VersionGates | None = None

    @property
    def has_requirements(self) -> bool:
        """Whether the version holds a top-level ``requirements.txt`` (its dependencies)."""
        return any(f.path == "requirements.txt" for f in self.source.files)


@dataclass(frozen=True, slots=True)
class Adoption:
    """A manifest's explicit request to take over an object made by hand, found by name."""

    name: str


@dataclass(frozen=True, slots=True)
class DesiredModel:
    """A ``CustomModel`` manifest.

    ``fields`` holds model fields by their API names (those of CustomModelCreate and
    CustomModelUpdate: ``name``, ``description``, ``targetType``, ``targetName``,
    ``positiveClassLabel``, ``negativeClassLabel``, ``predictionThreshold``, ``classLabels``,
    ``language``, ...). Only fields the manifest sets, or whose defaults it implies, are there.
    ``sharing`` is ``None`` when the manifest does not manage sharing.
    """

    key: ResourceKey
    location: Location
    fields: Fields
    version: DesiredVersion | None
    sharing: tuple[SharingGrant, ...] | None = None
    adopt: Adoption | None = None
    registry: DesiredRegistry | None = None


@dataclass(frozen=True, slots=True)
class DesiredJob:
    """A ``CustomJob`` manifest.

    ``fields`` holds job fields by their API names (CreateCustomJob/UpdateCustomJob:
    ``name``, ``description``, ``jobType``, ``environmentId``, ``environmentVersionId``,
    ``resources``). ``entry_point`` is a path inside ``source``, mapped to an item ID when
    applied.
    """

    key: ResourceKey
    location: Location
    fields: Fields
    source: Source | None
    entry_point: str | None
    runtime_values: tuple[RuntimeValue, ...] = ()
    runtime_definitions: tuple[RuntimeParameterDefinition, ...] = ()
    sharing: tuple[SharingGrant, ...] | None = None
    adopt: Adoption | None = None


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Everything the manifests ask for, sorted by key.

    ``root`` is the manifest root relative to the repository root ("" for the top).
    """

    models: tuple[DesiredModel, ...] = ()
    jobs: tuple[DesiredJob, ...] = ()
    root: str = ""
    deployments: tuple[DesiredDeployment, ...] = ()

    def keys(self) -> frozenset[ResourceKey]:
        return frozenset(
            [m.key for m in self.models]
            + [j.key for j in self.jobs]
            + [d.key for d in self.deployments]
        )

    def locations(self) -> dict[ResourceKey, Location]:
        """Where each manifest is, for messages that should send the user to it."""
        found = {m.key: m.location for m in self.models}
        found |= {d.key: d.location for d in self.deployments}
        return found | {j.key: j.location for j in self.jobs}

    def is_empty(self) -> bool:
        return not self.models and not self.jobs and not self.deployments

    def sources(self) -> tuple[Source, ...]:
        versions = [m.version.source for m in self.models if m.version is not None]
        return (*versions, *(j.source for j in self.jobs if j.source is not None))

    def without(self, ignored: Callable[[str], bool]) -> DesiredState:
        """The same state without the source files whose ``repo_path`` is ``ignored``."""
        models = tuple(
            replace(m, version=replace(m.version, source=m.version.source.without(ignored)))
            if m.version is not None
            else m
            for m in self.models
        )
        jobs = tuple(
            replace(j, source=j.source.without(ignored)) if j.source is not None else j
            for j in self.jobs
        )
        return replace(self, models=models, jobs=jobs)
