"""Registered models and deployments → ``spec.registry`` blocks and ``Deployment``
manifests (pure; the reads are :mod:`.exporter`'s).

* A model whose versions are registered (a model package linked to one of its custom model
  versions, ``modelId``) gets ``spec.registry`` with the registered model's name,
  description and ``global``; several registered models: the newest registration's.
* Each deployment serving a version of an exported model gets a ``Deployment`` manifest:
  label, description, the model's ``metadata.name``, ``version`` pinned to the label of
  the version it serves, its prediction environment by ID, importance, the settings that
  differ from a new deployment's (every flag off, no association ID), and its sharing.
  A deployment this namespace made keeps its ``userProvidedId`` name; any other is
  adopted by ``spec.deploymentId`` (DataRobot sets ``userProvidedId`` only at creation).
  A deployment whose ``userProvidedId`` belongs to anyone else is skipped.

Written this way, the plan against the same DataRobot has nothing to do for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from controller.engine.export.drafts import SCHEMA_FILES, Draft, Rendered, add_sharing
from controller.engine.export.naming import NameAllocator, slugify
from controller.engine.export.selection import Selected, Skipped
from controller.model.delivery import (
    KIND_DEPLOYMENT,
    LiveDelivery,
    LiveDeployment,
    LivePackage,
    is_label_pin,
)
from controller.model.identity import owned_model_name
from controller.model.live import LiveGrant, LiveModel
from controller.model.values import Fields

_FLAGS = ("targetDrift", "featureDrift", "predictionsDataCollection", "challengerModels")
# What a new deployment has (emulator/routes/production.py DEFAULT_SETTINGS); only the
# settings that differ are written, and the plan compares only the declared ones.
_DEFAULT_ASSOCIATION: dict[str, Any] = {
    "columnNames": [],
    "requiredInPredictionRequests": False,
    "autoGenerateId": False,
}


def registry_block(model: LiveModel, delivery: LiveDelivery) -> dict[str, Any] | None:
    """``spec.registry`` for a model with registered versions, else ``None``."""
    packages = delivery.packages_of_model(model.id)
    if not packages:
        return None
    by_id = {r.id: r for r in delivery.registered_models}
    newest = max(
        (p for p in packages if p.registered_model_id in by_id),
        key=lambda p: p.registered_version,
        default=None,
    )
    if newest is None:  # registered models archived or not visible
        return None
    registered = by_id[newest.registered_model_id]
    block: dict[str, Any] = {"name": registered.name}
    if registered.description:
        block["description"] = registered.description
    if registered.is_global:
        block["global"] = True
    return block


@dataclass(frozen=True)
class ChosenDeployment:
    """A deployment to export: its ``metadata.name``, the model manifest it serves, the
    label of the version it serves, and whether this namespace made it."""

    live: LiveDeployment
    name: str
    model: str
    version: str
    owned: bool


def choose_deployments(
    deployments: Sequence[LiveDeployment],
    models: Sequence[Selected[LiveModel]],
    packages: Sequence[LivePackage],
    namespace: str | None,
    registered: frozenset[str] | None = None,
) -> tuple[tuple[ChosenDeployment, ...], tuple[Skipped, ...]]:
    """The deployments serving a version of an exported model, named; and those left out.
    ``registered``: the IDs of the models exported with ``spec.registry`` (default: all)."""
    by_model = {s.live.id: s for s in models}
    package_by_id = {p.id: p for p in packages}
    names = NameAllocator()
    chosen: list[ChosenDeployment] = []
    skipped: list[Skipped] = []
    candidates: list[tuple[LiveDeployment, Selected[LiveModel], str, str | None]] = []
    for live in sorted(deployments, key=lambda d: (d.label, d.id)):
        package = package_by_id.get(live.package_id or "")
        model_id = live.custom_model_id or (package.custom_model_id if package else None)
        selected = by_model.get(model_id or "")
        if selected is None:
            continue  # serves no exported model
        label = live.version_label or (package.version_label if package else None)
        reason = _refusal(live, label, namespace)
        if reason is None and registered is not None and selected.live.id not in registered:
            reason = (
                f"its model {selected.name!r} is exported without spec.registry (its registered "
                "model is archived or not visible to this token)"
            )
        if reason:
            skipped.append(Skipped(KIND_DEPLOYMENT, live.label, live.id, reason))
            continue
        assert label is not None
        own = owned_model_name(namespace, live.user_provided_id) if namespace else None
        candidates.append((live, selected, label, own))
    for live, selected, label, own in sorted(candidates, key=lambda c: c[3] is None):
        if own is not None and names.reserve(own):
            chosen.append(ChosenDeployment(live, own, selected.name, label, True))
        else:
            name = names.allocate(slugify(live.label, "deployment"))
            chosen.append(ChosenDeployment(live, name, selected.name, label, False))
    return tuple(sorted(chosen, key=lambda c: c.name)), tuple(skipped)


def _refusal(live: LiveDeployment, label: str | None, namespace: str | None) -> str | None:
    upid = live.user_provided_id
    if upid and (namespace is None or owned_model_name(namespace, upid) is None):
        return (
            f"its userProvidedId {upid!r} says another namespace or tool manages it; export "
            "that namespace's repository instead"
        )
    if label is None or not is_label_pin(label):
        return "the version it serves has no label dr-gitops can pin (MAJOR.MINOR)"
    if live.prediction_environment_id is None:
        return (
            "it runs on a prediction server, not in a prediction environment; dr-gitops "
            "deploys to prediction environments only"
        )
    return None


def deployment_document(
    chosen: ChosenDeployment,
    settings: Fields | None,
    sharing: tuple[LiveGrant, ...] | None,
) -> Rendered:
    """The ``Deployment`` manifest of a live deployment."""
    live = chosen.live
    draft = Draft(
        [
            f"yaml-language-server: $schema=../schemas/{SCHEMA_FILES[KIND_DEPLOYMENT]}",
            "",
            f"Exported by `dr-gitops export` from DataRobot deployment {live.id} "
            f"({live.label!r}, serving version {chosen.version}).",
        ]
    )
    spec: dict[str, Any] = {}
    if not chosen.owned:
        spec["deploymentId"] = live.id
        draft.header.append(
            "Made outside this namespace: spec.deploymentId adopts it (a plan writes nothing "
            "for that); the ID stays its identity."
        )
    spec["label"] = live.label
    if live.description:
        spec["description"] = live.description  # kept whole: validate names one too long
    spec["model"] = chosen.model
    spec["version"] = chosen.version
    draft.note(
        ("spec", "version"),
        "Pinned to the version it serves: promote by moving the pin, or write latest.",
    )
    spec["predictionEnvironmentId"] = live.prediction_environment_id
    if live.importance:
        spec["importance"] = live.importance
    if settings is None:
        draft.note(("spec",), "settings are not managed: they could not be read at export")
        draft.report.append("settings could not be read; left unmanaged")
    else:
        declared = changed_settings(settings)
        if declared:
            spec["settings"] = declared
    add_sharing(spec, sharing, KIND_DEPLOYMENT, draft)
    for entry in spec.get("sharing", ()):
        entry.pop("canShare", None)  # deployment roles have no canShare (API-DELIVERY.md §6)
    document = {
        "apiVersion": "dr-gitops/v1",
        "kind": KIND_DEPLOYMENT,
        "metadata": {"name": chosen.name},
        "spec": spec,
    }
    return draft.done(document)


def changed_settings(live: Fields) -> dict[str, Any]:
    """The managed settings that differ from a new deployment's, in manifest form."""
    out: dict[str, Any] = {}
    association = _mapping(live.get("associationId"))
    kept = {k: association[k] for k in _DEFAULT_ASSOCIATION if k in association}
    if any(kept.get(k, v) != v for k, v in _DEFAULT_ASSOCIATION.items()):
        out["associationId"] = kept
    for flag in _FLAGS:
        if _mapping(live.get(flag)).get("enabled") is True:
            out[flag] = True
    segments = _mapping(live.get("segmentAnalysis"))
    if segments.get("enabled") or segments.get("attributes"):
        block: dict[str, Any] = {"enabled": bool(segments.get("enabled"))}
        if segments.get("attributes"):
            block["attributes"] = list(segments["attributes"])
        out["segmentAnalysis"] = block
    return out


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
