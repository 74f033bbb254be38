"""The namespace lock between real ``dr-gitops`` processes (default: the DataRobot lease):
two services, a service and an ``apply``, ``--no-wait``, and a crashed holder."""

from __future__ import annotations

import itertools
import signal
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from emulator.server import EmulatorServer
from tests.fixtures.gitrepos import RemoteRepo
from tests.fixtures.served import ServedProcess
from tests.fixtures.service import request
from tests.fixtures.workspace import Workspace
from tests.service.test_serve_e2e import lock_model, managed, serve_args

Start = Callable[..., ServedProcess]


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def runs_of(process: ServedProcess) -> list[tuple[float, float]]:
    """(start, end) of each run the process logged, on this host's clock."""
    started = [epoch(e["timestamp"]) for e in process.events("run_started")]
    ended = [epoch(e["timestamp"]) for e in process.events("run_finished")]
    return list(zip(started, ended, strict=True))


def writes_by_commit(emulator: EmulatorServer) -> dict[str, list[float]]:
    """When each model and version was written, by the commit it records (DataRobot's own
    timestamps: an overlap detector that does not trust the processes' logs)."""
    state = emulator.state()
    found: dict[str, list[float]] = {}
    for item in [*state["models"], *state["versions"]]:
        sha = (item.get("gitModelVersion") or {}).get("mainBranchCommitSha")
        if sha:
            found.setdefault(sha, []).append(epoch(item["created"]))
            found[sha].append(epoch(item.get("updated") or item["created"]))
    return found


def first_to_hold(*processes: ServedProcess) -> ServedProcess:
    deadline = time.monotonic() + 90  # generous: a loaded machine starts processes slowly
    while time.monotonic() < deadline:
        for process in processes:
            if process.events("namespace_lock_acquired"):
                return process
        time.sleep(0.02)
    raise AssertionError("no instance took the lock:\n" + processes[0].log())


def test_two_services_on_one_namespace_never_apply_at_once_and_the_second_waits(
    remote_repo: RemoteRepo, emulator: EmulatorServer, dr_gitops: Start, tmp_path: Path
) -> None:
    workspace = Workspace(remote_repo.work, emulator, tmp_path / "ws-cache")
    for name in ("alpha", "bravo", "charlie"):
        workspace.add_model(name)
    first = workspace.commit("three models")
    remote_repo.push()
    emulator.set_faults({"latencyMs": 100, "methods": ["POST"]})
    args = serve_args(remote_repo.url, "--concurrency", "1", "--lock-ttl", "20")
    one, two = dr_gitops(*args, cache="one"), dr_gitops(*args, cache="two")

    holder = first_to_hold(one, two)
    waiter = two if holder is one else one
    waiting = waiter.wait_for("namespace_lock_waiting")
    assert f"pid {holder.pid}" in waiting["holder"]
    ready = request(waiter.port, "GET", "/readyz")
    assert ready.status == 503
    assert f"pid {holder.pid}" in ready.json()["reason"]

    holder.wait_for("action_done")  # the holder applies the first commit...
    workspace.add_model("delta")
    second = workspace.commit("a fourth model")
    remote_repo.push()  # ...while a second one lands
    holder.signal(signal.SIGTERM)
    assert holder.finish() == 0
    taken = waiter.wait_for("run_finished", timeout=90)
    assert (taken["revision"], taken["result"]) == (second, "success")
    assert taken["counts"]["created"] == 1
    waiter.signal(signal.SIGTERM)
    assert waiter.finish() == 0

    assert holder.events("run_finished")[0]["revision"] == first
    released = epoch(holder.wait_for("namespace_lock_released")["timestamp"])
    acquired = epoch(waiter.wait_for("namespace_lock_acquired")["timestamp"])
    assert released <= acquired
    runs = sorted(runs_of(holder) + runs_of(waiter))
    for before, after in itertools.pairwise(runs):
        assert before[1] <= after[0], runs
    written = writes_by_commit(emulator)
    assert max(written[first]) < min(written[second])
    assert holder.exited_at is not None
    assert max(written[first]) < acquired <= min(written[second])
    assert set(managed(workspace)) == {"alpha", "bravo", "charlie", "delta"}
    workspace.client.close()


