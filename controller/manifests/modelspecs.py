"""A schema-valid ``CustomModel`` document → :class:`DesiredModel`, with the cross-field
rules the schema cannot say and the normalisations the planner relies on.

Normalisations: ``targetType`` and ``networkEgressPolicy`` in the API's case; memory in
bytes; ``name`` defaults to ``metadata.name``; ``description`` and ``language`` default to
the empty string (the API always returns strings there); Binary models get
``predictionThreshold`` 0.5 (the API's default) when unset; ``requiredMetadataValues``
sorted by ``fieldName``. Training data and the version's gates are read by
:mod:`.gatespecs`; training data turns on ``isTrainingDataForVersionsPermanentlyEnabled``.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import Any

from controller.manifests.context import (
    BuildContext,
    SchemaVerdict,
    finding_problems,
    stamp_problems,
)
from controller.manifests.deployspecs import build_registry
from controller.manifests.gatespecs import read_gates
from controller.manifests.grants import model_grants
from controller.manifests.problems import FieldPath, Problem
from controller.manifests.quantities import QuantityError, memory_bytes
from controller.manifests.runtimeparams import METADATA_FILES, check_values, read_definitions
from controller.manifests.yamlparser import Document
from controller.model.desired import (
    KIND_MODEL,
    Adoption,
    DesiredModel,
    DesiredVersion,
    ResourceKey,
    SharingGrant,
)
from controller.model.values import Fields, Json, Location

TARGET_TYPES = (
    "Binary",
    "Regression",
    "Multiclass",
    "Anomaly",
    "Transform",
    "TextGeneration",
    "Unstructured",
)
CANONICAL_TARGET = {t.lower(): t for t in TARGET_TYPES}
# Target types that take a targetName.
WITH_TARGET_NAME = frozenset({"Binary", "Regression", "Multiclass", "TextGeneration"})
# Field → the only target types it applies to.
_ONLY_FOR = {
    "positiveClassLabel": ("Binary",),
    "negativeClassLabel": ("Binary",),
    "predictionThreshold": ("Binary",),
    "classLabels": ("Multiclass",),
    "calibratePredictions": ("Anomaly",),
    "targetName": tuple(sorted(WITH_TARGET_NAME)),
}
_REQUIRED_FOR = {
    "Binary": ("targetName", "positiveClassLabel", "negativeClassLabel"),
    "Regression": ("targetName",),
    "Multiclass": ("targetName", "classLabels"),
    "TextGeneration": ("targetName",),
}
_COPIED = ("targetName", "positiveClassLabel", "negativeClassLabel", "classLabels")
_VERSION_COPIED = (
    "baseEnvironmentId",
    "baseEnvironmentVersionId",
    "replicas",
    "requiresHa",
    "resourceBundleId",
    "description",
)


def build_model(
    document: Document, verdict: SchemaVerdict, context: BuildContext
) -> tuple[DesiredModel | None, list[Problem]]:
    """The desired model, or ``None`` with the problems that prevent it."""
    data: dict[str, Any] = document.data
    spec: dict[str, Any] = data["spec"]
    problems: list[Problem] = stamp_problems(document, spec)
    fields: Fields | None = None
    if verdict.clean(("spec",), but=[("spec", "version"), ("spec", "sharing")]):
        fields, found = model_fields(document, data["metadata"]["name"], spec)
        problems += found
    version: DesiredVersion | None = None
    if isinstance(spec.get("version"), dict):
        version, found = build_version(document, spec["version"], context, verdict)
        problems += found
    sharing: tuple[SharingGrant, ...] | None = None
    if "sharing" in spec and verdict.clean(("spec", "sharing")):
        sharing, found = model_grants(document, ("spec", "sharing"), spec["sharing"])
        problems += found
    if fields is not None and version is not None and verdict.clean(("spec", "version")):
        gates, training, found = read_gates(document, spec["version"], str(fields["targetType"]))
        problems += found
        version = replace(version, settings=version.settings.replace(**training), gates=gates)
        if training.get("trainingDatasetId"):
            # Version training data needs the model flag (it cannot be turned off).
            fields = fields.replace(isTrainingDataForVersionsPermanentlyEnabled=True)
    if fields is None or verdict.paths or any(p.is_error for p in problems):
        return None, problems
    if "version" in spec and version is None:
        return None, problems
    adopt = Adoption(str(fields["name"])) if data["metadata"].get("adopt") else None
    model = DesiredModel(
        key=ResourceKey("CustomModel", data["metadata"]["name"]),
        location=Location(document.file, document.index, document.line),
        fields=fields,
        version=version,
        sharing=sharing,
        adopt=adopt,
        registry=build_registry(spec),
    )
    return model, problems


def model_fields(
    document: Document, key: str, spec: dict[str, Any]
) -> tuple[Fields | None, list[Problem]]:
    """The model's API fields, normalised, after the rules that tie fields together."""
    target_type = CANONICAL_TARGET[spec["targetType"].lower()]
    problems: list[Problem] = []
    for name, types in _ONLY_FOR.items():
        if name in spec and target_type not in types:
            problems.append(
                document.problem(
                    ("spec", name),
                    f"{name} does not apply to {target_type} models",
                    f"remove it; it is for {', '.join(types)} models",
                )
            )
    for name in _REQUIRED_FOR.get(target_type, ()):
        if name not in spec:
            problems.append(
                document.problem(
                    ("spec", name), f"{target_type} models need {name}", f"add {name}: ..."
                )
            )
    if target_type == "Binary" and spec.get("positiveClassLabel") == spec.get(
        "negativeClassLabel", object()
    ):
        problems.append(
            document.problem(
                ("spec", "negativeClassLabel"),
                "the negative class label equals the positive one",
                "give the two classes different labels",
            )
        )
    if problems:
        return None, problems
    values: dict[str, Json] = {
        "name": spec.get("name", key),
        "description": spec.get("description", ""),
        "language": spec.get("language", ""),
        "targetType": target_type,
    }
    values |= {name: spec[name] for name in _COPIED if name in spec}
    if target_type == "Binary":
        values["predictionThreshold"] = float(spec.get("predictionThreshold", 0.5))
    if "calibratePredictions" in spec:
        values["calibratePredictions"] = spec["calibratePredictions"]
    return Fields(values), []


