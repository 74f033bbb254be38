"""Quality gates end to end: a model with requirements.txt and a test is built, trained and
tested on every new version; a failing check fails the run and stays visible in the next
plan; a test-only change tests the existing version (issue 17's "Must show")."""

from __future__ import annotations

import json
from typing import Any

import requests

from controller.model.plans import ActionKind
from tests.fixtures.workspace import Workspace

TRAIN = "6600000000000000000000d3"  # house-prices.csv: rooms, area, year_built, y, partition
TEST = "6600000000000000000000d3"


def _gated(**test: Any) -> dict[str, Any]:
    return {
        "dependencyBuild": "auto",
        "trainingDatasetId": TRAIN,
        "partitionColumn": "partition",
        "test": {"datasetId": TEST, "checks": {"sideEffects": "fail"}, "timeout": 60, **test},
    }


def _kinds(workspace: Workspace) -> list[str]:
    return [a.kind.value for a in workspace.plan().plan.actions]


def _fail_break_me(workspace: Workspace) -> None:
    rule = {
        "outcome": "fail",
        "check": "sideEffects",
        "message": "rows differ",
        "fileContains": "# break-me",
    }
    response = _admin(workspace, "PUT", "modelTests", json={"rules": [rule]})
    assert response.status_code == 200, response.text


def test_a_gated_model_is_built_trained_and_tested_and_a_broken_check_stops_the_run(
    workspace: Workspace,
) -> None:
    workspace.emulator.configure(dependencyBuildMs=50, modelTestMs=50, trainingDataMs=50)
    _fail_break_me(workspace)
    workspace.add_model("house", version=_gated())
    workspace.commit("a tested model")

    plan = workspace.plan().plan
    assert [a.kind for a in plan.actions] == [
        ActionKind.CREATE_MODEL,
        ActionKind.CREATE_VERSION,
        ActionKind.BUILD_DEPENDENCIES,
        ActionKind.TEST_VERSION,
    ]
    build, test = plan.actions[2:]
    assert "requirements.txt" in build.reason
    assert "dataset 6600000000000000000000d3" in test.params.summary  # type: ignore[attr-defined]

    first = workspace.converge()
    (gate,) = first.gates
    assert gate.passed
    assert gate.version_label == "1.0"
    stats = workspace.stats()
    assert _count(stats, "POST", "/dependencyBuild/") == 1
    assert _count(stats, "POST", "/customModelTests/") == 1

    # A commit that breaks a check: a new version whose test fails, the run fails naming it.
    workspace.repo.write({"models/house/custom.py": "# break-me\n"})
    workspace.commit("break sideEffects")
    result = workspace.apply()
    assert not result.ok
    (failed,) = result.failures
    assert failed.action.kind is ActionKind.TEST_VERSION
    assert "check sideEffects failed: rows differ" in failed.message
    assert "the test log ends" in failed.message
    assert not result.gate_passed("CustomModel/house")

    # The next plan shows the failed gate instead of pretending all is well.
    (blocked,) = workspace.plan().plan.actions
    assert blocked.kind is ActionKind.BLOCKED
    assert blocked.params.gate == "test"  # type: ignore[attr-defined]
    assert "sideEffects" in blocked.reason
    assert "version 1.1" in blocked.reason

    # A fix commit passes.
    workspace.repo.write({"models/house/custom.py": "# fixed\n"})
    workspace.commit("fix")
    fixed = workspace.converge()
    assert fixed.gate_passed("CustomModel/house") is not None
    assert fixed.gate_passed("CustomModel/house").version_label == "1.2"


def test_a_test_only_change_tests_the_existing_version(workspace: Workspace) -> None:
    workspace.emulator.configure(dependencyBuildMs=0, modelTestMs=0, trainingDataMs=0)
    workspace.add_model("house", version=_gated())
    workspace.commit()
    workspace.converge()
    versions = workspace.stats()

    workspace.add_model(
        "house", version=_gated(checks={"sideEffects": "fail", "nullValueImputation": "warn"})
    )
    workspace.commit("check null imputation too")
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.TEST_VERSION
    assert action.reason == "the test configuration changed since version 1.0 was tested"
    result = workspace.converge()
    assert result.gate_passed("CustomModel/house").version_label == "1.0"
    assert _count(workspace.stats(), "POST", "/versions/") == _count(versions, "POST", "/versions/")


