"""``--target KIND/NAME``: plan and apply only some objects; refused with --prune; an
unknown target is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.engine.test_rendering import SCHEMA
from tests.fixtures.workspace import Workspace


def _three(workspace: Workspace) -> str:
    workspace.add_model("alpha")
    workspace.add_model("beta")
    workspace.add_job("gamma")
    workspace.commit()
    return str(workspace.repo.path)


def _names(workspace: Workspace) -> set[str]:
    models = {m.name for m in workspace.client.list_models()}
    return models | {j.name for j in workspace.client.list_jobs()}


def test_plan_with_a_target_shows_only_that_object_and_says_so(workspace: Workspace) -> None:
    repo = _three(workspace)
    planned = workspace.cli("plan", "--repo", repo, "--target", "CustomModel/alpha")
    assert planned.code == 0, planned.err
    assert "CustomModel/alpha" in planned.out
    assert "CustomModel/beta" not in planned.out
    assert "CustomJob/gamma" not in planned.out
    assert "limited to --target CustomModel/alpha" in planned.out
    assert "Plan: 1 to create, 0 to update, 1 new version, 0 to delete." in planned.out
    as_json = workspace.cli(
        "plan", "--repo", repo, "--output", "json", "--target", "CustomJob/gamma"
    )
    doc = json.loads(as_json.out)
    jsonschema.validate(doc, SCHEMA)
    assert {a["key"] for a in doc["actions"]} == {"CustomJob/gamma"}


def test_apply_with_targets_writes_only_them_and_the_rest_is_not_taken_for_orphans(
    workspace: Workspace,
) -> None:
    repo = _three(workspace)
    applied = workspace.cli(
        "apply", "--repo", repo, "--target", "CustomModel/alpha", "--target", "CustomJob/gamma"
    )
    assert applied.code == 0, applied.err
    assert _names(workspace) == {"Alpha", "Gamma"}
    # A targeted plan of an object already in step is empty, and says nothing of others.
    again = workspace.cli("plan", "--repo", repo, "--target", "CustomModel/alpha")
    assert "No changes." in again.out
    assert "no manifest" not in again.out
    rest = workspace.plan().plan
    assert [str(a.key) for a in rest.actions if a.kind.value == "create-model"] == [
        "CustomModel/beta"
    ]


def test_a_saved_targeted_plan_applies_with_the_same_target(
    workspace: Workspace, tmp_path: Path
) -> None:
    repo = _three(workspace)
    plan_file = tmp_path / "plan.json"
    target = ("--target", "CustomModel/beta")
    saved = workspace.cli("plan", "--repo", repo, *target, "--out", str(plan_file))
    assert saved.code == 0, saved.err
    applied = workspace.cli("apply", str(plan_file), "--repo", repo, *target)
    assert applied.code == 0, applied.err
    assert _names(workspace) == {"Beta"}


def test_target_with_prune_is_refused_with_the_reason(workspace: Workspace) -> None:
    repo = _three(workspace)
    for command in ("plan", "apply"):
        refused = workspace.cli(command, "--repo", repo, "--target", "CustomModel/alpha", "--prune")
        assert refused.code == 1
        assert "--target cannot be combined with --prune" in refused.err
        assert "Traceback" not in refused.err
    assert workspace.writes() == 0


def test_an_unknown_target_is_a_clear_error_naming_the_closest(workspace: Workspace) -> None:
    repo = _three(workspace)
    unknown = workspace.cli("apply", "--repo", repo, "--target", "CustomModel/alfa")
    assert unknown.code == 1
    assert "--target names no manifest: CustomModel/alfa (did you mean CustomModel/alpha?)" in (
        unknown.err
    )
    malformed = workspace.cli("plan", "--repo", repo, "--target", "alpha")
    assert malformed.code == 1
    assert "--target 'alpha' is not KIND/NAME" in malformed.err
    assert workspace.writes() == 0
