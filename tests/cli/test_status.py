"""``dr-gitops status``: what the namespace owns, with list requests only; with --repo,
each object's state from the plan; its JSON form follows schemas/status.schema.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.fixtures.emulator import EmulatorApi
from tests.fixtures.workspace import NAMESPACE, Workspace

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "status.schema.json").read_text(encoding="utf-8")
)
LISTS = {
    "GET /api/v2/customModels/",
    "GET /api/v2/customJobs/",
    "GET /api/v2/deployments/",
}


def _applied(workspace: Workspace, models: int = 3) -> str:
    for index in range(models):
        workspace.add_model(f"model-{index}")
    workspace.add_job("nightly")
    workspace.commit()
    workspace.converge()
    return str(workspace.repo.path)


def _requests_since(workspace: Workspace, before: dict[str, Any]) -> dict[str, int]:
    after = workspace.stats()["routes"]
    counts = {
        route: entry["count"] - before.get(route, {}).get("count", 0)
        for route, entry in after.items()
    }
    return {route: n for route, n in counts.items() if n}


def _json(workspace: Workspace, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = workspace.cli("status", "--output", "json", *args, env=env)
    assert result.code == 0, result.err
    doc: dict[str, Any] = json.loads(result.out)
    jsonschema.validate(doc, SCHEMA)
    return doc


def test_status_lists_what_the_namespace_owns_with_list_requests_only(
    workspace: Workspace, emulator_api: EmulatorApi
) -> None:
    _applied(workspace)
    emulator_api.create_model(name="Made by hand")
    emulator_api.create_model(name="Someone else's", userProvidedId="other/team/model-0")
    before = workspace.stats()["routes"]
    writes = workspace.writes()

    doc = _json(workspace)

    assert doc["namespace"] == NAMESPACE
    assert doc["revision"] is None
    assert [(o["kind"], o["name"]) for o in doc["objects"]] == [
        ("CustomModel", "model-0"),
        ("CustomModel", "model-1"),
        ("CustomModel", "model-2"),
        ("CustomJob", "nightly"),
    ]
    live = {m.name: m for m in workspace.client.list_models()}
    first = doc["objects"][0]
    assert first["id"] == live["Model 0"].id
    assert first["version"] == "1.0"
    assert first["commit"] == workspace.repo.head()
    assert first["updated"]
    assert "state" not in first
    assert doc["objects"][3]["commit"] == workspace.repo.head()  # from the job's stamp
    assert doc["counts"] == {"CustomModel": 3, "CustomJob": 1, "Deployment": 0}
    # One list request per kind (a page each here), none per object; nothing written.
    assert set(_requests_since(workspace, before)) == LISTS
    assert workspace.writes() == writes


def test_status_text_is_a_table_with_a_summary(workspace: Workspace) -> None:
    _applied(workspace, models=1)
    result = workspace.cli("status")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"Namespace {NAMESPACE}")
    assert lines[1].split() == ["KIND", "NAME", "ID", "VERSION", "COMMIT", "UPDATED"]
    assert lines[2].split()[:2] == ["CustomModel", "model-0"]
    assert workspace.repo.head()[:12] in lines[2]
    assert lines[-1] == "2 objects owned: 1 model, 1 job."


def test_status_with_repo_gives_each_object_its_state(
    workspace: Workspace, emulator_api: EmulatorApi
) -> None:
    repo = _applied(workspace)
    live = {m.name: m for m in workspace.client.list_models()}
    # model-0 stays in sync; model-1 drifts by hand; model-2's manifest goes (orphaned);
    # a new manifest is not applied yet (missing); the job's type changes (blocked: it can
    # only be set at creation).
    answer = emulator_api.patch(
        f"customModels/{live['Model 1'].id}/", json={"description": "edited by hand"}
    )
    assert answer.status_code == 200, answer.text
    workspace.repo.remove("models/model-2.yaml", "models/model-2")
    workspace.add_model("model-new")
    workspace.edit_manifest("jobs/nightly.yaml", jobType="retraining")
    workspace.commit("changes")
    writes = workspace.writes()

    doc = _json(workspace, "--repo", repo)

    states = {o["name"]: o["state"] for o in doc["objects"]}
    assert states == {
        "model-0": "in-sync",
        "model-1": "drifted",
        "model-2": "orphaned",
        "model-new": "missing",
        "nightly": "blocked",
    }
    by_name = {o["name"]: o for o in doc["objects"]}
    assert by_name["model-1"]["actions"] == ["update-model"]
    assert by_name["model-0"]["reason"] is None
    assert by_name["model-new"]["id"] is None
    assert "jobType" in by_name["nightly"]["reason"]
    assert doc["revision"] == workspace.repo.head()
    assert doc["counts"] == {"in-sync": 1, "drifted": 1, "missing": 1, "blocked": 1, "orphaned": 1}
    assert workspace.writes() == writes

    text = workspace.cli("status", "--repo", repo)
    assert text.code == 0, text.err
    assert "STATE" in text.out.splitlines()[1]
    assert "Why not in sync:" in text.out
    assert text.out.splitlines()[-1] == (
        "5 objects: 1 in sync, 1 drifted, 1 missing, 1 blocked, 1 orphaned."
    )


def test_status_derives_the_namespace_from_the_current_repository(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.repo.write({".dr-gitops.yaml": "namespace: team/pinned\n"})
    workspace.add_model("pinned")
    workspace.commit()
    applied = workspace.cli(
        "apply", "--repo", str(workspace.repo.path), env={"DR_GITOPS_NAMESPACE": ""}
    )
    assert applied.code == 0, applied.err
    monkeypatch.chdir(workspace.repo.path)

    doc = _json(workspace, env={"DR_GITOPS_NAMESPACE": ""})

    assert doc["namespace"] == "team/pinned"
    assert [o["name"] for o in doc["objects"]] == ["pinned"]


def test_status_without_a_namespace_outside_a_repository_says_what_to_do(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "not-a-repo"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = workspace.cli("status", env={"DR_GITOPS_NAMESPACE": ""})
    assert result.code == 1
    assert "--namespace" in result.err
    assert "DR_GITOPS_NAMESPACE" in result.err
    assert "Traceback" not in result.err
    assert workspace.stats()["total"] == 0
