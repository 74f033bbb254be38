"""Making custom model versions: numbering, environments, settings, files, runtime parameters.

Rules (API-NOTES "Versions"):

* the first version is 1.0; a minor update gives (M, m+1), a major one (M+1, 0); labels
  are ``"M.m"``; the version a new one supersedes becomes ``isFrozen``;
* a minor update on a frozen latest version (a deployed one) is refused with a 422 (so
  clients ask for a major update, as DataRobot's own tools do; unconfirmed);
* the environment: ``baseEnvironmentVersionId`` wins (it must belong to
  ``baseEnvironmentId`` when both are given); ``baseEnvironmentId`` alone means the
  previous version's environment version when it is the same environment, else the
  environment's latest; neither means the previous version's; unknown ids are 422s;
* resource settings and required metadata are inherited from the previous version (the
  first version takes the model's), unless given;
* ``dependencies`` come from ``requirements.txt``; runtime parameter definitions from
  ``model-metadata.yaml``; values merge with the previous version's.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.domain import filesets, runtime_params
from emulator.domain.requirements import InvalidDependencies, parse_requirements
from emulator.errors import ApiError, invalid
from emulator.store import Store
from emulator.training import training_for
from emulator.validation import Reference

SETTINGS = (
    "maximumMemory",
    "desiredMemory",
    "replicas",
    "requiresHa",
    "networkEgressPolicy",
    "resourceBundleId",
    "requiredMetadataValues",
    "requiredMetadata",
)
MODEL_METADATA = "model-metadata.yaml"


def next_number(latest: dict[str, Any] | None, major: bool) -> tuple[int, int]:
    if latest is None:
        return 1, 0
    if major:
        return latest["versionMajor"] + 1, 0
    if latest["isFrozen"]:
        raise invalid(
            {
                "isMajorUpdate": f"version {latest['label']} is frozen (deployed): create a major version"
            },
            "Cannot create a minor version from a frozen version",
        )
    return latest["versionMajor"], latest["versionMinor"] + 1


def resolve_environment(
    store: Store, body: dict[str, Any], latest: dict[str, Any] | None
) -> tuple[str, str]:
    """``(baseEnvironmentId, baseEnvironmentVersionId)`` for a new version."""
    env_id, env_version_id = body.get("baseEnvironmentId"), body.get("baseEnvironmentVersionId")
    if env_version_id:
        env_version = store.environment_versions.get(env_version_id)
        if env_version is None:
            raise invalid(
                {
                    "baseEnvironmentVersionId": f"Execution environment version {env_version_id} not found"
                }
            )
        if env_id and env_version["environmentId"] != env_id:
            raise invalid(
                {"baseEnvironmentVersionId": f"does not belong to execution environment {env_id}"}
            )
        return env_version["environmentId"], env_version_id
    if env_id:
        env = store.environments.get(env_id)
        if env is None:
            raise invalid({"baseEnvironmentId": f"Execution environment {env_id} not found"})
        if latest is not None and latest["baseEnvironmentId"] == env_id:
            return env_id, latest["baseEnvironmentVersionId"]
        return env_id, env["versions"][-1]["id"]
    if latest is not None and latest["baseEnvironmentId"]:
        return latest["baseEnvironmentId"], latest["baseEnvironmentVersionId"]
    raise invalid(
        {
            "baseEnvironmentId": "at least one of baseEnvironmentId and baseEnvironmentVersionId must be provided"
        }
    )


def _first_settings(model: dict[str, Any]) -> dict[str, Any]:
    policy = model.get("networkEgressPolicy")
    return {
        "maximumMemory": model.get("maximumMemory"),
        "desiredMemory": model.get("desiredMemory"),
        "replicas": model.get("replicas"),
        "requiresHa": model.get("requiresHa"),
        "networkEgressPolicy": policy if policy in ("NONE", "PUBLIC") else "NONE",
        "resourceBundleId": model.get("resourceBundleId"),
        "requiredMetadataValues": [],
        "requiredMetadata": {},
    }


def settings_for(
    reference: Reference, model: dict[str, Any], latest: dict[str, Any] | None, body: dict[str, Any]
) -> dict[str, Any]:
    """Resource settings and required metadata: the body's, else inherited."""
    settings = {k: latest[k] for k in SETTINGS} if latest else _first_settings(model)
    for key in SETTINGS[:6]:
        if key in body:
            settings[key] = body[key]
    if settings["networkEgressPolicy"] is None:
        settings["networkEgressPolicy"] = "NONE"
    if "requiredMetadataValues" in body:
        values = _json_field(body, "requiredMetadataValues")
        errors = reference.check_list_of("RequiredMetadataValue", values, "requiredMetadataValues")
        if errors:
            raise invalid(errors)
        settings["requiredMetadataValues"] = values
    if "requiredMetadata" in body:
        metadata = _json_field(body, "requiredMetadata")
        if not isinstance(metadata, dict):
            raise invalid({"requiredMetadata": "must be a JSON-encoded object"})
        settings["requiredMetadata"] = metadata
    return settings


