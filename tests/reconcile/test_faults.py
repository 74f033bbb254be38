"""Writes whose outcome is unknown, and a controller killed mid-apply, converge with no
duplicate model, version or job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.fixtures.workspace import NAMESPACE, Workspace

MODELS = "/api/v2/customModels/"
VERSIONS = "/api/v2/customModels/{customModelId}/versions/"
JOBS = "/api/v2/customJobs/"
JOB = "/api/v2/customJobs/{customJobId}/"


def _counts(workspace: Workspace) -> tuple[int, int, int]:
    models = workspace.client.list_models()
    versions = sum(len(workspace.client.list_versions(m.id)) for m in models)
    return len(models), versions, len(workspace.client.list_jobs())


def test_503_after_every_kind_of_create_recovers_without_duplicates(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.add_job("retrain")
    workspace.commit()
    workspace.emulator.set_faults(
        {
            "script": [
                {"method": "POST", "route": MODELS, "status": 503, "when": "after", "times": 1},
                {"method": "POST", "route": VERSIONS, "status": 503, "when": "after", "times": 1},
                {"method": "POST", "route": JOBS, "status": 503, "when": "after", "times": 1},
                {"method": "PATCH", "route": JOB, "status": 502, "when": "after", "times": 1},
            ]
        }
    )
    result = workspace.apply()
    assert result.ok, [r.message for r in result.failures]
    assert _counts(workspace) == (1, 1, 1)
    workspace.emulator.set_faults({})
    assert workspace.plan().plan.is_empty


def test_a_version_create_whose_outcome_is_unknown_and_did_not_happen_fails_cleanly(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn")
    workspace.commit()
    workspace.emulator.set_faults(
        {
            "script": [
                {"method": "POST", "route": VERSIONS, "status": 503, "when": "before", "times": 1}
            ]
        }
    )
    result = workspace.apply()
    assert not result.ok
    (failure,) = result.failures
    assert "outcome" in failure.message.lower() or "503" in failure.message
    workspace.emulator.set_faults({})
    workspace.converge()
    assert _counts(workspace) == (1, 1, 0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_faults_converge_in_a_few_runs_without_duplicates(
    workspace: Workspace, seed: int
) -> None:
    for name in ("a", "b", "c", "d"):
        workspace.add_model(f"model-{name}")
    workspace.add_job("job-a")
    workspace.add_job("job-b")
    workspace.commit()
    workspace.emulator.set_faults(
        {
            "rate": 0.2,
            "statuses": [429, 502, 503, 504],
            "when": "both",
            "retryAfter": 0,
            "seed": seed,
        }
    )
    for _ in range(8):
        if workspace.apply(concurrency=2).ok:
            break
    workspace.emulator.set_faults({})
    workspace.converge()
    assert _counts(workspace) == (4, 4, 2)


def test_a_controller_killed_mid_apply_converges_on_the_next_run(workspace: Workspace) -> None:
    for index in range(6):
        workspace.add_model(f"model-{index}")
    workspace.add_job("retrain")
    workspace.commit()
    workspace.emulator.set_faults({"latencyMs": 60})
    env = {
        **os.environ,
        "DATAROBOT_ENDPOINT": workspace.emulator.api_url,
        "DATAROBOT_API_TOKEN": workspace.emulator.token,
        "DR_GITOPS_NAMESPACE": NAMESPACE,
        "DR_GITOPS_CACHE_DIR": str(workspace.cache),
    }
    command = [sys.executable, "-m", "controller.cli", "apply", "--repo", str(workspace.repo.path),
               "--concurrency", "2", "--lock", "none"]  # fmt: skip
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while workspace.writes() < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    _wait_until_quiet(workspace)
    assert workspace.writes() > 0

    workspace.emulator.set_faults({})
    workspace.converge()
    assert _counts(workspace) == (6, 6, 1)


def _wait_until_quiet(workspace: Workspace, quiet: float = 0.3) -> None:
    """Let requests the dead controller left in flight finish on the server, as they do
    while a real controller restarts (a restart takes longer than a request)."""
    last, since = workspace.stats()["total"], time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.05)
        now = workspace.stats()["total"]
        if now != last:
            last, since = now, time.monotonic()
