"""Opening a local repository: the working tree as it is, or another commit exported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller.errors import SourceError
from controller.sources import open_source
from controller.sources.changes import touching_folders
from tests.fixtures.gitrepos import GitRepo, RemoteRepo
from tests.sources.conftest import MakeSettings


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    )


def test_a_clean_working_tree_is_used_in_place(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    sha = git_repo.commit("first", {"models/a/custom.py": "print(1)\n"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        checkout = source.checkout
    assert checkout.root == git_repo.path.resolve()
    assert checkout.toplevel == git_repo.path.resolve()
    assert checkout.working_tree
    assert checkout.sha == sha
    assert checkout.ref_name == "main"
    assert checkout.commit.subject == "first"
    assert checkout.commit.author_email == "tests@example.invalid"
    assert not checkout.dirty
    assert checkout.remote_url is None


def test_a_subfolder_opens_the_whole_repository(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    git_repo.commit("first", {"models/a/custom.py": "x"})
    with open_source(git_settings(git_repo.path / "models"), environ=os.environ) as source:
        assert source.checkout.toplevel == git_repo.path.resolve()


def test_a_dirty_working_tree_reports_every_changed_and_untracked_path(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    git_repo.commit("first", {"a.yaml": "a", "b.yaml": "b", "c.yaml": "c"})
    git_repo.write({"a.yaml": "changed", "new.yaml": "new"})
    git_repo.remove("b.yaml")
    git_repo.git("mv", "c.yaml", "d.yaml")
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        checkout = source.checkout
    assert checkout.dirty
    # A rename changes both of its paths: the old one is gone from the working tree.
    assert checkout.dirty_paths == ("a.yaml", "b.yaml", "c.yaml", "d.yaml", "new.yaml")


def test_ignored_files_do_not_make_the_tree_dirty(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    git_repo.commit("first", {".gitignore": "*.pyc\n", "a.py": "x"})
    git_repo.write({"a.pyc": b"\0"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        assert not source.checkout.dirty


def test_another_ref_is_exported_without_touching_the_working_tree(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    old = git_repo.commit("old", {"models/a.py": "old", "models/gone.py": "gone"})
    git_repo.commit("new", {"models/a.py": "new"})
    git_repo.remove("models/gone.py")
    git_repo.commit("drop")
    git_repo.write({"models/a.py": "uncommitted"})
    status_before = git_repo.git("status", "--porcelain")
    index_before = (git_repo.path / ".git" / "index").read_bytes()

    with open_source(git_settings(git_repo.path, ref=old), environ=os.environ) as source:
        checkout = source.checkout
        assert not checkout.working_tree
        assert checkout.sha == old
        assert checkout.ref_kind == "commit"
        assert checkout.ref_name is None
        assert checkout.toplevel == git_repo.path.resolve()
        assert _files(checkout.root) == ["models/a.py", "models/gone.py"]
        assert (checkout.root / "models/a.py").read_text() == "old"

    assert git_repo.git("status", "--porcelain") == status_before
    assert (git_repo.path / ".git" / "index").read_bytes() == index_before
    assert (git_repo.path / "models/a.py").read_text() == "uncommitted"
    assert git_repo.git("worktree", "list").count("\n") == 0


def test_re_exporting_another_commit_removes_deleted_files(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    first = git_repo.commit("first", {"a.py": "a", "b.py": "b"})
    git_repo.remove("b.py")
    second = git_repo.commit("second", {"c.py": "c"})
    with open_source(git_settings(git_repo.path, ref=first), environ=os.environ) as source:
        assert _files(source.checkout.root) == ["a.py", "b.py"]
    with open_source(git_settings(git_repo.path, ref=second), environ=os.environ) as source:
        assert _files(source.checkout.root) == ["a.py", "c.py"]


def test_branches_and_tags_resolve_by_name(git_repo: GitRepo, git_settings: MakeSettings) -> None:
    first = git_repo.commit("first", {"a": "1"})
    git_repo.git("tag", "-a", "v1", "-m", "release one")
    git_repo.git("branch", "release")
    git_repo.commit("second", {"a": "2"})
    with open_source(git_settings(git_repo.path, ref="v1"), environ=os.environ) as source:
        assert (source.checkout.sha, source.checkout.ref_kind) == (first, "tag")
        assert source.checkout.ref_name == "v1"
    with open_source(git_settings(git_repo.path, ref="release"), environ=os.environ) as source:
        assert (source.checkout.sha, source.checkout.ref_kind) == (first, "branch")


def test_an_unknown_ref_is_a_source_error_naming_the_ref(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    git_repo.commit("first", {"a": "1"})
    with pytest.raises(SourceError, match="no-such-branch") as caught:
        open_source(git_settings(git_repo.path, ref="no-such-branch"), environ=os.environ)
    assert caught.value.ref == "no-such-branch"
    assert "check the spelling" in str(caught.value)


@pytest.mark.parametrize("ref", ["--upload-pack=evil", "two words", "a\nb"])
def test_refs_that_look_like_options_or_hold_spaces_are_refused(
    git_repo: GitRepo, git_settings: MakeSettings, ref: str
) -> None:
    git_repo.commit("first", {"a": "1"})
    with pytest.raises(SourceError, match="not a valid git ref"):
        open_source(git_settings(git_repo.path, ref=ref), environ=os.environ)


def test_a_folder_that_is_not_a_repository_is_a_clear_error(
    tmp_path: Path, git_settings: MakeSettings
) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(SourceError, match="reading the repository"):
        open_source(git_settings(tmp_path / "plain"), environ=os.environ)


def test_a_repository_without_commits_is_a_clear_error(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    with pytest.raises(SourceError, match="reading the repository"):
        open_source(git_settings(git_repo.path), environ=os.environ)


def test_the_remote_url_is_reported_without_credentials(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    remote_repo.work.commit("first", {"a": "1"})
    remote_repo.work.git(
        "remote", "set-url", "origin", "https://bot:tok3n-value@github.com/acme/models.git"
    )
    with open_source(git_settings(remote_repo.work.path), environ=os.environ) as source:
        assert source.checkout.remote_url == "https://github.com/acme/models.git"
        assert source.namespace() == "github.com/acme/models"


def test_a_configured_namespace_wins(git_repo: GitRepo, git_settings: MakeSettings) -> None:
    git_repo.commit("first", {"a": "1"})
    with open_source(git_settings(git_repo.path, namespace="team-a"), environ=os.environ) as source:
        assert source.namespace() == "team-a"
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        assert source.namespace() == "repo"


def test_the_process_environment_cannot_redirect_git(
    git_repo: GitRepo, git_settings: MakeSettings, tmp_path: Path
) -> None:
    sha = git_repo.commit("first", {"a": "1"})
    other = GitRepo(tmp_path / "other")
    other.commit("other", {"b": "2"})
    hostile = {"PATH": os.environ["PATH"], "GIT_DIR": str(other.path / ".git")}
    with open_source(git_settings(git_repo.path), environ=hostile) as source:
        assert source.checkout.sha == sha


def test_ignored_paths_are_those_under_or_above_the_folders_asked_about(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    git_repo.commit(
        "first",
        {
            ".gitignore": ".env\nbuild/\n",
            "models/a/custom.py": "x",
            "models/b/custom.py": "x",
            "models/ab/custom.py": "x",
        },
    )
    git_repo.write(
        {
            "models/a/.env": "SECRET=1\n",
            "models/a/build/out.bin": "o",
            "models/ab/.env": "SECRET=2\n",  # a sibling whose name starts like "a"
            "build/m/custom.py": "x",  # a source folder inside an ignored folder
            "other/.env": "SECRET=3\n",
        }
    )
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        ignored = source.ignored(["models/a", "models/b", "build/m"])
    assert ignored == ("build/", "models/a/.env", "models/a/build/")


def test_touching_folders_matches_whole_path_parts() -> None:
    paths = ["build/", "models/a/.env", "models/ab/.env", "models/a/x/", "other/.env", "models/"]
    assert touching_folders(paths, ["models/a", "build/m"]) == [
        "build/",
        "models/a/.env",
        "models/a/x/",
        "models/",
    ]
    assert touching_folders(paths, []) == []
