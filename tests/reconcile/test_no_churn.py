"""No new version without a content change: moved folders and file modes change nothing,
a job's field change costs one write, a rewritten commit leaves no stale model metadata."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from controller.model.identity import read_stamp
from controller.model.plans import ActionKind, FileChangeKind
from tests.fixtures.workspace import ENV_SKLEARN, Workspace

JOB_ROUTE = "PATCH /api/v2/customJobs/{customJobId}/"


def _model(workspace: Workspace, name: str = "Churn") -> Any:
    return next(m for m in workspace.client.list_models() if m.name == name)


def _job(workspace: Workspace) -> Any:
    (job,) = workspace.client.list_jobs()
    return job


def _route_count(workspace: Workspace, route: str) -> int:
    return int(workspace.stats()["routes"].get(route, {}).get("count", 0))


def _move_model(workspace: Workspace, name: str, to: str) -> None:
    """``git mv models/<name> models/<to>`` and point the manifest's source at it."""
    (workspace.repo.path / "models" / to).parent.mkdir(parents=True, exist_ok=True)
    workspace.repo.git("mv", f"models/{name}", f"models/{to}")
    workspace.edit_manifest(
        f"models/{name}.yaml", version={"source": f"./{to}", "baseEnvironmentId": ENV_SKLEARN}
    )


def test_moving_a_model_folder_makes_no_version_and_no_write(workspace: Workspace) -> None:
    workspace.add_model("churn", files={"b.py": "B = 1\n", "lib/c.py": "C = 2\n"})
    workspace.commit()
    workspace.converge()
    before = _model(workspace).latest_version
    writes = workspace.writes()

    _move_model(workspace, "churn", "moved/churn")
    workspace.commit("move the source folder")

    planned = workspace.plan()
    assert planned.plan.is_empty, [(a.kind, a.reason, a.files) for a in planned.plan.actions]
    assert planned.evidence.downloads == 0  # told by git, not by downloading the version
    workspace.converge()
    assert workspace.writes() == writes
    after = _model(workspace).latest_version
    assert (after.id, after.label) == (before.id, before.label)


