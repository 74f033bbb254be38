"""New versions: exactly the change, stamped with the commit, and nothing when nothing changed."""

from __future__ import annotations

import subprocess

from controller.model.params import VersionCreate, VersionMethod
from controller.model.plans import ActionKind, FileChangeKind
from tests.fixtures.workspace import Workspace


def _latest(workspace: Workspace, name: str = "Churn"):
    model = next(m for m in workspace.client.list_models() if m.name == name)
    assert model.latest_version is not None
    return model, model.latest_version


def _content(workspace: Workspace, model_id: str, version_id: str, path: str, tmp_path) -> str:
    import zipfile

    archive = workspace.client.download_version(model_id, version_id, tmp_path / "v.zip")
    with zipfile.ZipFile(archive) as zf:
        return zf.read(path).decode()


def test_a_one_file_commit_makes_exactly_one_version_with_that_change(
    workspace: Workspace, tmp_path
) -> None:
    workspace.add_model("churn")
    workspace.add_model("other")
    workspace.commit("two models")
    workspace.converge()
    model, before = _latest(workspace)
    writes = workspace.writes()

    workspace.repo.write({"models/churn/custom.py": "# better\n"})
    sha = workspace.commit("improve churn")
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.CREATE_VERSION
    assert [(f.path, f.change) for f in action.files] == [("custom.py", FileChangeKind.MODIFY)]
    workspace.converge()

    assert workspace.writes() == writes + 1
    _, after = _latest(workspace)
    assert after.label == "1.1"
    assert after.git is not None
    assert after.git.main_branch_commit_sha == sha
    assert _content(workspace, model.id, after.id, "custom.py", tmp_path) == "# better\n"
    unchanged = {i.file_path: i.id for i in before.items if i.file_path != "custom.py"}
    assert {i.file_path: i.id for i in after.items if i.file_path != "custom.py"} == unchanged


def test_a_deleted_file_is_removed_from_the_next_version(workspace: Workspace) -> None:
    workspace.add_model("churn", files={"helpers.py": "X = 1\n"})
    workspace.commit()
    workspace.converge()
    workspace.repo.remove("models/churn/helpers.py")
    workspace.commit("drop helpers")
    (action,) = workspace.plan().plan.actions
    assert [(f.path, f.change) for f in action.files] == [("helpers.py", FileChangeKind.DELETE)]
    workspace.converge()
    _, latest = _latest(workspace)
    assert "helpers.py" not in {i.file_path for i in latest.items}


