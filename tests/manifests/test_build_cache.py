"""What unchanged manifest files built is recalled by git object ID: an unchanged
repository is neither read, parsed nor listed again, and anything git does not vouch for
(an uncommitted or ignored file, a link, a filter, a problem) is built every time."""

from __future__ import annotations

import os
import pickle
from collections import Counter
from pathlib import Path

import pytest

from controller.manifests import DEFAULT_LIMITS, buildcache, load, sourcefiles, yamlcache
from controller.manifests.buildcache import BuildCache, file_name
from controller.manifests.loader import Loaded
from controller.model.trees import CommittedTree
from controller.settings import GitSettings
from controller.sources import open_source
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.manifests import MODEL, MODEL_METADATA

SCORER = {
    "models/scorer.yaml": MODEL,
    "models/scorer/custom.py": "def score(data, model):\n    return data\n",
    "models/scorer/model-metadata.yaml": MODEL_METADATA,
    "models/scorer/requirements.txt": "pandas\n",
}


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """What loading did: YAML files parsed, source folders listed, manifest files opened."""
    seen: Counter[str] = Counter()
    parse = yamlcache.parse_documents
    listing = sourcefiles.SourceLister._list

    def parsed(text: str, file: str, limits: object) -> object:
        seen["parse " + file] += 1
        return parse(text, file, limits)  # type: ignore[arg-type]

    def listed(self: sourcefiles.SourceLister, real: str, exclude: object) -> object:
        seen["list " + os.path.relpath(real, self.root)] += 1
        return listing(self, real, exclude)  # type: ignore[arg-type]

    monkeypatch.setattr(yamlcache, "parse_documents", parsed)
    monkeypatch.setattr(sourcefiles.SourceLister, "_list", listed)
    return seen


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """The cache folder of a test's runs."""
    return tmp_path / "cache"


def _tree(repo: GitRepo, cache: Path) -> CommittedTree | None:
    with open_source(GitSettings(repo=str(repo.path), cache_dir=cache), environ=os.environ) as src:
        return src.committed_tree()


def _load(repo: GitRepo, cache: Path) -> Loaded:
    return load(repo.path, cache_dir=cache, tree=_tree(repo, cache))


def _models(loaded: Loaded) -> list[str]:
    return [str(m.key) for m in loaded.state.models]


def test_an_unchanged_repository_is_neither_parsed_nor_listed_again(
    git_repo: GitRepo, cache: Path, work: Counter[str]
) -> None:
    git_repo.commit("models", SCORER)
    first = _load(git_repo, cache)
    assert not first.problems
    assert work["list models/scorer"] == 1
    work.clear()

    again = _load(git_repo, cache)

    assert again.state == first.state
    assert (again.files, again.manifests, again.problems) == (1, 1, ())
    assert not work  # nothing parsed, nothing listed


def test_without_a_tree_or_a_cache_folder_everything_is_built(
    git_repo: GitRepo, cache: Path, work: Counter[str]
) -> None:
    git_repo.commit("models", SCORER)
    tree = _tree(git_repo, cache)
    for _ in range(2):
        load(git_repo.path, cache_dir=cache)
        load(git_repo.path, tree=tree)
    assert work["list models/scorer"] == 4
    assert not list(cache.glob("desired-*"))


def test_an_uncommitted_change_in_a_source_folder_is_listed_again(
    git_repo: GitRepo, cache: Path, work: Counter[str]
) -> None:
    git_repo.commit("models", SCORER)
    first = _load(git_repo, cache)
    work.clear()
    git_repo.write({"models/scorer/custom.py": "def score(data, model):\n    return 2 * data\n"})

    changed = _load(git_repo, cache)

    assert work["list models/scorer"] == 1
    assert changed.state != first.state
    assert {f.path: f.size for f in changed.state.models[0].version.source.files}[  # type: ignore[union-attr]
        "custom.py"
    ] == len("def score(data, model):\n    return 2 * data\n")


def test_a_committed_change_to_a_manifest_is_built_and_the_others_recalled(
    git_repo: GitRepo, cache: Path, work: Counter[str]
) -> None:
    other = {k.replace("scorer", "other"): v for k, v in SCORER.items()}
    other["models/other.yaml"] = MODEL.replace("scorer", "other")
    git_repo.commit("models", {**SCORER, **other})
    _load(git_repo, cache)
    work.clear()
    git_repo.commit(
        "rename", {"models/other.yaml": other["models/other.yaml"].replace("label", "rate")}
    )

    changed = _load(git_repo, cache)

    # Its metadata file too: what the build cache holds is not kept twice (``forget``).
    assert sorted(work) == [
        "list models/other",
        "parse models/other.yaml",
        "parse models/other/model-metadata.yaml",
    ]
    assert _models(changed) == ["CustomModel/other", "CustomModel/scorer"]
    assert "'rate'" in str(changed.state.models[0].fields)
    work.clear()  # the file written then copied the unchanged entry's bytes: read them back
    assert _load(git_repo, cache).state == changed.state
    assert not work


