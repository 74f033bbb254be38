"""``spec.version``'s quality gates and training data → values, with the rules the schema
cannot say (API-DELIVERY.md §1 and §3):

* holdout data needs training data; ``holdoutDatasetId`` and ``partitionColumn`` exclude
  each other; Unstructured models take a holdout dataset, the others a partition column;
* ``trainingDatasetVersionId`` needs ``trainingDatasetId``;
* ``test.datasetId`` is required for every model that is not Unstructured;
* check parameters are given only for checks that run.
"""

from __future__ import annotations

import re
from typing import Any

from controller.manifests.problems import FieldPath, Problem
from controller.manifests.quantities import QuantityError, memory_bytes
from controller.manifests.yamlparser import Document
from controller.model.gates import (
    BASE_CHECKS,
    DEFAULT_TIMEOUT,
    EXTRA_CHECKS,
    BuildMode,
    TestSpec,
    VersionGates,
)
from controller.model.values import Fields, Json

TRAINING_FIELDS = (
    "trainingDatasetId",
    "trainingDatasetVersionId",
    "holdoutDatasetId",
    "partitionColumn",
)
_DURATION = re.compile(r"^([0-9]+)(s|m|h)$")
_UNIT = {"s": 1, "m": 60, "h": 3600}
_VERSION: FieldPath = ("spec", "version")


def read_gates(
    document: Document, raw: dict[str, Any], target_type: str
) -> tuple[VersionGates | None, dict[str, Json], list[Problem]]:
    """``(gates, training settings, problems)`` of a schema-valid ``spec.version``.

    ``gates`` is ``None`` when the version sets neither ``dependencyBuild`` nor ``test``.
    """
    training, problems = _training(document, raw, target_type)
    test: TestSpec | None = None
    if isinstance(raw.get("test"), dict):
        test, found = _test(document, raw["test"], target_type)
        problems += found
    if "dependencyBuild" not in raw and test is None:
        return None, training, problems
    mode = BuildMode(str(raw.get("dependencyBuild", "auto")).lower())
    return VersionGates(dependency_build=mode, test=test), training, problems


def _training(
    document: Document, raw: dict[str, Any], target_type: str
) -> tuple[dict[str, Json], list[Problem]]:
    values: dict[str, Json] = {name: raw[name] for name in TRAINING_FIELDS if name in raw}
    problems: list[Problem] = []
    has_training = "trainingDatasetId" in raw
    for name in ("trainingDatasetVersionId", "holdoutDatasetId", "partitionColumn"):
        if name in raw and not has_training:
            problems.append(
                document.problem(
                    (*_VERSION, name),
                    f"{name} needs training data",
                    "add trainingDatasetId: <AI Catalog dataset ID>, or remove " + name,
                )
            )
    if "holdoutDatasetId" in raw and "partitionColumn" in raw:
        problems.append(
            document.problem(
                (*_VERSION, "partitionColumn"),
                "holdoutDatasetId and partitionColumn cannot both be set",
                "keep one: a holdout dataset (Unstructured models) or a partition column",
            )
        )
    elif target_type == "Unstructured" and "partitionColumn" in raw:
        problems.append(
            document.problem(
                (*_VERSION, "partitionColumn"),
                "Unstructured models take a holdout dataset, not a partition column",
                "use holdoutDatasetId: <AI Catalog dataset ID> instead",
            )
        )
    elif target_type != "Unstructured" and "holdoutDatasetId" in raw:
        problems.append(
            document.problem(
                (*_VERSION, "holdoutDatasetId"),
                f"{target_type} models take a partition column, not a holdout dataset",
                "use partitionColumn: <column of the training dataset> instead",
            )
        )
    return values, problems


def _test(
    document: Document, raw: dict[str, Any], target_type: str
) -> tuple[TestSpec | None, list[Problem]]:
    path: FieldPath = (*_VERSION, "test")
    problems: list[Problem] = []
    if target_type != "Unstructured" and "datasetId" not in raw:
        problems.append(
            document.problem(
                path,
                f"a test of a {target_type} model needs a dataset (datasetId)",
                "add datasetId: <ID of an AI Catalog dataset snapshot> under test",
            )
        )
    given = {str(k): str(v).lower() for k, v in (raw.get("checks") or {}).items()}
    checks = {**BASE_CHECKS, **dict.fromkeys(EXTRA_CHECKS, "skip"), **given}
    parameters = dict(raw.get("parameters") or {})
    for name in parameters:
        if checks.get(name) == "skip":
            problems.append(
                document.problem(
                    (*path, "parameters", name),
                    f"parameters are given for {name}, which does not run",
                    f"set checks.{name} to fail or warn, or remove its parameters",
                )
            )
    resources: dict[str, Json] = {}
    if "maximumMemory" in raw:
        try:
            resources["maximumMemory"] = memory_bytes(raw["maximumMemory"])
        except QuantityError as exc:
            problems.append(
                document.problem((*path, "maximumMemory"), str(exc), "use 128Mi to 14Gi")
            )
    if "replicas" in raw:
        resources["replicas"] = raw["replicas"]
    if "networkEgressPolicy" in raw:
        resources["networkEgressPolicy"] = str(raw["networkEgressPolicy"]).upper()
    if problems:
        return None, problems
    return (
        TestSpec(
            dataset_id=raw.get("datasetId"),
            dataset_version_id=raw.get("datasetVersionId"),
            checks=Fields(checks),
            parameters=Fields(parameters),
            resources=Fields(resources),
            timeout=_seconds(raw.get("timeout")),
            blocking=bool(raw.get("blocking", True)),
        ),
        [],
    )


def _seconds(value: object) -> float:
    """A schema-valid ``timeout``: an integer of seconds or ``<n>s|m|h``."""
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, int):
        return float(value)
    found = _DURATION.match(str(value))
    return float(int(found.group(1)) * _UNIT[found.group(2)]) if found else DEFAULT_TIMEOUT
