"""``dr-gitops apply`` holds the namespace lock, as ``serve`` does, only while it writes."""

from __future__ import annotations

from pathlib import Path

from controller.model.identity import lock_upid
from controller.service import FileLeaseStore, Holder, NamespaceLock
from tests.fixtures.workspace import NAMESPACE, CliResult, Workspace

LOCK_CREATE = "POST /api/v2/customModels/"
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
