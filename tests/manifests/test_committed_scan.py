"""The manifest search told from git's listing finds exactly what the walk of the disk
finds, or says that it cannot tell (and the disk is walked)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller.manifests.discovery import YamlScan, scan_committed, scan_yaml
from controller.model.trees import CommittedTree
from controller.settings import GitSettings
from controller.sources import open_source
from tests.fixtures.gitrepos import GitRepo

COMMITTED = {
    "models/a.yaml": "kind: CustomModel\n",
    "models/a/model-metadata.yaml": "name: a\n",
    "models/a/deep/er/x.yml": "x: 1\n",
    "models/b.yml": "kind: CustomJob\n",
    "models/.hidden/skipped.yaml": "kind: CustomModel\n",
    "models/node_modules/skipped.yaml": "kind: CustomModel\n",
    "models/.dot.yaml": "kind: CustomModel\n",
    "top.yaml": "a: 1\n",
    "notes/readme.md": "not yaml\n",
    ".gitignore": "*.local.yaml\nbuild/\n__pycache__/\n",
}


def _tree(repo: GitRepo, tmp_path: Path) -> CommittedTree:
    settings = GitSettings(repo=str(repo.path), cache_dir=tmp_path / "cache")
    with open_source(settings, environ=os.environ) as src:
        tree = src.committed_tree()
    assert tree is not None
    return tree


def _both(repo: GitRepo, tmp_path: Path, search: str = "") -> tuple[YamlScan | None, YamlScan]:
    root = os.path.realpath(repo.path)
    where = os.path.join(root, search) if search else root
    told = scan_committed(root, where, _tree(repo, tmp_path), 100)
    return told, scan_yaml(Path(where), 100)


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write(COMMITTED)
    os.symlink("a.yaml", git_repo.path / "models" / "linked.yaml")
    git_repo.commit("files")
    return git_repo


@pytest.mark.parametrize("search", ["", "models", "models/a"])
def test_a_clean_checkout_is_told_exactly(repo: GitRepo, tmp_path: Path, search: str) -> None:
    told, walked = _both(repo, tmp_path, search)
    assert told == walked
    assert walked.files
    assert walked.links or search == "models/a"


def test_uncommitted_deleted_and_ignored_files_are_looked_at_on_disk(
    repo: GitRepo, tmp_path: Path
) -> None:
    repo.write(
        {
            "models/new.yaml": "kind: CustomModel\n",  # untracked
            "models/a.yaml": "kind: CustomModel\nchanged: 1\n",  # modified
            "models/x.local.yaml": "kind: CustomModel\n",  # ignored
            "models/a/__pycache__/c.yaml": "x: 1\n",  # ignored, in a folder never searched
        }
    )
    repo.remove("models/b.yml")
    os.symlink("new.yaml", repo.path / "models" / "new-link.yaml")

    told, walked = _both(repo, tmp_path)

    assert told == walked
    names = [Path(f).name for f in walked.files]
    assert {"new.yaml", "x.local.yaml"} <= set(names)
    assert "b.yml" not in names


def test_a_renamed_manifest_is_found_under_its_new_name_only(repo: GitRepo, tmp_path: Path) -> None:
    repo.git("mv", "models/b.yml", "models/c.yml")
    told, walked = _both(repo, tmp_path)
    assert told == walked


@pytest.mark.parametrize(
    "folder", ["models/untracked/", "build/", "models/"], ids=["untracked", "ignored", "whole"]
)
def test_a_folder_git_does_not_list_is_walked_on_disk(
    repo: GitRepo, tmp_path: Path, folder: str
) -> None:
    repo.write({folder + "new/m.yaml": "kind: CustomModel\n"})
    if folder == "models/":
        repo.git("rm", "-r", "-q", "--cached", "models")
    told, _ = _both(repo, tmp_path)
    assert told is None


def test_folders_near_the_depth_limit_are_walked_on_disk(repo: GitRepo, tmp_path: Path) -> None:
    root = os.path.realpath(repo.path)
    assert scan_committed(root, root, _tree(repo, tmp_path), 3) is None
    assert scan_committed(root, root, _tree(repo, tmp_path), 5) == scan_yaml(Path(root), 5)


def test_a_submodule_is_walked_on_disk(repo: GitRepo, tmp_path: Path) -> None:
    inner = GitRepo(tmp_path / "inner")
    inner.commit("inner", {"m.yaml": "kind: CustomModel\n"})
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(inner.path), "sub")
    repo.commit("submodule")
    told, walked = _both(repo, tmp_path)
    assert told is None
    assert any(f.endswith("sub/m.yaml") for f in walked.files)


def test_a_sparse_checkout_gives_no_committed_tree(repo: GitRepo, tmp_path: Path) -> None:
    repo.git("sparse-checkout", "set", "models")
    settings = GitSettings(repo=str(repo.path), cache_dir=tmp_path / "cache")
    with open_source(settings, environ=os.environ) as src:
        assert src.committed_tree() is None


def test_a_rename_marks_both_of_its_paths_unsettled(repo: GitRepo, tmp_path: Path) -> None:
    repo.git("mv", "models/a/model-metadata.yaml", "models/a/renamed.yaml")
    tree = _tree(repo, tmp_path)
    assert "models/a/model-metadata.yaml" in tree.unsettled
    assert not tree.settled("models/a")
    assert not tree.settled("models")
    assert tree.settled("models/b.yml")


@pytest.mark.parametrize(
    ("unsettled", "path", "settled"),
    [
        (("a/b-c", "a/b/x"), "a/b", False),  # "a/b-c" sorts between "a/b" and "a/b/x"
        (("a/b-c",), "a/b", True),
        (("a/",), "a/b/c", False),  # an unsettled folder above
        (("a/b/",), "a/b", False),
        (("a/bc/",), "a/b", True),
        (("z",), "", False),  # the top holds everything
        ((), "", True),
    ],
)
def test_settled_sees_paths_at_under_and_above(
    unsettled: tuple[str, ...], path: str, settled: bool
) -> None:
    assert CommittedTree("c", {}, tuple(sorted(unsettled))).settled(path) is settled
