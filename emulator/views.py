"""API views of stored documents: custom models, their versions and file items.

Views are cached per object id in ``store.cache`` and dropped by ``store.changed(id)`` on
every write, so a page of 100 models (each embedding its latest version and items) is 100
cached byte strings joined, not 100 fresh renderings. Keys starting with ``_`` never
leave the store.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.domain import runtime_params
from emulator.store import Store
from emulator.training import settle_model, settle_version


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The document without its internal (``_``) keys."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def item_view(item: dict[str, Any]) -> dict[str, Any]:
    return public(item)


def version_view(store: Store, version: dict[str, Any]) -> dict[str, Any]:
    """A custom model version as ``CustomModelVersionResponse`` (+ ``runtimeParameters``)."""
    settle_version(store, version)
    key = version["id"]
    cached: dict[str, Any] | None = store.cache.get(key)
    if cached is None:
        rt = version["_runtime"]
        cached = {
            **public(version),
            "items": [item_view(i) for i in version["items"]],
            "runtimeParameters": runtime_params.render(rt["definitions"], rt["overrides"]),
        }
        store.cache[key] = cached
    return cached


def latest_version(store: Store, model: dict[str, Any]) -> dict[str, Any] | None:
    ids = model["_versionIds"]
    return store.versions[ids[-1]] if ids else None


def model_view(store: Store, model: dict[str, Any]) -> dict[str, Any]:
    """A custom model as ``CustomModelResponse``, embedding its latest version."""
    latest = latest_version(store, model)
    target = model["targetType"]
    return {
        **public(model),
        "supportsBinaryClassification": target == "Binary",
        "supportsRegression": target == "Regression",
        "supportsAnomalyDetection": target == "Anomaly",
        "latestVersion": version_view(store, latest) if latest else None,
    }


def model_bytes(store: Store, model: dict[str, Any]) -> bytes:
    """:func:`model_view` serialised, from the cache when nothing changed."""
    settle_model(store, model)
    latest = latest_version(store, model)
    if latest is not None:
        settle_version(store, latest)
    key = f"model-bytes:{model['id']}"
    cached: bytes | None = store.cache.get(key)
    if cached is None:
        cached = json.dumps(model_view(store, model), separators=(",", ":")).encode("utf-8")
        store.cache[key] = cached
    return cached


def touch_model(store: Store, model: dict[str, Any], *version_ids: str) -> None:
    """Forget cached views of a model (and the given versions of it) after a write."""
    store.changed(f"model-bytes:{model['id']}", *version_ids)
