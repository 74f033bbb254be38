"""Many models recorded at many different commits: a few git processes, the same answers."""

from __future__ import annotations

import os
from pathlib import Path

from controller.settings import GitSettings
from controller.sources import ChangedPaths, UnknownChanges, open_source
from tests.fixtures.gitrepos import GitRepo


def _history(repo: GitRepo, commits: int) -> list[str]:
    shas = []
    for index in range(commits):
        shas.append(repo.commit(f"change {index}", {f"models/m{index % 7}/file.py": f"v{index}\n"}))
    return shas


def test_fifty_distinct_recorded_commits_cost_a_handful_of_git_processes(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    shas = _history(git_repo, 50)
    settings = GitSettings(repo=str(git_repo.path), cache_dir=tmp_path / "cache")
    with open_source(settings, environ=os.environ) as source:
        before = source.git_calls
        many = source.changed_paths_many(shas)
        cost = source.git_calls - before
    assert cost <= 5, cost
    with open_source(settings, environ=os.environ) as source:
        one_by_one = {sha: source.changed_paths(sha) for sha in shas}
    assert set(many) == set(shas)
    for sha in shas:
        assert isinstance(many[sha], ChangedPaths)
        assert many[sha].changes == one_by_one[sha].changes  # type: ignore[union-attr]
    assert many[shas[-1]].changes == ()  # type: ignore[union-attr]


def test_commits_off_the_branch_are_unknown_in_the_batch_too(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    shas = _history(git_repo, 5)
    git_repo.git("checkout", "-q", "-b", "side")
    side = _history(git_repo, 3)
    git_repo.git("checkout", "-q", "main")
    settings = GitSettings(repo=str(git_repo.path), cache_dir=tmp_path / "cache")
    with open_source(settings, environ=os.environ) as source:
        answers = source.changed_paths_many(shas + side + ["f" * 40])
    assert all(isinstance(answers[s], ChangedPaths) for s in shas)
    assert all(isinstance(answers[s], UnknownChanges) for s in side)
    assert isinstance(answers["f" * 40], UnknownChanges)