def test_a_file_with_a_problem_is_built_every_time_and_its_problem_said_every_time(
    git_repo: GitRepo, cache: Path, work: Counter[str]
) -> None:
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{'a' * 64}\nsize 123456\n"
    git_repo.commit("models", {**SCORER, "models/scorer/weights.bin": pointer})
    first = _load(git_repo, cache)
    assert [p.severity for p in first.problems] == ["warning"]

    again = _load(git_repo, cache)

    assert again.problems == first.problems
    assert work["list models/scorer"] == 2


@pytest.mark.parametrize(
    "extra",
    ["---\n", "---\napiVersion: dr-gitops/v2\nkind: CustomModel\n", "---\n- a list\n"],
    ids=["empty", "apiVersion", "not-a-mapping"],
)
def test_a_file_with_a_bad_document_beside_a_good_one_is_said_every_time(
    git_repo: GitRepo, cache: Path, extra: str
) -> None:
    git_repo.commit("models", {**SCORER, "models/scorer.yaml": MODEL + extra})
    first = _load(git_repo, cache)
    assert first.errors

    assert _load(git_repo, cache).problems == first.problems


def test_names_used_twice_are_said_the_same_when_a_file_is_recalled(
    git_repo: GitRepo, cache: Path
) -> None:
    twice = MODEL + "---\n" + MODEL
    git_repo.commit("models", {**SCORER, "models/twice.yaml": twice})
    first = _load(git_repo, cache)
    assert any("already defined at models/scorer.yaml" in p.message for p in first.errors)

    assert _load(git_repo, cache).problems == first.problems


def test_a_source_folder_reached_through_a_link_is_listed_every_time(
    git_repo: GitRepo, cache: Path, work: Counter[str]
) -> None:
    git_repo.write(SCORER)
    os.symlink("scorer", git_repo.path / "models" / "linked")
    git_repo.commit(
        "models",
        {"models/scorer.yaml": MODEL.replace("source: ./scorer", "source: ./linked")},
    )
    assert not _load(git_repo, cache).errors
    assert not _load(git_repo, cache).errors
    assert work["list models/scorer"] == 2


def test_ignored_files_in_a_source_folder_keep_it_from_being_recalled(
    git_repo: GitRepo, cache: Path, work: Counter[str]
) -> None:
    git_repo.commit("models", {**SCORER, ".gitignore": "*.log\n"})
    git_repo.write({"models/scorer/debug.log": "x\n", "models/scorer/__pycache__/c.pyc": "x"})
    _load(git_repo, cache)
    _load(git_repo, cache)
    assert work["list models/scorer"] == 2

    (git_repo.path / "models" / "scorer" / "debug.log").unlink()
    _load(git_repo, cache)
    _load(git_repo, cache)  # __pycache__ is never listed: it does not count
    assert work["list models/scorer"] == 3


def test_a_repository_with_gitattributes_builds_every_time(
    git_repo: GitRepo, cache: Path, work: Counter[str]
) -> None:
    git_repo.commit("models", {**SCORER, ".gitattributes": "*.bin filter=lfs\n"})
    _load(git_repo, cache)
    _load(git_repo, cache)
    assert work["list models/scorer"] == 2


def test_a_damaged_cache_file_is_ignored_and_written_again(
    git_repo: GitRepo, cache: Path, work: Counter[str]
) -> None:
    git_repo.commit("models", SCORER)
    first = _load(git_repo, cache)
    stored = cache / file_name(git_repo.path)
    for damage in (stored.read_bytes()[:-40], b"not a pickle", b""):
        stored.write_bytes(damage)
        work.clear()
        assert _load(git_repo, cache).state == first.state
        assert work["list models/scorer"] == 1
    work.clear()
    assert _load(git_repo, cache).state == first.state
    assert not work


def test_a_cache_file_naming_anything_but_our_values_builds_nothing_from_it(
    git_repo: GitRepo, tmp_path: Path, cache: Path, work: Counter[str]
) -> None:
    git_repo.commit("models", SCORER)
    first = _load(git_repo, cache)
    stored = cache / file_name(git_repo.path)
    marker = tmp_path / "ran"
    hostile = _Hostile(str(marker))
    stamp = BuildCache(cache, git_repo.path, DEFAULT_LIMITS, (), None).stamp
    stored.write_bytes(pickle.dumps((stamp, 1)) + pickle.dumps(("models/scorer.yaml", hostile)))
    work.clear()

    assert _load(git_repo, cache).state == first.state
    assert not marker.exists()
    assert work["list models/scorer"] == 1


def test_another_controller_version_starts_from_an_empty_cache(
    git_repo: GitRepo, cache: Path, work: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    git_repo.commit("models", SCORER)
    _load(git_repo, cache)
    monkeypatch.setattr(buildcache, "_stamp_code", lambda: "another version")
    work.clear()
    _load(git_repo, cache)
    assert work["list models/scorer"] == 1


class _Hostile:
    """Unpickling this would run ``touch``: the cache's unpickler must refuse it."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.path}",))
