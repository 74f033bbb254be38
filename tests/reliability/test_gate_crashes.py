"""A controller killed with SIGKILL while a dependency build or a custom model test runs,
then run again, never starts a second build or test for that version, and passes the gate
(issue 17's reliability clause). Polls that meet 503s and 429s (with Retry-After) go on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import requests

from controller.model.plans import ActionKind
from tests.fixtures.workspace import NAMESPACE, Workspace
from tests.reliability.soaking import ROOT

DATASET = "6600000000000000000000d3"
GATED = {
    "trainingDatasetId": DATASET,
    "partitionColumn": "partition",
    "test": {"datasetId": DATASET},
}


def _start_apply(workspace: Workspace) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATAROBOT_ENDPOINT": workspace.emulator.api_url,
        "DATAROBOT_API_TOKEN": workspace.emulator.token,
        "DR_GITOPS_NAMESPACE": NAMESPACE,
        "DR_GITOPS_CACHE_DIR": str(workspace.cache),
    }
    command = [sys.executable, "-m", "controller.cli", "apply", "--auto-approve"]
    command += ["--repo", str(workspace.repo.path)]
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _posts(workspace: Workspace, route_end: str) -> int:
    routes = workspace.stats()["routes"]
    return sum(
        v["count"] for k, v in routes.items() if k.startswith("POST ") and k.endswith(route_end)
    )


def _model_and_version(workspace: Workspace) -> tuple[str, str] | None:
    models = workspace.client.list_models()
    if not models or models[0].latest_version is None:
        return None
    return models[0].id, models[0].latest_version.id


def _build_running(workspace: Workspace) -> bool:
    found = _model_and_version(workspace)
    return found is not None and workspace.client.get_dependency_build(*found) == "processing"


def _test_running(workspace: Workspace) -> bool:
    found = _model_and_version(workspace)
    return found is not None and any(t.running for t in workspace.client.list_model_tests(found[0]))


def _killed_while(workspace: Workspace, running: Callable[[Workspace], bool]) -> None:
    proc = _start_apply(workspace)
    try:
        _wait_for(lambda: running(workspace), "the build or test to run")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _setup(workspace: Workspace, **config: Any) -> None:
    workspace.emulator.configure(trainingDataMs=0, **config)
    workspace.add_model("house", version=GATED)
    workspace.commit("a gated model")


def test_killed_during_the_build_the_rerun_waits_for_it_and_starts_no_second_one(
    workspace: Workspace,
) -> None:
    _setup(workspace, dependencyBuildMs=3000, modelTestMs=0)
    _killed_while(workspace, _build_running)
    assert _posts(workspace, "/dependencyBuild/") == 1

    (build, test) = workspace.plan().plan.actions
    assert (build.kind, test.kind) == (ActionKind.BUILD_DEPENDENCIES, ActionKind.TEST_VERSION)
    assert "is running: wait for it" in build.reason
    result = workspace.converge()
    assert result.gate_passed("CustomModel/house") is not None
    assert _posts(workspace, "/dependencyBuild/") == 1
    assert _posts(workspace, "/customModelTests/") == 1
    assert _posts(workspace, "/versions/") == 1


def test_killed_during_the_test_the_rerun_waits_for_it_and_starts_no_second_one(
    workspace: Workspace,
) -> None:
    _setup(workspace, dependencyBuildMs=0, modelTestMs=3000)
    _killed_while(workspace, _test_running)
    assert _posts(workspace, "/customModelTests/") == 1

    (test,) = workspace.plan().plan.actions
    assert test.kind is ActionKind.TEST_VERSION
    assert "is running" in test.reason
    result = workspace.converge()
    assert result.gate_passed("CustomModel/house") is not None
    assert _posts(workspace, "/customModelTests/") == 1
    assert _posts(workspace, "/dependencyBuild/") == 1


def test_polls_that_meet_503s_and_429s_still_pass_the_gate(workspace: Workspace) -> None:
    _setup(workspace, dependencyBuildMs=300, modelTestMs=300)
    # GETs only: the polls (and reads) meet them; Retry-After is waited, then the poll goes on.
    faults = {"rate": 0.3, "statuses": [503, 429], "retryAfter": 0, "seed": 7, "methods": ["GET"]}
    response = requests.put(
        f"{workspace.emulator.url}/__emulator__/faults", json=faults, timeout=10
    )
    assert response.status_code == 200, response.text
    try:
        result = workspace.apply()
    finally:
        requests.delete(f"{workspace.emulator.url}/__emulator__/faults", timeout=10)
    assert result.ok, [r.message for r in result.failures]
    workspace.converge()
    assert _posts(workspace, "/dependencyBuild/") >= 1
    tests = workspace.client.list_model_tests(_model_and_version(workspace)[0])  # type: ignore[index]
    passed = [t for t in tests if t.overall_status == "succeeded"]
    assert len(passed) == 1
    assert faults_seen(workspace) > 0


def faults_seen(workspace: Workspace) -> int:
    return sum(workspace.stats()["faults"].values())