def test_no_wait_exits_1_naming_the_holder_for_serve_and_apply(
    workspace: Workspace, dr_gitops: Start
) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    repo = str(workspace.repo.path)
    holder = dr_gitops(*serve_args(repo, "--lock-ttl", "30"))
    holder.wait_for("run_finished")
    workspace.edit_manifest("models/churn.yaml", description="changed")
    workspace.commit("something to apply")

    refused = [
        dr_gitops(*serve_args(repo, "--no-wait"), cache="second"),
        dr_gitops("apply", "--repo", repo, "--no-wait", cache="third"),
    ]
    for process in refused:
        assert process.finish() == 1
        message = process.output()
        assert f"pid {holder.pid}" in message
        assert "is locked by" in message
        assert "since" in message
        assert not process.events("run_started")
        assert not process.events("action_done")
    holder.signal(signal.SIGTERM)
    assert holder.finish() == 0


def test_the_datarobot_lease_of_a_killed_service_is_taken_over_after_its_ttl(
    workspace: Workspace, dr_gitops: Start
) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    repo, ttl = str(workspace.repo.path), 1.0
    crashed = dr_gitops(*serve_args(repo, "--lock-ttl", str(ttl)))
    crashed.wait_for("run_finished")
    crashed.proc.kill()
    crashed.finish()
    assert lock_model(workspace) is not None  # left behind

    began = time.monotonic()
    successor = dr_gitops(*serve_args(repo, "--lock-ttl", str(ttl)), cache="successor")
    successor.wait_for("namespace_lock_taken_over")
    waited = time.monotonic() - began
    assert f"pid {crashed.pid}" in successor.wait_for("namespace_lock_stale")["holder"]
    # Not before the TTL; the upper bound only catches a wait that never ends (a loaded
    # machine starts processes slowly, so it is generous: a stall, not a speed, fails it).
    assert ttl <= waited < ttl + 60
    assert successor.wait_for("run_finished")["result"] == "no-op"
    lease = lock_model(workspace)
    assert lease is not None
    assert f'"pid":{successor.pid}' in str(lease.fields["description"])
    successor.signal(signal.SIGTERM)
    assert successor.finish() == 0
    assert lock_model(workspace) is None


def test_an_apply_waits_for_a_running_service_then_plans_again_and_applies(
    workspace: Workspace, dr_gitops: Start
) -> None:
    workspace.add_model("churn", spec={"description": "v1"})
    workspace.commit("churn")
    repo = str(workspace.repo.path)
    service = dr_gitops(*serve_args(repo))
    service.wait_for("run_finished")
    workspace.edit_manifest("models/churn.yaml", description="v2")
    workspace.commit("v2")

    apply = dr_gitops("apply", "--repo", repo, "--lock-ttl", "20", cache="ci")
    apply.wait_for("namespace_lock_waiting")
    assert managed(workspace)["churn"].fields["description"] == "v1"  # not yet
    service.signal(signal.SIGTERM)
    assert service.finish() == 0
    assert apply.finish() == 0

    released = epoch(service.wait_for("namespace_lock_released")["timestamp"])
    applied = epoch(apply.wait_for("action_done")["timestamp"])
    assert released <= epoch(apply.wait_for("namespace_lock_acquired")["timestamp"]) <= applied
    assert "Planned again" in apply.output()
    assert managed(workspace)["churn"].fields["description"] == "v2"
    assert lock_model(workspace) is None


@pytest.mark.slow  # the other order is in the normal run
def test_a_service_waits_for_a_running_apply(
    workspace: Workspace, emulator: EmulatorServer, dr_gitops: Start
) -> None:
    for name in ("alpha", "bravo", "charlie"):
        workspace.add_model(name)
    revision = workspace.commit("three models")
    repo = str(workspace.repo.path)
    slow = {"method": "POST", "route": "/api/v2/customModels/{customModelId}/versions/"}
    emulator.set_faults({"script": [{**slow, "latencyMs": 8000}]})  # one slow version
    apply = dr_gitops("apply", "--repo", repo, "--lock-ttl", "20")
    apply.wait_for("namespace_lock_acquired")
    service = dr_gitops(*serve_args(repo), cache="service")
    service.wait_for("namespace_lock_waiting")
    assert apply.finish() == 0
    run: dict[str, Any] = service.wait_for("run_finished")
    assert (run["revision"], run["result"]) == (revision, "no-op")  # the apply did it all
    service.signal(signal.SIGTERM)
    assert service.finish() == 0

    assert apply.exited_at is not None
    last_write = max(writes_by_commit(emulator)[revision])
    assert last_write <= epoch(service.wait_for("namespace_lock_acquired")["timestamp"])
    assert epoch(apply.wait_for("namespace_lock_released")["timestamp"]) <= epoch(
        service.wait_for("run_started")["timestamp"]
    )