def _json_field(body: dict[str, Any], key: str) -> Any:
    value = body[key]
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise invalid({key: "must be a JSON-encoded string"}) from None


def dependencies_of(store: Store, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    content = filesets.content_of(items, "requirements.txt", store.blobs.__getitem__)
    if content is None:
        return []
    try:
        return parse_requirements(content)
    except InvalidDependencies as exc:
        raise ApiError(
            422,
            "requirements.txt lists dependencies the API cannot install",
            {
                "requirements.txt": "; ".join(
                    f"line {d['lineNumber']}: {d['message']}" for d in exc.lines
                )
            },
            invalidDependencies=exc.lines,
        ) from None


def runtime_for(
    store: Store,
    items: list[dict[str, Any]],
    body: dict[str, Any],
    latest: dict[str, Any] | None,
    metadata_name: str = MODEL_METADATA,
) -> dict[str, Any]:
    """``{"definitions", "overrides"}`` for a new version (or a job) with these items."""
    content = filesets.content_of(items, metadata_name, store.blobs.__getitem__)
    try:
        definitions = runtime_params.definitions_from(metadata_name, content)
        changes = {}
        if body.get("runtimeParameterValues") is not None:
            changes = runtime_params.check_values(
                _json_field(body, "runtimeParameterValues"), definitions
            )
    except runtime_params.InvalidRuntimeParameters as exc:
        raise invalid(exc.errors) from None
    previous = latest["_runtime"]["overrides"] if latest else {}
    return {
        "definitions": definitions,
        "overrides": runtime_params.merge(previous, changes, definitions),
    }


def new_items(
    store: Store, model: dict[str, Any], pairs: list[filesets.Pair]
) -> list[dict[str, Any]]:
    created, _ = store.stamp()
    prefix = f"custom_models/{model['id']}"
    return [
        filesets.make_item(
            store.new_id(), path, store.put_blob(content), created, prefix, model["_workspaceId"]
        )
        for path, content in pairs
    ]


def version_fields(
    store: Store,
    reference: Reference,
    model: dict[str, Any],
    latest: dict[str, Any] | None,
    body: dict[str, Any],
    *,
    number: tuple[int, int],
    environment: tuple[str, str],
    items: list[dict[str, Any]],
    training_seconds: float,
) -> dict[str, Any]:
    """The fields of a new version holding ``items`` (uploaded or pulled from a repository):
    its number and environment, dependencies, settings, runtime values and training data."""
    return {
        "versionMajor": number[0],
        "versionMinor": number[1],
        "baseEnvironmentId": environment[0],
        "baseEnvironmentVersionId": environment[1],
        "items": items,
        "dependencies": dependencies_of(store, items),
        **settings_for(reference, model, latest, body),
        "_runtime": runtime_for(store, items, body, latest),
        **training_for(store, model, latest, body, training_seconds),
    }


def add_version(store: Store, model: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Store a version built from ``fields``; the previous latest becomes frozen."""
    latest = store.versions[model["_versionIds"][-1]] if model["_versionIds"] else None
    created, seq = store.stamp()
    version = {
        "id": store.new_id(),
        "customModelId": model["id"],
        "label": f"{fields['versionMajor']}.{fields['versionMinor']}",
        "description": None,
        "isFrozen": False,
        "created": created,
        "gitModelVersion": None,
        "trainingData": None,
        "holdoutData": None,
        **fields,
        "_seq": seq,
    }
    store.versions[version["id"]] = version
    model["_versionIds"].append(version["id"])
    model["updated"], model["_updatedSeq"] = created, seq
    if latest is not None:
        latest["isFrozen"] = True
        store.changed(latest["id"])
    store.changed(version["id"], f"model-bytes:{model['id']}")
    return version


def copy_versions(store: Store, source: dict[str, Any], target: dict[str, Any]) -> None:
    """Copy every version of ``source`` into ``target`` (new ids; shared items stay shared)."""
    item_ids: dict[str, str] = {}
    for version_id in source["_versionIds"]:
        old = store.versions[version_id]
        items = []
        for item in old["items"]:
            new_id = item_ids.setdefault(item["id"], store.new_id())
            items.append(
                {
                    **item,
                    "id": new_id,
                    "storagePath": f"custom_models/{target['id']}/{new_id}",
                    "workspaceId": target["_workspaceId"],
                }
            )
        fields = {
            k: v
            for k, v in old.items()
            if k not in ("id", "customModelId", "created", "isFrozen", "_seq", "label")
        }
        add_version(store, target, {**json.loads(json.dumps(fields)), "items": items})
