"""Opening a URL: a bare clone in the cache, fetched on every open, the ref exported."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller.errors import SourceError
from controller.sources import open_source
from tests.fixtures.gitrepos import RemoteRepo
from tests.sources.conftest import MakeSettings


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_a_file_url_is_cloned_into_the_cache_at_the_default_branch(
    remote_repo: RemoteRepo, git_settings: MakeSettings, tmp_path: Path
) -> None:
    sha = remote_repo.work.commit("first", {"models/a.py": "a"})
    remote_repo.push()
    with open_source(git_settings(remote_repo.url), environ=os.environ) as source:
        checkout = source.checkout
        assert checkout.sha == sha
        assert checkout.ref_name == "main"
        assert checkout.ref_kind == "branch"
        assert checkout.remote_url == remote_repo.url
        assert not checkout.working_tree
        assert checkout.root.is_relative_to(tmp_path / "cache")
        assert _files(checkout.root) == ["models/a.py"]
        assert source.git_commands == {"clone": 1, "cat-file": 1, "read-tree": 1}


def test_one_cache_folder_per_url(
    remote_repo: RemoteRepo, git_settings: MakeSettings, tmp_path: Path
) -> None:
    remote_repo.work.commit("first", {"a": "1"})
    remote_repo.push()
    with open_source(git_settings(remote_repo.url), environ=os.environ) as source:
        first_root = source.checkout.root
    with open_source(git_settings(remote_repo.url), environ=os.environ) as source:
        assert source.checkout.root == first_root
    assert len([p for p in (tmp_path / "cache").iterdir() if p.is_dir()]) == 1


def test_reopening_fetches_new_commits_and_updates_the_export(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    remote_repo.work.commit("first", {"a.py": "1", "b.py": "2"})
    remote_repo.push()
    with open_source(git_settings(remote_repo.url), environ=os.environ) as source:
        assert _files(source.checkout.root) == ["a.py", "b.py"]
    remote_repo.work.remove("b.py")
    second = remote_repo.work.commit("second", {"c.py": "3"})
    remote_repo.push()
    with open_source(git_settings(remote_repo.url), environ=os.environ) as source:
        assert source.checkout.sha == second
        assert _files(source.checkout.root) == ["a.py", "c.py"]
        assert source.git_commands == {"fetch": 1, "cat-file": 1, "read-tree": 1}


def test_branches_tags_and_shas_are_checked_out_detached(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    first = remote_repo.work.commit("first", {"a": "1"})
    remote_repo.work.git("tag", "v1")
    remote_repo.work.git("branch", "release")
    second = remote_repo.work.commit("second", {"a": "2"})
    remote_repo.push("main", "release", "v1")
    cases = {"release": (first, "branch"), "v1": (first, "tag"), second: (second, "commit")}
    for ref, (sha, kind) in cases.items():
        with open_source(git_settings(remote_repo.url, ref=ref), environ=os.environ) as source:
            assert (source.checkout.sha, source.checkout.ref_kind) == (sha, kind)
            assert (source.checkout.root / "a").read_text() == ("1" if sha == first else "2")


def test_a_commit_no_branch_points_at_is_fetched_by_sha(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    remote_repo.work.commit("first", {"a": "1"})
    remote_repo.push()
    with open_source(git_settings(remote_repo.url), environ=os.environ):
        pass
    remote_repo.work.git("checkout", "-q", "-b", "feature")
    feature = remote_repo.work.commit("feature", {"a": "feature"})
    remote_repo.push("feature")
    remote_repo.work.git("push", "-q", "origin", "--delete", "feature")
    # The commit is still in the remote's object store, like a force-pushed-away commit.
    with open_source(git_settings(remote_repo.url, ref=feature), environ=os.environ) as source:
        assert source.checkout.sha == feature


def test_a_ref_that_does_not_exist_is_a_source_error_naming_it(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    remote_repo.work.commit("first", {"a": "1"})
    remote_repo.push()
    with pytest.raises(SourceError) as caught:
        open_source(git_settings(remote_repo.url, ref="feature/missing"), environ=os.environ)
    message = str(caught.value)
    assert "--ref 'feature/missing' was not found" in message
    assert "default branch is 'main'" in message
    assert caught.value.ref == "feature/missing"


def test_a_failed_open_releases_the_cache_lock(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    remote_repo.work.commit("first", {"a": "1"})
    remote_repo.push()
    with pytest.raises(SourceError):
        open_source(git_settings(remote_repo.url, ref="nope"), environ=os.environ)
    with open_source(
        git_settings(remote_repo.url, lock_timeout_seconds=0.5), environ=os.environ
    ) as source:
        assert source.checkout.ref_name == "main"


def test_a_second_open_of_the_same_cache_waits_for_the_lock(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    remote_repo.work.commit("first", {"a": "1"})
    remote_repo.push()
    with (
        open_source(git_settings(remote_repo.url), environ=os.environ),
        pytest.raises(SourceError, match="in use by another dr-gitops process"),
    ):
        open_source(git_settings(remote_repo.url, lock_timeout_seconds=0.2), environ=os.environ)


def test_an_unreachable_url_is_a_source_error(git_settings: MakeSettings, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cloning file://"):
        open_source(git_settings((tmp_path / "nowhere.git").as_uri()), environ=os.environ)


def test_a_renamed_default_branch_is_followed(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    remote_repo.work.commit("first", {"a": "1"})
    remote_repo.push()
    with open_source(git_settings(remote_repo.url), environ=os.environ):
        pass
    remote_repo.work.git("branch", "-m", "main", "trunk")
    second = remote_repo.work.commit("second", {"a": "2"})
    remote_repo.work.git("push", "-q", "origin", "trunk")
    with_git = ["--git-dir", str(remote_repo.bare)]
    remote_repo.work.git(*with_git, "symbolic-ref", "HEAD", "refs/heads/trunk")
    remote_repo.work.git(*with_git, "branch", "-D", "main")
    with open_source(git_settings(remote_repo.url), environ=os.environ) as source:
        assert (source.checkout.sha, source.checkout.ref_name) == (second, "trunk")


def test_a_shallow_cache_clone_honours_the_clone_depth(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    for n in range(3):
        remote_repo.work.commit(f"c{n}", {"a": str(n)})
    remote_repo.push()
    with open_source(git_settings(remote_repo.url, clone_depth=1), environ=os.environ) as source:
        assert source.checkout.shallow


def test_lock_files_left_by_a_killed_run_do_not_break_the_next_one(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    remote_repo.work.commit("first", {"a": "1"})
    remote_repo.push()
    with open_source(git_settings(remote_repo.url), environ=os.environ) as source:
        entry = source.checkout.root.parent
    (entry / "repo.git" / "refs" / "heads" / "main.lock").write_text("")
    (entry / "repo.git" / "packed-refs.lock").write_text("")
    (entry / "index.lock").write_text("")
    # ...and files the killed export wrote that the commit to check out next lacks.
    (entry / "tree" / "half-written.txt").write_text("from a commit never finished")
    second = remote_repo.work.commit("second", {"a": "2"})
    remote_repo.push()
    with open_source(git_settings(remote_repo.url), environ=os.environ) as source:
        assert source.checkout.sha == second
        assert (source.checkout.root / "a").read_text() == "2"
        assert not (source.checkout.root / "half-written.txt").exists()
