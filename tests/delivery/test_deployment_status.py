"""``dr-gitops status`` names deployments like other objects: owned ones from the
deployment list alone, and with --repo their state and the version each serves."""

from __future__ import annotations

import json

from tests.delivery.helpers import start
from tests.fixtures.workspace import Workspace


def test_status_without_repo_lists_the_deployments_the_namespace_made(
    workspace: Workspace,
) -> None:
    start(workspace)
    workspace.converge()

    result = workspace.cli("status", "--output", "json")

    assert result.code == 0, result.err
    doc = json.loads(result.out)
    rows = [(o["kind"], o["name"], o["version"]) for o in doc["objects"]]
    assert rows[-2:] == [
        ("Deployment", "fraud-prod", "1.0"),
        ("Deployment", "fraud-staging", "1.0"),
    ]
    assert doc["counts"]["Deployment"] == 2
    text = workspace.cli("status").out
    assert text.rstrip().endswith("owned: 1 model, 0 jobs, 2 deployments.")


def test_status_with_repo_shows_an_orphaned_deployment(workspace: Workspace) -> None:
    start(workspace)
    workspace.converge()
    (workspace.repo.path / "deployments/fraud-staging.yaml").unlink()
    workspace.commit("staging goes")

    result = workspace.cli("status", "--repo", str(workspace.repo.path), "--output", "json")

    assert result.code == 0, result.err
    states = {
        o["name"]: o["state"]
        for o in json.loads(result.out)["objects"]
        if o["kind"] == "Deployment"
    }
    assert states == {"fraud-prod": "in-sync", "fraud-staging": "orphaned"}
