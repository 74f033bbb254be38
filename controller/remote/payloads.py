"""Raw API payloads as ``TypedDict``s: what the JSON holds, before it becomes a live value.

Only the keys this project reads are listed; servers may send more (and older servers
less, hence ``total=False``). Names are the API's.
"""

from __future__ import annotations

from typing import Any, TypedDict


class GitModelVersionPayload(TypedDict, total=False):
    commitUrl: str | None
    mainBranchCommitSha: str | None
    pullRequestCommitSha: str | None
    refName: str | None


class ItemPayload(TypedDict, total=False):
    id: str
    fileName: str
    filePath: str
    fileSource: str
    created: str
    storagePath: str
    workspaceId: str


class RuntimeParameterPayload(TypedDict, total=False):
    fieldName: str
    type: str
    defaultValue: Any
    overrideValue: Any
    currentValue: Any
    minValue: float | None
    maxValue: float | None
    credentialType: str | None
    allowEmpty: bool
    description: str | None


class VersionPayload(TypedDict, total=False):
    id: str
    customModelId: str
    label: str
    versionMajor: int
    versionMinor: int
    isFrozen: bool
    items: list[ItemPayload]
    created: str
    description: str | None
    baseEnvironmentId: str | None
    baseEnvironmentVersionId: str | None
    maximumMemory: int | None
    desiredMemory: int | None
    replicas: int | None
    networkEgressPolicy: str | None
    requiresHa: bool | None
    resourceBundleId: str | None
    requiredMetadataValues: list[dict[str, Any]]
    runtimeParameters: list[RuntimeParameterPayload]
    gitModelVersion: GitModelVersionPayload | None


class ModelPayload(TypedDict, total=False):
    id: str
    userProvidedId: str | None
    name: str
    description: str
    createdBy: str
    created: str
    updated: str
    deploymentsCount: int
    latestVersion: VersionPayload | None
    gitModelVersion: GitModelVersionPayload | None


class JobResourcesPayload(TypedDict, total=False):
    egressNetworkPolicy: str
    resourceBundleId: str | None


class JobPayload(TypedDict, total=False):
    id: str
    name: str
    description: str
    jobType: str
    environmentId: str | None
    environmentVersionId: str | None
    entryPoint: str | None
    items: list[ItemPayload]
    resources: JobResourcesPayload
    runtimeParameters: list[RuntimeParameterPayload]
    created: str
    updated: str
    lastRun: str | None


class ModelAccessPayload(TypedDict, total=False):
    username: str
    userId: str
    role: str
    canShare: bool


class SharedRolePayload(TypedDict, total=False):
    id: str
    name: str
    role: str
    shareRecipientType: str
    canShare: bool


class JobFilePayload(TypedDict, total=False):
    id: str
    fileName: str
    filePath: str
    content: str


class AccountInfoPayload(TypedDict, total=False):
    uid: str
    username: str
    email: str
    firstName: str
    lastName: str
    orgId: str
