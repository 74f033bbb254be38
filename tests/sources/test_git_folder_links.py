"""A source file linked into the git folder (``m/notes.txt -> ../.git/config``) is refused:
in working-tree mode it would upload the git config, with a CI token in its remote URL.
With ``--ref`` the files come from the commit's objects, where no git folder exists."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from controller.manifests import load
from controller.sources import open_source
from tests.fixtures.gitrepos import GitRepo
from tests.sources.conftest import MakeSettings

TOKEN = "glpat-CI-JOB-TOKEN-0123456789"
MANIFEST = """\
apiVersion: dr-gitops/v1
kind: CustomModel
metadata: {name: m}
spec:
  targetType: Regression
  targetName: y
  version: {source: ./m, baseEnvironmentId: 64d2ba178dd3f0b1fa2162f0}
"""


def _repo_with_link(git_repo: GitRepo, target: str) -> None:
    git_repo.git("remote", "add", "origin", f"https://ci:{TOKEN}@gitlab.example/acme/models.git")
    git_repo.write({"m.yaml": MANIFEST, "m/custom.py": "def score(d, m):\n    return d\n"})
    os.symlink(target, git_repo.path / "m" / "notes.txt")
    git_repo.commit("a model with a link")


def _problems(root: Path) -> list[str]:
    return [str(p) for p in load(root).errors]


def _uploaded(root: Path) -> set[str]:
    loaded = load(root)
    models = loaded.state.models
    return {f.repo_path for m in models if m.version for f in m.version.source.files}


def test_a_link_to_the_git_config_is_refused_in_the_working_tree(git_repo: GitRepo) -> None:
    _repo_with_link(git_repo, "../.git/config")
    assert TOKEN in (git_repo.path / "m" / "notes.txt").read_text()  # the trap is real
    problems = _problems(git_repo.path)
    assert any(
        "m.yaml" in p and "m/notes.txt is a symbolic link into the repository's git folder" in p
        for p in problems
    ), problems
    assert ".git/config" not in _uploaded(git_repo.path)


def test_links_anywhere_under_git_are_refused(git_repo: GitRepo) -> None:
    _repo_with_link(git_repo, "../.git/hooks/../HEAD")
    assert any("git folder" in p for p in _problems(git_repo.path))


def test_a_source_folder_inside_git_is_refused(git_repo: GitRepo) -> None:
    git_repo.commit("first", {"m.yaml": MANIFEST.replace("./m", "./.git")})
    problems = _problems(git_repo.path)
    assert any("source './.git' is inside the repository's git folder" in p for p in problems)


def test_a_separate_git_folder_inside_the_tree_is_never_uploaded(tmp_path: Path) -> None:
    work, store = tmp_path / "repo", tmp_path / "repo" / "gitstore"
    work.mkdir()
    subprocess.run(
        ["git", "init", "-q", "-b", "main", f"--separate-git-dir={store}", str(work)],
        check=True,
        capture_output=True,
    )
    repo = GitRepo(work, init=False)
    repo.git("remote", "add", "origin", f"https://ci:{TOKEN}@gitlab.example/acme/models.git")
    repo.write({"m.yaml": MANIFEST.replace("./m", "."), "custom.py": "x = 1\n"})
    os.symlink("gitstore/config", work / "notes.txt")
    problems = _problems(work)
    assert any(
        "notes.txt is a symbolic link into the repository's git folder" in p for p in problems
    )
    os.unlink(work / "notes.txt")
    uploaded = _uploaded(work)
    assert "custom.py" in uploaded
    assert not any(p.startswith("gitstore/") for p in uploaded), uploaded


def test_with_a_ref_the_files_are_the_commits_and_the_link_leads_nowhere(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    _repo_with_link(git_repo, "../.git/config")
    with open_source(git_settings(git_repo.path, ref="main"), environ=os.environ) as source:
        root = source.checkout.root
        assert not (root / ".git").exists()
        problems = _problems(root)
    assert any("m/notes.txt" in p for p in problems), problems
    assert not any(TOKEN in p for p in problems)