def test_a_failed_build_prints_its_log_and_is_not_retried_without_a_change(
    workspace: Workspace,
) -> None:
    workspace.emulator.configure(
        dependencyBuildMs=0, modelTestMs=0, trainingDataMs=0, failingDependencies=["pandas"]
    )
    workspace.add_model("house", version=_gated())
    workspace.commit()
    result = workspace.apply()
    build = next(r for r in result.results if r.action.kind is ActionKind.BUILD_DEPENDENCIES)
    assert build.outcome.value == "failed"
    assert "the build log ends" in build.message
    assert "pandas" in build.message
    test = next(r for r in result.results if r.action.kind is ActionKind.TEST_VERSION)
    assert test.outcome.value == "skipped"

    (blocked,) = workspace.plan().plan.actions
    assert blocked.kind is ActionKind.BLOCKED
    assert blocked.params.gate == "build"  # type: ignore[attr-defined]
    assert "not started again without a change" in blocked.reason
    builds = _count(workspace.stats(), "POST", "/dependencyBuild/")
    workspace.apply()
    assert _count(workspace.stats(), "POST", "/dependencyBuild/") == builds


def test_a_test_past_its_timeout_is_cancelled_and_fails_the_run(workspace: Workspace) -> None:
    workspace.emulator.configure(dependencyBuildMs=0, modelTestMs=0, trainingDataMs=0)
    response = _admin(workspace, "PUT", "modelTests", json={"rules": [{"outcome": "hang"}]})
    assert response.status_code == 200
    workspace.add_model("house", version=_gated(timeout=1))
    workspace.commit()
    result = workspace.apply()
    (failed,) = result.failures
    assert "did not finish within 1s" in failed.message
    assert "cancelled" in failed.message
    tests = workspace.client.list_model_tests(failed.object_id or _model_id(workspace))
    assert tests[0].overall_status == "canceled"


def _model_id(workspace: Workspace) -> str:
    return next(m.id for m in workspace.client.list_models() if m.name == "House")


def _count(stats: dict[str, Any], method: str, route_part: str) -> int:
    """Requests counted by the emulator for routes of ``method`` that contain ``route_part``."""
    return sum(
        route["count"]
        for key, route in stats["routes"].items()
        if key.startswith(method + " ") and key.endswith(route_part)
    )


def _admin(workspace: Workspace, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{workspace.emulator.url}/__emulator__/{path}", timeout=10, **kwargs
    )


def test_the_cli_reports_gates_in_json_and_a_failed_gate_in_markdown(
    workspace: Workspace,
) -> None:
    workspace.emulator.configure(dependencyBuildMs=0, modelTestMs=0, trainingDataMs=0)
    _fail_break_me(workspace)
    workspace.add_model("house", version=_gated(), files={"custom.py": "# break-me\n"})
    workspace.commit()
    repo = str(workspace.repo.path)

    applied = workspace.cli("apply", "--repo", repo, "--auto-approve", "--output", "json")
    assert applied.code == 1
    doc = json.loads(applied.out)
    (gate,) = doc["gates"]
    assert (gate["key"], gate["versionLabel"], gate["passed"]) == (
        "CustomModel/house",
        "1.0",
        False,
    )
    assert "check sideEffects failed: rows differ" in gate["detail"]

    shown = workspace.cli("plan", "--repo", repo, "--output", "markdown")
    assert shown.code == 1  # a blocked action fails the pull request's check
    assert "failed gate (test) of version 1.0" in shown.out
    assert "check sideEffects failed: rows differ" in shown.out


def test_a_saved_plan_with_gates_applies_as_planned(workspace: Workspace, tmp_path) -> None:
    workspace.emulator.configure(dependencyBuildMs=0, modelTestMs=0, trainingDataMs=0)
    workspace.add_model("house", version=_gated())
    workspace.commit()
    repo, saved = str(workspace.repo.path), str(tmp_path / "plan.json")
    assert workspace.cli("plan", "--repo", repo, "--out", saved).code == 0
    kinds = [a["kind"] for a in json.loads((tmp_path / "plan.json").read_text())["actions"]]
    assert kinds[-2:] == ["build-dependencies", "test-version"]
    applied = workspace.cli("apply", "--repo", repo, "--auto-approve", saved)
    assert applied.code == 0, applied.out + applied.err
    assert "gate passed for version 1.0" in applied.out
    assert workspace.plan().plan.is_empty
