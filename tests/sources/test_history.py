"""History questions: changed paths between commits, ancestry, missing commits, blob SHAs."""

from __future__ import annotations

import os
from pathlib import Path

from controller.sources import (
    ChangedPaths,
    PathChange,
    UnknownChanges,
    git_blob_sha1,
    open_source,
)
from tests.fixtures.gitrepos import GitRepo, RemoteRepo
from tests.sources.conftest import MakeSettings

MISSING = "0123456789abcdef0123456789abcdef01234567"


def test_changed_paths_report_additions_modifications_and_deletions(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    base = git_repo.commit("base", {"m/a.py": "a", "m/b.py": "b", "m/c.py": "c"})
    git_repo.remove("m/c.py")
    git_repo.commit("change", {"m/a.py": "a2", "m/new.py": "n"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        changes = source.changed_paths(base)
    assert isinstance(changes, ChangedPaths)
    assert changes.changes == (
        PathChange("m/a.py", "modified"),
        PathChange("m/c.py", "deleted"),
        PathChange("m/new.py", "added"),
    )
    assert changes.added == {"m/new.py"}
    assert changes.modified == {"m/a.py"}
    assert changes.deleted == {"m/c.py"}


def test_a_rename_is_a_deletion_plus_an_addition(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    base = git_repo.commit("base", {"m/old_name.py": "same content\n" * 20})
    git_repo.git("mv", "m/old_name.py", "m/new_name.py")
    git_repo.commit("rename")
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        changes = source.changed_paths(base)
    assert isinstance(changes, ChangedPaths)
    assert changes.changes == (
        PathChange("m/new_name.py", "added"),
        PathChange("m/old_name.py", "deleted"),
    )


def test_a_mode_only_change_is_no_change_alone_or_in_a_batch(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    bases = [
        git_repo.commit(f"base {n}", {"m/run.sh": "#!/bin/sh\n", f"m/{n}.py": "x"})
        for n in range(3)
    ]
    (git_repo.path / "m/run.sh").chmod(0o755)
    git_repo.commit("mode", {"m/edited.py": "new"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        alone = source.changed_paths(bases[-1])
        batch = source.changed_paths_many(bases)
    assert isinstance(alone, ChangedPaths)
    assert alone.changes == (PathChange("m/edited.py", "added"),)
    for base in bases:
        answer = batch[base]
        assert isinstance(answer, ChangedPaths)
        assert "m/run.sh" not in answer.paths
        assert "m/edited.py" in answer.paths


def test_files_at_reads_many_files_of_many_commits_in_one_process(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    first = git_repo.commit("one", {"a.yaml": "one\n"})
    second = git_repo.commit("two", {"a.yaml": "two\n", "b.yaml": "b\n"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        calls = source.git_calls
        found = source.files_at([(first, "a.yaml"), (second, "a.yaml"), (first, "b.yaml")])
        assert source.git_calls == calls + 1
    assert found == {
        (first, "a.yaml"): b"one\n",
        (second, "a.yaml"): b"two\n",
        (first, "b.yaml"): None,
    }


def test_prefixes_limit_the_answer_to_folders_and_files(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    base = git_repo.commit("base", {"models/a/x.py": "1", "models/ab/y.py": "1", "top.yaml": "1"})
    git_repo.commit("all", {"models/a/x.py": "2", "models/ab/y.py": "2", "top.yaml": "2"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        only_a = source.changed_paths(base, prefixes=["models/a"])
        file_and_folder = source.changed_paths(base, prefixes=["top.yaml", "models/ab/"])
        everything = source.changed_paths(base, prefixes=["."])
    assert isinstance(only_a, ChangedPaths)
    assert only_a.paths == {"models/a/x.py"}
    assert isinstance(file_and_folder, ChangedPaths)
    assert file_and_folder.paths == {"top.yaml", "models/ab/y.py"}
    assert isinstance(everything, ChangedPaths)
    assert len(everything.paths) == 3


def test_a_thousand_models_recorded_at_one_commit_cost_one_diff(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    files = {f"models/m{i:04d}/custom.py": f"v1 {i}" for i in range(1000)}
    base = git_repo.commit("base", files)
    git_repo.commit("one change", {"models/m0007/custom.py": "v2"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        before = source.git_calls
        answers = [source.changed_paths(base, prefixes=[f"models/m{i:04d}"]) for i in range(1000)]
        spent = source.git_calls - before
        commands = source.git_commands
    changed = [a for a in answers if isinstance(a, ChangedPaths) and not a.is_empty]
    assert len(changed) == 1
    assert changed[0].paths == {"models/m0007/custom.py"}
    # One diff for all 1,000 questions, plus one ancestry check for the recorded commit.
    assert commands["diff-tree"] == 1
    assert commands["merge-base"] == 1
    assert spent == 2


def test_without_the_ancestry_check_the_diff_is_the_only_subprocess(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    base = git_repo.commit("base", {f"m{i}/f.py": "1" for i in range(50)})
    git_repo.commit("change", {"m3/f.py": "2"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        before = source.git_calls
        for i in range(1000):
            source.changed_paths(base, prefixes=[f"m{i % 50}"], require_ancestor=False)
        assert source.git_calls - before == 1


def test_a_commit_missing_without_a_remote_is_unknown_not_an_error(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    git_repo.commit("base", {"a": "1"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        answer = source.changed_paths(MISSING)
        assert isinstance(answer, UnknownChanges)
        assert "not found" in answer.reason
        assert not source.has_commit(MISSING)
        assert not source.is_ancestor(MISSING)
        assert source.commit(MISSING) is None
        unfiltered = source.changed_paths(MISSING, require_ancestor=False)
        assert isinstance(unfiltered, UnknownChanges)


def test_a_force_pushed_history_makes_the_recorded_commit_unknown(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    work = remote_repo.work
    work.commit("base", {"m/a.py": "1"})
    recorded = work.commit("recorded", {"m/a.py": "2"})
    remote_repo.push()
    work.git("reset", "-q", "--hard", "HEAD~1")
    rewritten = work.commit("rewritten", {"m/a.py": "3"})
    remote_repo.push(force=True)
    ci = remote_repo.clone(work.path.parent / "ci")  # a fresh checkout after the force push
    with open_source(git_settings(ci.path), environ=os.environ) as source:
        assert source.checkout.sha == rewritten
        answer = source.changed_paths(recorded)
        assert isinstance(answer, UnknownChanges)
        assert "not an ancestor" in answer.reason
        # The commit itself could still be fetched by SHA, and a plain tree diff is exact.
        assert source.has_commit(recorded)
        assert not source.is_ancestor(recorded)
        tree_diff = source.changed_paths(recorded, require_ancestor=False)
        assert isinstance(tree_diff, ChangedPaths)
        assert tree_diff.paths == {"m/a.py"}


def test_a_shallow_clone_fetches_the_recorded_commit_before_answering(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    work = remote_repo.work
    recorded = work.commit("recorded", {"m/a.py": "1", "m/b.py": "1", "other/c.py": "1"})
    for n in range(5):
        work.commit(f"unrelated {n}", {"other/c.py": str(n + 2)})
    work.commit("model change", {"m/a.py": "2"})
    remote_repo.push()
    ci = remote_repo.clone(work.path.parent / "ci", depth=1)
    assert (ci.path / ".git" / "shallow").exists()
    assert ci.git("cat-file", "-t", "HEAD") == "commit"
    with open_source(git_settings(ci.path), environ=os.environ) as source:
        assert source.checkout.shallow
        answer = source.changed_paths(recorded, prefixes=["m"])
        assert isinstance(answer, ChangedPaths)
        assert answer.changes == (PathChange("m/a.py", "modified"),)
        assert source.is_ancestor(recorded)
        assert source.git_commands["fetch"] == 1


def test_a_deepen_that_is_not_enough_still_gets_the_commit_by_sha(
    remote_repo: RemoteRepo, git_settings: MakeSettings
) -> None:
    work = remote_repo.work
    recorded = work.commit("recorded", {"m/a.py": "1"})
    for n in range(4):
        work.commit(f"c{n}", {"m/a.py": str(n + 2)})
    remote_repo.push()
    ci = remote_repo.clone(work.path.parent / "ci", depth=1)
    with open_source(git_settings(ci.path, fetch_deepen=1), environ=os.environ) as source:
        # Present after fetching by SHA, but its ancestry is beyond the shallow boundary.
        answer = source.changed_paths(recorded)
        assert isinstance(answer, UnknownChanges)
        exact = source.changed_paths(recorded, require_ancestor=False)
        assert isinstance(exact, ChangedPaths)
        assert exact.paths == {"m/a.py"}


def test_prefetch_checks_many_recorded_commits_at_once(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    shas = [git_repo.commit(f"c{n}", {"a": str(n)}) for n in range(5)]
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        before = source.git_calls
        source.prefetch([*shas, MISSING] * 100)
        assert source.git_calls - before == 1
        assert all(source.has_commit(s) for s in shas)
        assert not source.has_commit(MISSING)
        assert source.git_calls - before == 1


def test_blob_shas_list_every_file_once_and_match_the_pure_hash(
    git_repo: GitRepo, git_settings: MakeSettings, tmp_path: Path
) -> None:
    content = {"m/a.py": "print('a')\n", "m/sub/b.bin": b"\x00\x01binary", "top.yaml": "x: 1\n"}
    sha = git_repo.commit("files", content)
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        blobs = source.blob_shas()
        under_m = source.blob_shas(sha, prefixes=["m"])
        calls = source.git_calls
        source.blob_shas(prefixes=["top.yaml"])
        assert source.git_calls == calls  # cached
    assert set(blobs) == set(content)
    for path, data in content.items():
        raw = data.encode() if isinstance(data, str) else data
        assert blobs[path] == git_blob_sha1(raw)
        assert blobs[path] == git_repo.git("hash-object", path)
    assert set(under_m) == {"m/a.py", "m/sub/b.bin"}


def test_commit_facts_name_parents_of_a_merge(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    base = git_repo.commit("base", {"a": "1"})
    git_repo.git("checkout", "-q", "-b", "feature")
    feature = git_repo.commit("feature", {"b": "1"})
    git_repo.git("checkout", "-q", "main")
    main = git_repo.commit("main moves", {"c": "1"})
    git_repo.git("merge", "-q", "--no-ff", "-m", "Merge feature\n\nbody", "feature")
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        merge = source.checkout.commit
        assert merge.parents == (main, feature)
        assert merge.is_merge
        assert merge.subject == "Merge feature"
        assert source.is_ancestor(base)
        assert source.is_ancestor(feature)
        assert not source.is_ancestor(merge.sha, base)
        info = source.commit(feature)
        assert info is not None
        assert info.parents == (base,)


def test_a_model_recorded_at_the_checked_out_commit_costs_no_git_call(
    git_repo: GitRepo, git_settings: MakeSettings
) -> None:
    git_repo.commit("base", {"m/a.py": "1"})
    with open_source(git_settings(git_repo.path), environ=os.environ) as source:
        before = source.git_calls
        answer = source.changed_paths(source.checkout.sha, prefixes=["m"])
        assert isinstance(answer, ChangedPaths)
        assert answer.is_empty
        assert source.is_ancestor(source.checkout.sha)
        assert source.git_calls == before