def test_a_settings_only_change_makes_a_version_without_uploading_files(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn", version={"replicas": 1})
    workspace.commit()
    workspace.converge()
    _, before = _latest(workspace)
    workspace.add_model("churn", version={"replicas": 3, "maximumMemory": "1Gi"})
    workspace.commit("more replicas")
    (action,) = workspace.plan().plan.actions
    assert isinstance(action.params, VersionCreate)
    assert action.params.method is VersionMethod.SETTINGS_ONLY
    assert not action.files
    workspace.converge()
    _, after = _latest(workspace)
    assert after.settings["replicas"] == 3
    assert after.settings["maximumMemory"] == 1024**3
    assert {i.id for i in after.items} == {i.id for i in before.items}
    route = "PATCH /api/v2/customModels/{customModelId}/versions/"
    assert workspace.stats()["routes"][route]["count"] == 1


def test_a_model_field_change_patches_the_model_and_makes_no_version(workspace: Workspace) -> None:
    workspace.add_model("churn", spec={"description": "old"})
    workspace.commit()
    workspace.converge()
    workspace.edit_manifest("models/churn.yaml", description="new words")
    sha = workspace.commit("describe")
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.UPDATE_MODEL
    workspace.converge()
    model, latest = _latest(workspace)
    assert model.fields["description"] == "new words"
    assert latest.label == "1.0"
    assert model.git is not None
    assert model.git.main_branch_commit_sha == sha


def test_an_unrelated_commit_changes_nothing(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.commit()
    workspace.converge()
    writes = workspace.writes()
    workspace.repo.write({"README.md": "docs\n"})
    workspace.commit("docs only")
    assert workspace.plan().plan.is_empty
    assert workspace.writes() == writes


def test_a_force_pushed_history_falls_back_to_content_comparison(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.add_model("other")
    workspace.commit("first")
    workspace.converge()
    # Rewrite history: the recorded commit is no longer in it, contents of "other" unchanged.
    workspace.repo.write({"models/churn/custom.py": "# rewritten\n"})
    workspace.repo.git("commit", "-q", "--amend", "-a", "-m", "rewritten")
    workspace.repo.git("reflog", "expire", "--expire=now", "--all")
    subprocess.run(["git", "gc", "-q", "--prune=now"], cwd=workspace.repo.path, check=True)

    planned = workspace.plan()
    by_key = {str(a.key): a for a in planned.plan.actions}
    assert planned.evidence.downloads == 2
    churn = by_key["CustomModel/churn"]
    assert churn.kind is ActionKind.CREATE_VERSION
    assert [(f.path, f.change) for f in churn.files] == [("custom.py", FileChangeKind.MODIFY)]
    assert "by content" in churn.reason
    # "other" has the same content: only its git metadata moves to the new history.
    assert by_key["CustomModel/other"].kind is ActionKind.UPDATE_VERSION_METADATA
    workspace.converge()


def test_after_a_squash_merge_with_no_file_change_only_the_git_metadata_moves(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn")
    workspace.commit("main")
    workspace.converge()
    workspace.repo.git("checkout", "-q", "-b", "feature")
    workspace.repo.write({"models/churn/custom.py": "# feature\n"})
    feature = workspace.commit("feature work")
    assert workspace.apply(git={"ref": "feature"}).ok
    _, made = _latest(workspace)
    assert made.git is not None
    assert made.git.main_branch_commit_sha == feature

    workspace.repo.git("checkout", "-q", "main")
    workspace.repo.git("merge", "-q", "--squash", "feature")
    merged = workspace.commit("squash-merge the feature")
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.UPDATE_VERSION_METADATA
    writes = workspace.writes()
    workspace.converge()
    assert workspace.writes() == writes + 1
    _, latest = _latest(workspace)
    assert latest.id == made.id
    assert latest.git is not None
    assert latest.git.main_branch_commit_sha == merged


def test_a_version_made_by_hand_is_superseded_by_one_made_from_the_manifest(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn", version={"runtimeParameters": {"THRESHOLD": 0.7}})
    sha = workspace.commit()
    workspace.converge()
    model, first = _latest(workspace)
    by_hand = workspace.client.create_version_with_settings(
        model.id,
        runtime_parameter_values=[{"fieldName": "THRESHOLD", "type": "numeric", "value": 0.2}],
    )
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.CREATE_VERSION
    assert [(r.field_name, r.old, r.new) for r in action.runtime] == [("THRESHOLD", 0.2, 0.7)]
    workspace.converge()
    _, newest = _latest(workspace)
    assert newest.id not in (first.id, by_hand.id)
    assert newest.git is not None
    assert newest.git.main_branch_commit_sha == sha


def test_files_git_ignores_are_never_part_of_a_version(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.repo.write({".gitignore": ".env\nbuild/\n"})
    workspace.commit()
    # Left in the working tree by a developer or a CI step; git does not see them.
    workspace.repo.write(
        {"models/churn/.env": "SECRET=x\n", "models/churn/build/out.bin": "binary\n"}
    )
    version = workspace.plan().plan.actions[1]
    assert version.kind is ActionKind.CREATE_VERSION
    assert sorted(f.path for f in version.files) == [
        "custom.py",
        "model-metadata.yaml",
        "requirements.txt",
    ]
    workspace.converge()
    # The working tree and a clone of the commit agree: nothing to do either way.
    assert workspace.plan(git={"ref": "HEAD"}).plan.is_empty


def test_a_plan_from_an_older_commit_warns_that_it_rolls_back(workspace: Workspace) -> None:
    workspace.add_model("churn")
    older = workspace.commit()
    workspace.converge()
    workspace.repo.write({"models/churn/custom.py": "# newer\n"})
    newer = workspace.commit("newer")
    workspace.converge()
    planned = workspace.plan(git={"ref": older}).plan  # an old pipeline run again
    assert [a.kind for a in planned.actions] == [ActionKind.CREATE_VERSION]
    (warning,) = [w for w in planned.warnings if "rolls them back" in w]
    assert newer[:12] in warning
    assert older[:12] in warning
    assert not [w for w in workspace.plan().plan.warnings if "rolls them back" in w]
