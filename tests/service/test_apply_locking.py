"""``dr-gitops apply`` holds the namespace lock, as ``serve`` does, only while it writes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from controller.model.identity import lock_upid
from controller.service import FileLeaseStore, Holder, NamespaceLock
from emulator.server import EmulatorServer
from tests.fixtures.workspace import NAMESPACE, CliResult, Workspace

LOCK_CREATE = MODEL_CREATE = "POST /api/v2/customModels/"
LOCK_DELETE = "DELETE /api/v2/customModels/{customModelId}/"


def apply(workspace: Workspace, *args: str) -> CliResult:
    return workspace.cli("apply", "--repo", str(workspace.repo.path), *args)


def route_count(workspace: Workspace, route: str) -> int:
    return int(workspace.stats()["routes"].get(route, {}).get("count", 0))


def test_apply_takes_the_datarobot_lock_while_writing_and_releases_it(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    result = apply(workspace)
    assert result.code == 0, result.err
    assert route_count(workspace, LOCK_CREATE) == 2  # the lock, then the model
    assert route_count(workspace, LOCK_DELETE) == 1  # the lock, released
    assert lock_upid(NAMESPACE) not in {m.user_provided_id for m in workspace.client.list_models()}
    assert "namespace_lock_released" in result.out + result.err


def test_apply_with_nothing_to_apply_takes_no_lock(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    workspace.converge()
    writes = workspace.writes()
    result = apply(workspace)
    assert result.code == 0, result.err
    assert "namespace_lock" not in result.out + result.err
    assert workspace.writes() == writes


def test_apply_with_lock_none_writes_only_the_changes(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    result = apply(workspace, "--lock", "none")
    assert result.code == 0, result.err
    assert route_count(workspace, LOCK_CREATE) == 1
    assert route_count(workspace, LOCK_DELETE) == 0


def test_apply_refuses_a_namespace_held_in_a_lock_file_without_writing(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    locks = tmp_path / "locks"
    holder = NamespaceLock(
        FileLeaseStore(locks, NAMESPACE), namespace=NAMESPACE, holder=Holder("ci-7", 42, "x")
    )
    holder.acquire(wait=False)
    refused = apply(workspace, "--lock", "file", "--lock-dir", str(locks), "--no-wait")
    assert refused.code == 1
    assert "ci-7 pid 42" in refused.err
    assert workspace.writes() == 0

    timed_out = apply(
        workspace, "--lock", "file", "--lock-dir", str(locks), "--lock-timeout", "0.2"
    )
    assert timed_out.code == 1
    assert "Timed out waiting" in timed_out.err
    assert workspace.writes() == 0
    holder.release()
    assert apply(workspace, "--lock", "file", "--lock-dir", str(locks)).code == 0
    assert len(workspace.client.list_models()) == 1


def test_an_apply_that_loses_the_lock_starts_no_new_write_and_exits_1(
    workspace: Workspace, emulator: EmulatorServer, tmp_path: Path
) -> None:
    for name in ("alpha", "bravo", "charlie"):
        workspace.add_model(name)
    workspace.commit("three models")
    emulator.set_faults({"latencyMs": 300, "methods": ["POST"]})
    locks = tmp_path / "locks"
    store = FileLeaseStore(locks, NAMESPACE)

    def take_over_after_the_first_create() -> None:
        deadline = time.monotonic() + 10
        while route_count(workspace, MODEL_CREATE) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        found = store.read()
        assert found is not None
        store.delete(found[1])  # as another controller would after missed heartbeats

    thief = threading.Thread(target=take_over_after_the_first_create)
    thief.start()
    result = apply(
        workspace, "--lock", "file", "--lock-dir", str(locks), "--lock-ttl", "0.3",
        "--concurrency", "1",
    )  # fmt: skip
    thief.join()
    assert result.code == 1
    assert "namespace lock was lost" in result.err
    assert len(workspace.client.list_models()) < 3