def test_a_moved_folder_with_one_edited_file_makes_one_version_with_that_file(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.add_model("churn", files={"b.py": "B = 1\n"})
    workspace.commit()
    workspace.converge()
    before = _model(workspace).latest_version
    writes = workspace.writes()

    _move_model(workspace, "churn", "moved/churn")
    workspace.repo.write({"models/moved/churn/b.py": "B = 2\n"})
    sha = workspace.commit("move and edit")

    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.CREATE_VERSION
    assert [(f.path, f.change) for f in action.files] == [("b.py", FileChangeKind.MODIFY)]
    workspace.converge()
    assert workspace.writes() == writes + 1
    model = _model(workspace)
    after = model.latest_version
    assert after.label == "1.1"
    assert after.git.main_branch_commit_sha == sha
    unchanged = {i.file_path: i.id for i in before.items if i.file_path != "b.py"}
    assert {i.file_path: i.id for i in after.items if i.file_path != "b.py"} == unchanged
    archive = workspace.client.download_version(model.id, after.id, tmp_path / "v.zip")
    with zipfile.ZipFile(archive) as zf:
        assert zf.read("b.py") == b"B = 2\n"


def test_two_model_folders_swapped_are_told_apart(workspace: Workspace) -> None:
    """A folder that existed at the recorded commit, but held another model, is compared
    with what that model's version really holds (the old folder), not with its own past."""
    workspace.add_model("churn")
    workspace.add_model("other")
    workspace.commit()
    workspace.converge()
    writes = workspace.writes()
    workspace.repo.git("mv", "models/churn", "models/tmp")
    workspace.repo.git("mv", "models/other", "models/churn")
    workspace.repo.git("mv", "models/tmp", "models/other")
    workspace.edit_manifest(
        "models/churn.yaml", version={"source": "./other", "baseEnvironmentId": ENV_SKLEARN}
    )
    workspace.edit_manifest(
        "models/other.yaml", version={"source": "./churn", "baseEnvironmentId": ENV_SKLEARN}
    )
    workspace.commit("swap the folders")
    assert workspace.plan().plan.is_empty
    # Pointing a model at the other's (unchanged) folder is a content change.
    workspace.edit_manifest(
        "models/churn.yaml", version={"source": "./churn", "baseEnvironmentId": ENV_SKLEARN}
    )
    workspace.commit("churn now uses other's code")
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.CREATE_VERSION
    assert {(f.path, f.change) for f in action.files} == {
        ("custom.py", FileChangeKind.MODIFY),
        ("model-metadata.yaml", FileChangeKind.MODIFY),
    }
    workspace.converge()
    assert workspace.writes() == writes + 1


def test_a_manifest_moved_with_its_model_folder_makes_no_version(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.commit()
    workspace.converge()
    writes = workspace.writes()
    (workspace.repo.path / "teams/a").mkdir(parents=True)
    workspace.repo.git("mv", "models/churn", "teams/a/churn")
    workspace.repo.git("mv", "models/churn.yaml", "teams/a/churn.yaml")
    workspace.commit("reorganise")
    assert workspace.plan().plan.is_empty
    assert workspace.writes() == writes


def test_a_file_mode_change_is_no_change(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()
    writes = workspace.writes()
    (workspace.repo.path / "models/churn/custom.py").chmod(0o755)
    (workspace.repo.path / "jobs/retrain/run.sh").chmod(0o755)
    workspace.commit("mode")
    assert workspace.repo.git("diff", "--name-only", "HEAD~1", "HEAD") != ""  # git saw it
    assert workspace.plan().plan.is_empty
    result = workspace.cli("plan", "--repo", str(workspace.repo.path), "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert workspace.writes() == writes


def test_moving_a_job_folder_changes_nothing_and_an_edit_during_the_move_is_exact(
    workspace: Workspace,
) -> None:
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()
    before = _job(workspace)
    writes = workspace.writes()
    (workspace.repo.path / "jobs/nightly").mkdir()
    workspace.repo.git("mv", "jobs/retrain", "jobs/nightly/retrain")
    workspace.edit_manifest("jobs/retrain.yaml", source="./nightly/retrain")
    workspace.commit("move the job")
    assert workspace.plan().plan.is_empty
    assert workspace.writes() == writes

    workspace.repo.git("mv", "jobs/nightly/retrain", "jobs/retrain-src")
    workspace.edit_manifest("jobs/retrain.yaml", source="./retrain-src")
    workspace.repo.write({"jobs/retrain-src/job.py": "print('v2')\n"})
    workspace.commit("move again and edit")
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.UPDATE_JOB
    assert [(f.path, f.change) for f in action.files] == [("job.py", FileChangeKind.MODIFY)]
    workspace.converge()
    after = _job(workspace)
    kept = {i.file_path: i.id for i in before.items if i.file_path != "job.py"}
    assert {i.file_path: i.id for i in after.items if i.file_path != "job.py"} == kept


def test_a_job_runtime_value_change_costs_one_patch(workspace: Workspace) -> None:
    workspace.add_job("retrain", spec={"runtimeParameters": {"DAYS": 7, "TARGET": "eu"}})
    workspace.commit()
    workspace.converge()
    # The stamp records an older commit than the one applied next.
    workspace.repo.write({"README.md": "docs\n"})
    workspace.commit("docs")
    workspace.edit_manifest("jobs/retrain.yaml", runtimeParameters={"DAYS": 14})
    sha = workspace.commit("longer window, all targets")
    writes, patches = workspace.writes(), _route_count(workspace, JOB_ROUTE)
    workspace.converge()
    assert workspace.writes() == writes + 1
    assert _route_count(workspace, JOB_ROUTE) == patches + 1
    job = _job(workspace)
    params = {p.field_name: p for p in job.runtime_parameters}
    assert (params["DAYS"].override_value, params["TARGET"].override_value) == (14, None)
    stamp = read_stamp(str(job.fields["description"]))
    assert stamp is not None
    assert stamp.commit == sha


def test_a_job_name_edited_by_hand_is_repaired_with_one_patch(workspace: Workspace) -> None:
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()
    job = _job(workspace)
    workspace.client.update_job(job.id, {"name": "Renamed by hand"})
    sha = workspace.commit("later commit")
    writes = workspace.writes()
    workspace.converge()
    assert workspace.writes() == writes + 1
    job = _job(workspace)
    assert job.name == "Retrain"
    assert read_stamp(str(job.fields["description"])).commit == sha


def test_after_an_amend_that_keeps_the_tree_the_model_metadata_moves_too(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn")
    workspace.commit("first")
    workspace.converge()
    workspace.repo.git("commit", "-q", "--amend", "-m", "first, reworded")
    amended = workspace.repo.head()
    writes = workspace.writes()
    workspace.converge()
    model = _model(workspace)
    assert model.latest_version.git.main_branch_commit_sha == amended
    assert model.git is not None
    assert model.git.main_branch_commit_sha == amended
    assert workspace.writes() == writes + 2  # the version's metadata, the model's
    assert workspace.plan().plan.is_empty


def test_an_uncommitted_mode_change_is_no_change_either(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.commit()
    workspace.converge()
    (workspace.repo.path / "models/churn/custom.py").chmod(0o755)
    assert workspace.repo.git("status", "--porcelain") != ""  # git sees it
    assert workspace.plan().plan.is_empty
    workspace.repo.write({"models/churn/requirements.txt": "numpy\n"})  # a real edit still counts
    (action,) = workspace.plan().plan.actions
    assert [(f.path, f.change) for f in action.files] == [
        ("requirements.txt", FileChangeKind.MODIFY)
    ]
