"""A schema-valid ``Deployment`` document → :class:`DesiredDeployment`, and the rules
between a deployment and the model it serves.

Normalisations: ``version`` defaults to ``latest``; ``replacementReason`` to ``OTHER``;
settings in the API's shape (``targetDrift: true`` → ``{"enabled": true}``); ``heal`` to
true. Rules the schema cannot say: give the environment by ID or by name (one of them);
challengers need prediction data collection (the API's rule); the model exists in the
repository and has ``spec.registry`` (checked by :func:`deployment_model_problems` once
every manifest is read).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from controller.manifests.context import SchemaVerdict
from controller.manifests.grants import job_grants
from controller.manifests.problems import Problem
from controller.manifests.schemas import did_you_mean
from controller.manifests.yamlparser import Document
from controller.model.delivery import (
    KIND_DEPLOYMENT,
    LATEST,
    DesiredDeployment,
    DesiredRegistry,
)
from controller.model.desired import DesiredModel, ResourceKey, SharingGrant
from controller.model.values import Fields, Json, Location

_FLAGS = ("targetDrift", "featureDrift", "predictionsDataCollection", "challengerModels")


def build_registry(spec: dict[str, Any]) -> DesiredRegistry | None:
    """``CustomModel.spec.registry`` (schema-valid), the name defaulting to the model's."""
    registry = spec.get("registry")
    if not isinstance(registry, dict):
        return None
    return DesiredRegistry(
        name=str(registry.get("name") or spec.get("name") or ""),
        description=registry.get("description"),
        is_global=registry.get("global"),
    )


def build_deployment(
    document: Document, verdict: SchemaVerdict
) -> tuple[DesiredDeployment | None, list[Problem]]:
    """The desired deployment, or ``None`` with the problems that prevent it."""
    data: dict[str, Any] = document.data
    spec: dict[str, Any] = data["spec"]
    problems: list[Problem] = []
    if "predictionEnvironmentId" in spec and "predictionEnvironment" in spec:
        problems.append(
            document.problem(
                ("spec", "predictionEnvironment"),
                "give the prediction environment by ID or by name, not both",
                "remove predictionEnvironment or predictionEnvironmentId",
            )
        )
    elif "predictionEnvironmentId" not in spec and "predictionEnvironment" not in spec:
        problems.append(
            document.problem(
                ("spec",),
                "the deployment names no prediction environment",
                "add predictionEnvironment: <name> or predictionEnvironmentId: <id>",
            )
        )
    settings = spec.get("settings") or {}
    challengers = isinstance(settings, dict) and settings.get("challengerModels") is True
    if challengers and settings.get("predictionsDataCollection") is not True:
        problems.append(
            document.problem(
                ("spec", "settings", "challengerModels"),
                "challenger models need prediction data collection, which is not declared on",
                "add predictionsDataCollection: true to spec.settings",
            )
        )
    sharing: tuple[SharingGrant, ...] | None = None
    if "sharing" in spec and verdict.clean(("spec", "sharing")):
        sharing, found = job_grants(document, ("spec", "sharing"), spec["sharing"])
        problems += found
    if verdict.paths or any(p.is_error for p in problems):
        return None, problems
    deployment = DesiredDeployment(
        key=ResourceKey(KIND_DEPLOYMENT, data["metadata"]["name"]),
        location=Location(document.file, document.index, document.line),
        label=spec["label"],
        model=spec["model"],
        version=str(spec.get("version", LATEST)),
        description=spec.get("description"),
        prediction_environment_id=spec.get("predictionEnvironmentId"),
        prediction_environment=spec.get("predictionEnvironment"),
        importance=spec.get("importance"),
        replacement_reason=spec.get("replacementReason", "OTHER"),
        settings=api_settings(settings),
        sharing=sharing,
        heal=bool(spec.get("heal", True)),
        deployment_id=spec.get("deploymentId"),
    )
    return deployment, problems


def api_settings(settings: dict[str, Any]) -> Fields:
    """Declared settings in the API's shape; only the declared keys and sub-keys."""
    out: dict[str, Json] = {}
    for key, value in settings.items():
        if key in _FLAGS:
            out[key] = {"enabled": bool(value)}
        elif isinstance(value, dict):
            out[key] = dict(value)
    return Fields(out)


def deployment_id_clashes(
    deployments: Sequence[DesiredDeployment], documents: dict[ResourceKey, Document]
) -> list[Problem]:
    """Two manifests may not adopt the same deployment (``spec.deploymentId``)."""
    first: dict[str, DesiredDeployment] = {}
    problems = []
    for deployment in sorted(deployments, key=lambda d: (d.location.file, d.location.document)):
        if deployment.deployment_id is None:
            continue
        earlier = first.setdefault(deployment.deployment_id, deployment)
        if earlier is not deployment:
            problems.append(
                documents[deployment.key].problem(
                    ("spec", "deploymentId"),
                    f"deployment {deployment.deployment_id} is claimed by {earlier.key} already",
                    "keep one manifest per deployment: remove one of them, or remove "
                    "spec.deploymentId here to create a new deployment",
                )
            )
    return problems


def deployment_model_problems(
    deployments: Sequence[DesiredDeployment],
    models: Iterable[DesiredModel],
    documents: dict[ResourceKey, Document],
    declared: frozenset[str],
) -> list[Problem]:
    """A deployment must name a CustomModel of the repository that has ``spec.registry``.
    ``declared`` holds the names of every CustomModel manifest, valid or not (an invalid
    one has its own problems)."""
    by_name = {m.key.name: m for m in models}
    problems = []
    for deployment in deployments:
        document = documents[deployment.key]
        model = by_name.get(deployment.model)
        if model is None and deployment.model in declared:
            continue
        if model is None:
            problems.append(
                document.problem(
                    ("spec", "model"),
                    f"no CustomModel {deployment.model!r} in this repository",
                    did_you_mean(deployment.model, sorted(declared))
                    if declared
                    else "add the CustomModel manifest, or name one that exists",
                )
            )
        elif model.registry is None:
            problems.append(
                document.problem(
                    ("spec", "model"),
                    f"CustomModel {deployment.model!r} has no spec.registry, so none of its "
                    "versions is registered for a deployment to serve",
                    f"add `registry: {{}}` (or `registry: {{name: ...}}`) to the spec of "
                    f"CustomModel {deployment.model!r}",
                )
            )
    return problems
