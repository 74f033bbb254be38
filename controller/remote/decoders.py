"""API JSON → the frozen live values of ``controller.model.live``.

Field maps keep the API's names and values as returned; the planner normalises. What goes
where:

* a model's ``fields``: the model fields of CustomModelCreate/CustomModelUpdate the answer
  carries (:data:`MODEL_FIELDS`); ``userProvidedId`` and ``gitModelVersion`` have their own
  attributes;
* a version's ``settings``: :data:`VERSION_SETTINGS`, and its training and holdout data
  flattened (``trainingDatasetId``, ``trainingDatasetVersionId``, ``holdoutDatasetId``,
  ``partitionColumn``), as the manifest names them;
* a job's ``fields``: :data:`JOB_FIELDS`.

A payload without an ``id`` raises :class:`MalformedPayloadError`; callers turn it into
:class:`~controller.remote.apierrors.UnexpectedResponseError` naming the route (see
:func:`decoding`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from sys import intern
from typing import Any

from controller.model.live import (
    LiveGrant,
    LiveItem,
    LiveJob,
    LiveModel,
    LiveRuntimeParameter,
    LiveVersion,
)
from controller.model.values import Fields, GitModelVersion, Json, Scalar
from controller.remote.apierrors import UnexpectedResponseError
from controller.remote.payloads import (
    ItemPayload,
    JobPayload,
    ModelAccessPayload,
    ModelPayload,
    RuntimeParameterPayload,
    SharedRolePayload,
    VersionPayload,
)
from controller.remote.routes import API_PREFIX

MODEL_FIELDS = (
    "name",
    "description",
    "customModelType",
    "targetType",
    "targetName",
    "positiveClassLabel",
    "negativeClassLabel",
    "predictionThreshold",
    "classLabels",
    "language",
    "calibratePredictions",
    "maximumMemory",
    "desiredMemory",
    "replicas",
    "requiresHa",
    "networkEgressPolicy",
    "resourceBundleId",
    "playgroundId",
    "isTrainingDataForVersionsPermanentlyEnabled",
)
VERSION_SETTINGS = (
    "baseEnvironmentId",
    "baseEnvironmentVersionId",
    "maximumMemory",
    "desiredMemory",
    "replicas",
    "networkEgressPolicy",
    "requiresHa",
    "resourceBundleId",
    "requiredMetadataValues",
)
# The same, in name order: a Fields is made of them without sorting (see _pick).
_MODEL_NAMES = tuple(sorted(MODEL_FIELDS))
_VERSION_NAMES = tuple(sorted(VERSION_SETTINGS))
JOB_FIELDS = (
    "name",
    "description",
    "jobType",
    "environmentId",
    "environmentVersionId",
    "resources",
)

_JOB_NAMES = tuple(sorted(JOB_FIELDS))


class MalformedPayloadError(ValueError):
    """A payload lacks what every answer of its kind carries."""


@contextmanager
def decoding(method: str, route: str) -> Iterator[None]:
    """Turn :class:`MalformedPayloadError` into an API error naming the route."""
    try:
        yield
    except MalformedPayloadError as exc:
        raise UnexpectedResponseError(
            method=method, route=API_PREFIX + route, detail=str(exc)
        ) from None


def model_from_api(raw: ModelPayload) -> LiveModel:
    """A custom model (with its embedded ``latestVersion``) as a live value."""
    model_id = _id(raw, "custom model")
    latest = raw.get("latestVersion")
    return LiveModel(
        id=model_id,
        user_provided_id=_str_or_none(raw.get("userProvidedId")),
        fields=_pick(raw, _MODEL_NAMES),
        latest_version=version_from_api(latest, model_id) if isinstance(latest, dict) else None,
        deployments_count=int(raw.get("deploymentsCount") or 0),
        git=_git(raw.get("gitModelVersion")),
        created_by=_str_or_none(raw.get("createdBy")),
        created=str(raw.get("created") or ""),
        updated=str(raw.get("updated") or ""),
    )


def version_from_api(raw: VersionPayload, model_id: str | None = None) -> LiveVersion:
    """A custom model version as a live value."""
    major = int(raw.get("versionMajor") or 0)
    minor = int(raw.get("versionMinor") or 0)
    description = raw.get("description")
    return LiveVersion(
        id=_id(raw, "custom model version"),
        model_id=_same(str(raw.get("customModelId") or model_id or ""), model_id),
        label=str(raw.get("label") or f"{major}.{minor}"),
        major=major,
        minor=minor,
        is_frozen=bool(raw.get("isFrozen")),
        items=_items(raw.get("items")),
        settings=_settings(_pick(raw, _VERSION_NAMES), _training(raw)),
        runtime_parameters=_parameters(raw.get("runtimeParameters")),
        git=_git(raw.get("gitModelVersion")),
        description=None if description is None else str(description),
        created=str(raw.get("created") or ""),
    )


def job_from_api(raw: JobPayload) -> LiveJob:
    """A custom job as a live value."""
    return LiveJob(
        id=_id(raw, "custom job"),
        fields=_pick(raw, _JOB_NAMES),
        items=_items(raw.get("items")),
        entry_point=_str_or_none(raw.get("entryPoint")),
        runtime_parameters=_parameters(raw.get("runtimeParameters")),
        created=str(raw.get("created") or ""),
        updated=str(raw.get("updated") or ""),
    )


def item_from_api(raw: ItemPayload) -> LiveItem:
    """A file item of a version or job. Paths and names are interned: 10,000 models hold
    the same few (``custom.py``, ``requirements.txt``) 10,000 times each."""
    name = raw.get("fileName")
    path = intern(str(raw.get("filePath") or name or ""))
    return LiveItem(
        id=_id(raw, "file item"),
        file_path=path,
        file_name=intern(str(name) if name else path.rsplit("/", 1)[-1]),
    )


def runtime_parameter_from_api(raw: RuntimeParameterPayload) -> LiveRuntimeParameter:
    """A runtime parameter: its definition and default, override and current values."""
    name = raw.get("fieldName")
    if not name:
        raise MalformedPayloadError("a runtime parameter without `fieldName`")
    return LiveRuntimeParameter(
        field_name=intern(str(name)),
        type=intern(str(raw.get("type") or "string")),
        default_value=_scalar(raw.get("defaultValue")),
        override_value=_scalar(raw.get("overrideValue")),
        current_value=_scalar(raw.get("currentValue")),
        min_value=_float_or_none(raw.get("minValue")),
        max_value=_float_or_none(raw.get("maxValue")),
        credential_type=_str_or_none(raw.get("credentialType")),
        allow_empty=bool(raw.get("allowEmpty", True)),
    )


def model_grant_from_api(raw: ModelAccessPayload) -> LiveGrant:
    """A model accessControl entry ``{username, userId, role, canShare}`` (always a user)."""
    username = raw.get("username")
    if not username:
        raise MalformedPayloadError("an access control entry without `username`")
    return LiveGrant(
        recipient_type="user",
        name=str(username),
        role=str(raw.get("role") or ""),
        id=_str_or_none(raw.get("userId")),
        can_share=_bool_or_none(raw.get("canShare")),
    )


def job_grant_from_api(raw: SharedRolePayload) -> LiveGrant:
    """A job sharedRoles entry ``{shareRecipientType, name, role, id, canShare}``."""
    if not raw.get("name") and not raw.get("id"):
        raise MalformedPayloadError("a shared role without `name` or `id`")
    return LiveGrant(
        recipient_type=str(raw.get("shareRecipientType") or "user"),
        name=str(raw.get("name") or ""),
        role=str(raw.get("role") or ""),
        id=_str_or_none(raw.get("id")),
        can_share=_bool_or_none(raw.get("canShare")),
    )


def _id(raw: Any, what: str) -> str:
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise MalformedPayloadError(f"a {what} that is not an object")
    value = raw.get("id")
    if not value or not isinstance(value, str):
        raise MalformedPayloadError(f"a {what} without `id`")
    return value


def _training(raw: Any) -> dict[str, Json]:
    """A version's training and holdout data as the flat settings the manifest names."""
    training, holdout = raw.get("trainingData"), raw.get("holdoutData")
    found: dict[str, Json] = {}
    if isinstance(training, dict) and training.get("datasetId"):
        found["trainingDatasetId"] = str(training["datasetId"])
        if training.get("datasetVersionId"):
            found["trainingDatasetVersionId"] = str(training["datasetVersionId"])
    if isinstance(holdout, dict):
        if holdout.get("datasetId"):
            found["holdoutDatasetId"] = str(holdout["datasetId"])
        if holdout.get("partitionColumn"):
            found["partitionColumn"] = str(holdout["partitionColumn"])
    return found


