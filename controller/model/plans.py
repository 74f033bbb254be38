"""Plans: the ordered list of actions that would make DataRobot equal to the manifests.

A plan is data. It is printed for review (text, Markdown, JSON), saved with ``plan --out``
and applied later by ``apply FILE``, which first checks that the live state it was based
on (``Plan.basis``) has not changed. The JSON form, documented by
``schemas/plan.schema.json``, is read and written in :mod:`controller.model.plan_json`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from enum import StrEnum

from controller.model.deliveryparams import (
    DeploymentCreate,
    DeploymentSettings,
    ModelReplacement,
    RegisteredModelUpdate,
    VersionRegistration,
)
from controller.model.desired import ResourceKey
from controller.model.params import (
    ActionParams,
    Blocked,
    DependencyBuild,
    JobWrite,
    ModelAdopt,
    ModelCreate,
    VersionCreate,
    VersionMetadata,
    VersionTest,
)
from controller.model.secrets import shown
from controller.model.values import GitModelVersion, Json

PLAN_FORMAT = 1

# The Markdown form (``plan --output markdown``): parts under GitHub's comment limit, each
# starting with the marker CI scripts find their own comments by, separated by the break.
MARKDOWN_LIMIT = 65_000
MARKDOWN_MARKER = "<!-- dr-gitops-plan -->"
MARKDOWN_PART_BREAK = "<!-- dr-gitops: part break -->"


class ActionKind(StrEnum):
    """What an action does. The order of members is the order of application."""

    CREATE_MODEL = "create-model"
    ADOPT_MODEL = "adopt-model"
    UPDATE_MODEL = "update-model"
    CREATE_VERSION = "create-version"
    UPDATE_VERSION_METADATA = "update-version-metadata"
    UPDATE_MODEL_SHARING = "update-model-sharing"
    BUILD_DEPENDENCIES = "build-dependencies"
    TEST_VERSION = "test-version"
    REGISTER_VERSION = "register-version"
    UPDATE_REGISTERED_MODEL = "update-registered-model"
    CREATE_JOB = "create-job"
    ADOPT_JOB = "adopt-job"
    UPDATE_JOB = "update-job"
    UPDATE_JOB_SHARING = "update-job-sharing"
    CREATE_DEPLOYMENT = "create-deployment"
    REPLACE_DEPLOYMENT_MODEL = "replace-deployment-model"
    UPDATE_DEPLOYMENT = "update-deployment"
    UPDATE_DEPLOYMENT_SETTINGS = "update-deployment-settings"
    UPDATE_DEPLOYMENT_SHARING = "update-deployment-sharing"
    DELETE_MODEL = "delete-model"
    DELETE_JOB = "delete-job"
    DELETE_DEPLOYMENT = "delete-deployment"
    BLOCKED = "blocked"

    @property
    def is_deletion(self) -> bool:
        return self in (
            ActionKind.DELETE_MODEL,
            ActionKind.DELETE_JOB,
            ActionKind.DELETE_DEPLOYMENT,
        )

    @property
    def is_sharing(self) -> bool:
        return self in (
            ActionKind.UPDATE_MODEL_SHARING,
            ActionKind.UPDATE_JOB_SHARING,
            ActionKind.UPDATE_DEPLOYMENT_SHARING,
        )

    @property
    def is_gate(self) -> bool:
        """A quality gate step of a version (its dependency build or its test)."""
        return self in (ActionKind.BUILD_DEPENDENCIES, ActionKind.TEST_VERSION)

    @property
    def is_creation(self) -> bool:
        return self in (
            ActionKind.CREATE_MODEL,
            ActionKind.CREATE_JOB,
            ActionKind.CREATE_DEPLOYMENT,
        )

    @property
    def is_production(self) -> bool:
        """A change of what production serves: a deployment made, its model replaced, or
        a deployment deleted (the Markdown comment shows these first)."""
        return self in (
            ActionKind.CREATE_DEPLOYMENT,
            ActionKind.REPLACE_DEPLOYMENT_MODEL,
            ActionKind.DELETE_DEPLOYMENT,
        )

    @property
    def summary_group(self) -> str:
        """The word the summary line counts this action under."""
        return _SUMMARY_GROUP[self]


PARAMS_BY_KIND: dict[ActionKind, type[ActionParams]] = {
    ActionKind.CREATE_MODEL: ModelCreate,
    ActionKind.ADOPT_MODEL: ModelAdopt,
    ActionKind.UPDATE_MODEL: ActionParams,
    ActionKind.CREATE_VERSION: VersionCreate,
    ActionKind.UPDATE_VERSION_METADATA: VersionMetadata,
    ActionKind.UPDATE_MODEL_SHARING: ActionParams,
    ActionKind.BUILD_DEPENDENCIES: DependencyBuild,
    ActionKind.TEST_VERSION: VersionTest,
    ActionKind.CREATE_JOB: JobWrite,
    ActionKind.ADOPT_JOB: JobWrite,
    ActionKind.UPDATE_JOB: JobWrite,
    ActionKind.UPDATE_JOB_SHARING: ActionParams,
    ActionKind.DELETE_MODEL: ActionParams,
    ActionKind.DELETE_JOB: ActionParams,
    ActionKind.BLOCKED: Blocked,
    ActionKind.REGISTER_VERSION: VersionRegistration,
    ActionKind.UPDATE_REGISTERED_MODEL: RegisteredModelUpdate,
    ActionKind.CREATE_DEPLOYMENT: DeploymentCreate,
    ActionKind.REPLACE_DEPLOYMENT_MODEL: ModelReplacement,
    ActionKind.UPDATE_DEPLOYMENT: ActionParams,
    ActionKind.UPDATE_DEPLOYMENT_SETTINGS: DeploymentSettings,
    ActionKind.UPDATE_DEPLOYMENT_SHARING: ActionParams,
    ActionKind.DELETE_DEPLOYMENT: ActionParams,
}
"""The parameters each action kind carries (see :mod:`controller.model.params`)."""

_SUMMARY_GROUP = {
    ActionKind.CREATE_MODEL: "create",
    ActionKind.CREATE_JOB: "create",
    ActionKind.ADOPT_MODEL: "adopt",
    ActionKind.ADOPT_JOB: "adopt",
    ActionKind.UPDATE_MODEL: "update",
    ActionKind.UPDATE_JOB: "update",
    ActionKind.UPDATE_VERSION_METADATA: "update",
    ActionKind.UPDATE_MODEL_SHARING: "sharing",
    ActionKind.UPDATE_JOB_SHARING: "sharing",
    ActionKind.CREATE_VERSION: "version",
    ActionKind.BUILD_DEPENDENCIES: "build",
    ActionKind.TEST_VERSION: "test",
    ActionKind.DELETE_MODEL: "delete",
    ActionKind.DELETE_JOB: "delete",
    ActionKind.BLOCKED: "blocked",
    ActionKind.REGISTER_VERSION: "register",
    ActionKind.UPDATE_REGISTERED_MODEL: "update",
    ActionKind.CREATE_DEPLOYMENT: "create",
    ActionKind.REPLACE_DEPLOYMENT_MODEL: "replace",
    ActionKind.UPDATE_DEPLOYMENT: "update",
    ActionKind.UPDATE_DEPLOYMENT_SETTINGS: "update",
    ActionKind.UPDATE_DEPLOYMENT_SHARING: "sharing",
    ActionKind.DELETE_DEPLOYMENT: "delete",
}


class FileChangeKind(StrEnum):
    ADD = "add"
    MODIFY = "modify"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field whose live value differs from the desired one (API field name)."""

    field: str
    old: Json
    new: Json


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of a version or job. ``item_id`` is the live item replaced or deleted;
    ``repo_path`` is where the new content is read from (absent for deletions)."""

    path: str
    change: FileChangeKind
    repo_path: str | None = None
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class RuntimeChange:
    """A runtime parameter value: ``new`` of ``None`` resets it to its default."""

    field_name: str
    type: str
    old: Json
    new: Json


@dataclass(frozen=True, slots=True)
class GrantChange:
    """A sharing change: a grant (``old_role`` None), a role change, or a revocation
    (``new_role`` None)."""

    recipient_type: str
    recipient: str
    old_role: str | None
    new_role: str | None
    old_can_share: bool | None = None
    new_can_share: bool | None = None
    recipient_id: str | None = None

    @property
    def verb(self) -> str:
        if self.old_role is None:
            return "grant"
        if self.new_role is None:
            return "revoke"
        return "change"


@dataclass(frozen=True, slots=True)
class Action:
    """One step of a plan.

    ``target_id`` is the live object's ID (``None`` for creations). ``params`` carries what
    applying needs beyond the changes themselves, typed by kind (``PARAMS_BY_KIND``): a
    version creation's method, base version, settings and runtime values; a creation's
    body; a job's entry point; a gate step's version, timeout and test request. Secret-looking
    values are held as they are: ``masked()`` is the form a plan is rendered or saved in.
    """

    kind: ActionKind
    key: ResourceKey
    reason: str
    target_id: str | None = None
    target_name: str | None = None
    fields: tuple[FieldChange, ...] = ()
    files: tuple[FileChange, ...] = ()
    runtime: tuple[RuntimeChange, ...] = ()
    sharing: tuple[GrantChange, ...] = ()
    params: ActionParams = field(default_factory=ActionParams)

    def __post_init__(self) -> None:
        wanted = PARAMS_BY_KIND[self.kind]
        if type(self.params) is ActionParams and wanted is Blocked:
            # A blocked action says nothing more unless it is a failed gate.
            object.__setattr__(self, "params", Blocked())
        if type(self.params) is not wanted:
            raise TypeError(
                f"a {self.kind.value} action takes {wanted.__name__}, not "
                f"{type(self.params).__name__}"
            )

    def masked(self) -> Action:
        """This action as a plan shows and saves it: secret-looking runtime values masked."""
        runtime = tuple(
            replace(
                r,
                old=shown(r.field_name, r.type, r.old),
                new=shown(r.field_name, r.type, r.new),
            )
            for r in self.runtime
        )
        return replace(self, runtime=runtime, params=self.params.masked())


@dataclass(frozen=True, slots=True)
class BasisEntry:
    """What one live object looked like when the plan was made (for stale-plan checks).

    ``digest`` covers the whole object; ``parts`` holds a short digest per part of it (an
    API field such as ``description``, ``files``, ``sharing``...), so that a stale plan can
    say which part changed."""

    key: str
    object_id: str
    digest: str
    summary: str = ""
    parts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DriftReport:
    """An object changed outside git that the plan leaves as it is (a Deployment with
    ``heal: false``): what differs (``fields``, ``sharing``) and why it is not put back."""

    key: ResourceKey
    target_id: str | None
    reason: str
    fields: tuple[FieldChange, ...] = ()
    sharing: tuple[GrantChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """A deterministic, ordered list of actions, with what it was computed from.

    ``drift`` names the objects changed outside git that the plan reports and does not
    put back (they are not actions: a plan with drift only is empty)."""

    namespace: str
    revision: GitModelVersion | None
    actions: tuple[Action, ...]
    basis: tuple[BasisEntry, ...] = ()
    warnings: tuple[str, ...] = ()
    unchanged: int = 0
    format: int = PLAN_FORMAT
    drift: tuple[DriftReport, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.actions

    @property
    def blocked(self) -> tuple[Action, ...]:
        """Actions apply cannot carry out until the manifests or DataRobot change."""
        return tuple(a for a in self.actions if a.kind is ActionKind.BLOCKED)

    def counts(self) -> Counter[str]:
        """Changes counted by summary group (create, adopt, update, version, sharing, build,
        test, delete, blocked). The sharing set on an object this plan creates is part of its creation:
        it is not counted apart."""
        created = {a.key for a in self.actions if a.kind.is_creation}
        return Counter(
            a.kind.summary_group
            for a in self.actions
            if not (a.kind.is_sharing and a.key in created)
        )

    def summary_line(self) -> str:
        if self.is_empty:
            return "No changes. DataRobot matches the manifests."
        c = self.counts()
        parts = [
            f"{c['create']} to create",
            f"{c['update']} to update",
            _counted(c["version"], "new version"),
        ]
        if c["sharing"]:
            parts.append(_counted(c["sharing"], "sharing change"))
        if c["build"]:
            parts.append(_counted(c["build"], "dependency build"))
        if c["test"]:
            parts.append(_counted(c["test"], "test"))
        if c["adopt"]:
            parts.append(f"{c['adopt']} to adopt")
        if c["register"]:
            parts.append(f"{c['register']} to register")
        if c["replace"]:
            parts.append(_counted(c["replace"], "model replacement"))
        parts.append(f"{c['delete']} to delete")
        if c["blocked"]:
            parts.append(f"{c['blocked']} blocked")
        return "Plan: " + ", ".join(parts) + "."

    def with_actions(self, actions: tuple[Action, ...]) -> Plan:
        return replace(self, actions=actions)


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
