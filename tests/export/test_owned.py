"""Objects dr-gitops already owns export under their own names, with no adopt flag, and the
exported repository manages them as the original one did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.workspace import NAMESPACE, Workspace

ORG_ID = "6500000000000000000000f1"
GIT_RECORDING = {
    "update-model": [["gitModelVersion.mainBranchCommitSha"]],
    "update-version-metadata": [["gitModelVersion.mainBranchCommitSha"]],
    "update-job": [[]],
}


def _applied_from_manifests(workspace: Workspace) -> None:
    workspace.add_model(
        "churn",
        version={"maximumMemory": "512Mi", "replicas": 1},
        spec={
            "sharing": [
                {"username": "gitops-bot@example.com", "role": "OWNER"},
                {"username": "bob@example.com", "role": "USER"},
            ]
        },
    )
    workspace.add_model(
        "fraud", target="Binary", version={"runtimeParameters": {"THRESHOLD": 0.7, "MODE": "slow"}}
    )
    workspace.add_job(
        "retrain",
        spec={
            "runtimeParameters": {"DAYS": 7},
            "resources": {"egressNetworkPolicy": "public"},
            "sharing": [
                {"username": "gitops-bot@example.com", "role": "OWNER"},
                {"shareRecipientType": "group", "name": "data-science", "role": "USER"},
                {"shareRecipientType": "organization", "id": ORG_ID, "role": "OBSERVER"},
            ],
        },
    )
    workspace.commit("manifests")
    workspace.converge()


def _export_owned(workspace: Workspace, tmp_path: Path) -> GitRepo:
    exported = GitRepo(tmp_path / "exported")
    result = workspace.cli("export", "--out", str(exported.path), "--namespace", NAMESPACE)
    assert result.code == 0, result.out + result.err
    exported.commit("export")
    return exported


def _plan(workspace: Workspace, repo: GitRepo) -> dict[str, Any]:
    result = workspace.cli("plan", "--repo", str(repo.path), "--output", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_owned_objects_keep_their_names_and_need_no_adopt_flag(
    workspace: Workspace, tmp_path: Path
) -> None:
    _applied_from_manifests(workspace)

    exported = _export_owned(workspace, tmp_path)

    manifests = sorted(
        p.relative_to(exported.path).as_posix() for p in exported.path.glob("*/*.yaml")
    )
    assert manifests == ["jobs/retrain.yaml", "models/churn.yaml", "models/fraud.yaml"]
    for path in manifests:
        doc = yaml.safe_load((exported.path / path).read_text())
        assert "adopt" not in doc["metadata"]
    job = yaml.safe_load((exported.path / "jobs/retrain.yaml").read_text())
    assert "[dr-gitops" not in job["spec"].get("description", "")  # the stamp is not user text


def test_plan_on_an_owned_export_changes_nothing_and_is_empty_once_applied(
    workspace: Workspace, tmp_path: Path
) -> None:
    _applied_from_manifests(workspace)
    exported = _export_owned(workspace, tmp_path)

    plan = _plan(workspace, exported)

    # The models, versions and the job recorded commits of the original repository, which are
    # not in the exported one's history: the plan records the new commit (so that later plans use
    # one git diff instead of downloading every version). Nothing else differs.
    described = [(a["kind"], a["key"], a["reason"]) for a in plan["actions"]]
    for action in plan["actions"]:
        assert [f["field"] for f in action["fields"]] in GIT_RECORDING.get(action["kind"], []), (
            described
        )
        assert (action["files"], action["runtime"], action["sharing"]) == ([], [], []), described
    applied = workspace.cli("apply", "--repo", str(exported.path))
    assert applied.code == 0, applied.out + applied.err
    assert workspace.cli("plan", "--repo", str(exported.path), "--detailed-exitcode").code == 0


def test_the_export_pins_its_namespace_in_the_repository_settings_file(
    workspace: Workspace, tmp_path: Path
) -> None:
    _applied_from_manifests(workspace)
    exported = _export_owned(workspace, tmp_path)

    settings = yaml.safe_load((exported.path / ".dr-gitops.yaml").read_text())
    assert settings == {"namespace": NAMESPACE}
    assert (exported.path / "schemas/repository-settings.schema.json").is_file()
    assert "pinned in .dr-gitops.yaml" in (exported.path / "README.md").read_text()
    # No flag, no variable: the file alone gives the namespace, so the objects are found.
    result = workspace.cli(
        "plan", "--repo", str(exported.path), "--output", "json", env={"DR_GITOPS_NAMESPACE": ""}
    )
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    assert plan["namespace"] == NAMESPACE
    assert not [a for a in plan["actions"] if a["kind"].startswith(("create", "adopt"))]
