"""A saved plan that promotes a deployment is applied exactly, through the CLI; a
deployment changed by hand since makes it stale."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.delivery.helpers import edit_deployment, served, start
from tests.fixtures.workspace import Workspace

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json").read_text()
)


def written(workspace: Workspace) -> dict[str, int]:
    """Requests by write route, the replacement validation (a read) left out."""
    return {
        route: entry["count"]
        for route, entry in workspace.stats()["routes"].items()
        if route.split(" ")[0] in ("POST", "PATCH", "PUT", "DELETE")
        and not route.endswith("/model/validation/")
    }


def promote(workspace: Workspace, plan_file: Path) -> None:
    start(workspace)
    workspace.converge()
    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    workspace.commit("a better model")
    workspace.converge()
    edit_deployment(workspace, "fraud-prod", version="2.0")
    workspace.commit("promote 2.0")
    planned = workspace.cli(
        "plan", "--repo", str(workspace.repo.path), "--out", str(plan_file), "--output", "markdown"
    )
    assert planned.code == 0, planned.err
    assert "production change" in planned.out
    jsonschema.validate(json.loads(plan_file.read_text()), SCHEMA)


def test_a_saved_promotion_is_applied_exactly(workspace: Workspace, tmp_path: Path) -> None:
    promote(workspace, tmp_path / "plan.json")

    applied = workspace.cli(
        "apply", str(tmp_path / "plan.json"), "--repo", str(workspace.repo.path)
    )

    assert applied.code == 0, applied.err
    assert served(workspace) == {"fraud-staging": "2.0", "fraud-prod": "2.0"}
    assert workspace.plan().plan.is_empty


def test_a_saved_promotion_is_stale_once_the_deployment_changed(
    workspace: Workspace, tmp_path: Path
) -> None:
    promote(workspace, tmp_path / "plan.json")
    (prod,) = [d for d in workspace.client.list_deployments() if "production" in d.label]
    workspace.client.update_deployment(prod.id, {"label": "by hand"})
    before = written(workspace)

    refused = workspace.cli(
        "apply", str(tmp_path / "plan.json"), "--repo", str(workspace.repo.path)
    )

    assert refused.code == 1
    assert "stale plan" in refused.err
    assert "Deployment/fraud-prod" in refused.err
    # (the replacement validation the new plan asks for is a POST, but changes nothing)
    assert written(workspace) == before
    assert served(workspace)["fraud-prod"] == "1.0"
