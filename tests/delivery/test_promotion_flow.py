"""From version to production: a model with a registry, staging on ``latest`` and
production pinned; promotion is a pull request that moves the pin (issue 18)."""

from __future__ import annotations

from typing import Any

import yaml

from controller.engine.rendering import render_markdown
from controller.model.plans import ActionKind
from tests.fixtures.workspace import Workspace

STAGING_ENV = "6600000000000000000000c1"


def add_deployment(ws: Workspace, name: str, **spec: Any) -> None:
    body: dict[str, Any] = {"label": name.title(), "model": "fraud"}
    if "predictionEnvironment" not in spec:
        body["predictionEnvironmentId"] = STAGING_ENV
    body.update(spec)
    doc = {"apiVersion": "dr-gitops/v1", "kind": "Deployment", "metadata": {"name": name}}
    ws.repo.write({f"deployments/{name}.yaml": yaml.safe_dump({**doc, "spec": body})})


def set_pin(ws: Workspace, name: str, version: str) -> None:
    path = ws.repo.path / f"deployments/{name}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["version"] = version
    path.write_text(yaml.safe_dump(doc))


def served(ws: Workspace) -> dict[str, str | None]:
    return {
        str(d.user_provided_id).rsplit("/", 1)[-1]: d.version_label
        for d in ws.client.list_deployments()
    }


def kinds(ws: Workspace) -> list[tuple[str, str]]:
    return [(a.kind.value, str(a.key)) for a in ws.plan().plan.actions]


def start(ws: Workspace) -> None:
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


def test_first_apply_registers_version_one_and_deploys_it_twice(workspace: Workspace) -> None:
    start(workspace)

    workspace.converge()

    (registered,) = workspace.client.list_registered_models()
    assert (registered.name, registered.last_version) == ("Fraud detector", 1)
    assert served(workspace) == {"fraud-staging": "1.0", "fraud-prod": "1.0"}
    upids = sorted(str(d.user_provided_id) for d in workspace.client.list_deployments())
    assert upids == ["test/workspace/fraud-prod", "test/workspace/fraud-staging"]


def test_a_source_commit_moves_staging_only_and_a_pull_request_promotes_production(
    workspace: Workspace,
) -> None:
    start(workspace)
    workspace.converge()
    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    workspace.commit("a better model")

    plan = workspace.plan().plan
    assert [(a.kind, str(a.key)) for a in plan.actions] == [
        (ActionKind.CREATE_VERSION, "CustomModel/fraud"),
        (ActionKind.REGISTER_VERSION, "CustomModel/fraud"),
        (ActionKind.REPLACE_DEPLOYMENT_MODEL, "Deployment/fraud-staging"),
    ]
    workspace.converge()

    (registered,) = workspace.client.list_registered_models()
    assert registered.last_version == 2
    assert served(workspace) == {"fraud-staging": "2.0", "fraud-prod": "1.0"}

    set_pin(workspace, "fraud-prod", "2.0")
    workspace.commit("promote 2.0 to production")
    planned = workspace.plan()
    (replace,) = planned.plan.actions
    assert replace.kind is ActionKind.REPLACE_DEPLOYMENT_MODEL
    assert "1.0 → 2.0 (reason SCHEDULED_REFRESH" in replace.reason
    assert replace.params["validation"]["status"] in ("passing", "warning")  # type: ignore[index]
    markdown = "".join(render_markdown(planned.plan))
    assert "1 production change(s)" in markdown

    workspace.converge()

    assert served(workspace) == {"fraud-staging": "2.0", "fraud-prod": "2.0"}
    assert len(workspace.client.list_packages()) == 2