_VERSION_FILES = ("source", "exclude", "runtimeParameters")
"""The version's fields checked against its source folder, each when its own schema passed."""


def build_version(
    document: Document, raw: dict[str, Any], context: BuildContext, verdict: SchemaVerdict
) -> tuple[DesiredVersion | None, list[Problem]]:
    """The desired newest version: its files, settings and runtime parameter values.

    Each part is checked when its own fields passed the schema, so that a typo in one
    setting does not hide a bad runtime value (every problem is reported at once)."""
    path: FieldPath = ("spec", "version")
    settings: Fields | None = None
    problems: list[Problem] = []
    if verdict.clean(path, but=[(*path, name) for name in _VERSION_FILES]):
        settings, problems = version_settings(document, raw)
    if "source" not in raw or not all(
        verdict.clean((*path, name)) for name in ("source", "exclude")
    ):
        return None, problems
    base_dir = posixpath.dirname(document.file)
    listing = context.lister.list_source(base_dir, raw["source"], raw.get("exclude", []))
    problems += finding_problems(document, (*path, "source"), listing.findings)
    if listing.source is None:
        return None, problems
    definitions, found = read_definitions(
        context.repo_root,
        listing.source,
        KIND_MODEL,
        context.limits,
        context.parsed,
        context.metadata,
    )
    if found or not verdict.clean((*path, "runtimeParameters")):
        return None, problems + found
    values, found = check_values(
        document,
        (*path, "runtimeParameters"),
        raw.get("runtimeParameters", {}),
        definitions,
        METADATA_FILES[KIND_MODEL],
    )
    problems += found
    if settings is None or any(p.is_error for p in problems):
        return None, problems
    return DesiredVersion(listing.source, settings, values, definitions or ()), problems


def version_settings(
    document: Document, raw: dict[str, Any]
) -> tuple[Fields | None, list[Problem]]:
    path: FieldPath = ("spec", "version")
    problems: list[Problem] = []
    values: dict[str, Json] = {name: raw[name] for name in _VERSION_COPIED if name in raw}
    if "baseEnvironmentId" not in raw and "baseEnvironmentVersionId" not in raw:
        problems.append(
            document.problem(
                path,
                "a version needs baseEnvironmentId (or baseEnvironmentVersionId)",
                "add baseEnvironmentId: <execution environment ID>",
            )
        )
    for name in ("maximumMemory", "desiredMemory"):
        if name in raw:
            try:
                values[name] = memory_bytes(raw[name])
            except QuantityError as exc:
                problems.append(
                    document.problem(
                        (*path, name), str(exc), "use 128Mi to 14Gi, e.g. 512Mi or 2Gi"
                    )
                )
    if "resourceBundleId" in raw and ("maximumMemory" in raw or "desiredMemory" in raw):
        problems.append(
            document.problem(
                (*path, "resourceBundleId"),
                "resourceBundleId cannot be combined with maximumMemory or desiredMemory",
                "keep either the bundle or the memory settings",
            )
        )
    desired, maximum = values.get("desiredMemory"), values.get("maximumMemory")
    if isinstance(desired, int) and isinstance(maximum, int) and desired > maximum:
        problems.append(
            document.problem(
                (*path, "desiredMemory"),
                "desiredMemory is larger than maximumMemory",
                "lower desiredMemory or raise maximumMemory",
            )
        )
    if "networkEgressPolicy" in raw:
        values["networkEgressPolicy"] = raw["networkEgressPolicy"].upper()
    if "requiredMetadataValues" in raw:
        entries, found = _required_metadata(document, raw["requiredMetadataValues"])
        values["requiredMetadataValues"] = entries
        problems += found
    if problems:
        return None, problems
    return Fields(values), []


def _required_metadata(
    document: Document, entries: list[dict[str, str]]
) -> tuple[list[Json], list[Problem]]:
    seen: set[str] = set()
    problems = []
    for index, entry in enumerate(entries):
        if entry["fieldName"] in seen:
            problems.append(
                document.problem(
                    ("spec", "version", "requiredMetadataValues", index, "fieldName"),
                    f"{entry['fieldName']!r} is listed twice",
                    "keep one value per fieldName",
                )
            )
        seen.add(entry["fieldName"])
    ordered: list[Json] = [
        {"fieldName": e["fieldName"], "value": e["value"]}
        for e in sorted(entries, key=lambda e: e["fieldName"])
    ]
    return ordered, problems