def _settings(picked: Fields, training: dict[str, Json]) -> Fields:
    return Fields({**picked, **training}) if training else picked


def _pick(raw: Any, names: tuple[str, ...]) -> Fields:
    """The fields ``names`` (in name order) that ``raw`` holds. Short texts are interned:
    most models share their target type, language, memory..."""
    picked: dict[str, Json] = {}
    for name in names:
        if name in raw:
            value = raw[name]
            picked[name] = intern(value) if type(value) is str and len(value) <= 64 else value
    return Fields.in_order(picked)


def _items(raw: Any) -> tuple[LiveItem, ...]:
    return tuple([item_from_api(i) for i in raw or ()])


def _parameters(raw: Any) -> tuple[LiveRuntimeParameter, ...]:
    return tuple([runtime_parameter_from_api(p) for p in raw or ()])


def _git(raw: Any) -> GitModelVersion | None:
    if type(raw) is not dict and not isinstance(raw, Mapping):
        return None
    url, sha = raw.get("commitUrl"), raw.get("mainBranchCommitSha")
    pull_request, ref = raw.get("pullRequestCommitSha"), raw.get("refName")
    if (
        (url is None or type(url) is str)
        and (sha is None or type(sha) is str)
        and (pull_request is None or type(pull_request) is str)
        and (ref is None or type(ref) is str)
    ):
        return _shared_git((url, sha, pull_request, ref))
    return GitModelVersion.from_api(raw)


_GIT_NAMES = ("commitUrl", "mainBranchCommitSha", "pullRequestCommitSha", "refName")


@lru_cache(maxsize=256)
def _shared_git(key: tuple[str | None, ...]) -> GitModelVersion | None:
    """One value for the git facts every model and version of a commit records alike (the
    models applied from one commit: thousands of equal values otherwise)."""
    return GitModelVersion.from_api(dict(zip(_GIT_NAMES, key, strict=True)))


def _same(value: str, known: str | None) -> str:
    """``known`` when equal to ``value``: the one string rather than two equal ones."""
    return known if known is not None and known == value else value


def _json(value: Any) -> Json:
    return value  # type: ignore[no-any-return]  # decoded JSON is Json by construction


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True)


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _float_or_none(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MalformedPayloadError(f"{value!r} is not a number") from None


def _bool_or_none(value: Any) -> bool | None:
    return None if value is None else bool(value)
