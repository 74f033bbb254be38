"""A workspace with a model that has a registry and deployments of it."""

from __future__ import annotations

from typing import Any

import yaml

from tests.fixtures.workspace import Workspace

STAGING_ENV = "6600000000000000000000c1"


def add_deployment(ws: Workspace, name: str, **spec: Any) -> None:
    """Write ``deployments/<name>.yaml`` (model ``fraud``, the staging environment unless
    ``spec`` names one)."""
    body: dict[str, Any] = {"label": name.title(), "model": "fraud"}
    if "predictionEnvironment" not in spec:
        body["predictionEnvironmentId"] = STAGING_ENV
    body.update(spec)
    doc = {"apiVersion": "dr-gitops/v1", "kind": "Deployment", "metadata": {"name": name}}
    ws.repo.write({f"deployments/{name}.yaml": yaml.safe_dump({**doc, "spec": body})})


def edit_deployment(ws: Workspace, name: str, **spec: Any) -> None:
    path = ws.repo.path / f"deployments/{name}.yaml"
    doc = yaml.safe_load(path.read_text())
    for key, value in spec.items():
        if value is None:
            doc["spec"].pop(key, None)
        else:
            doc["spec"][key] = value
    path.write_text(yaml.safe_dump(doc))


def served(ws: Workspace) -> dict[str, str | None]:
    """``{metadata.name: the version label it serves}`` of every deployment."""
    return {
        str(d.user_provided_id).rsplit("/", 1)[-1]: d.version_label
        for d in ws.client.list_deployments()
    }


def start(ws: Workspace) -> None:
    """The issue's scenario: one model with a registry, staging on latest, production
    pinned to "1.0"; committed."""
    ws.add_model("fraud", target="Binary", spec={"registry": {"name": "Fraud detector"}})
    add_deployment(ws, "fraud-staging", version="latest", label="Fraud (staging)")
    add_deployment(
        ws,
        "fraud-prod",
        version="1.0",
        label="Fraud (production)",
        predictionEnvironment="Serverless (production)",
        replacementReason="SCHEDULED_REFRESH",
        importance="HIGH",
    )
    ws.commit("a model and two deployments")
