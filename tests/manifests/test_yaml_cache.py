"""Parsed YAML files are kept by content in the cache folder: an unchanged manifest or
metadata file is not parsed again, a changed one is, and a bad cache file is ignored."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from controller.manifests import DEFAULT_LIMITS, load, yamlcache
from controller.manifests.problems import Problem
from controller.manifests.yamlcache import YamlCache, file_name
from controller.manifests.yamlparser import Document
from tests.fixtures.manifests import MODEL, ManifestRepo


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files parsed (not read back from the cache), in order."""
    seen: list[str] = []
    original = yamlcache.parse_documents

    def counted(text: str, file: str, limits: object) -> object:
        seen.append(file)
        return original(text, file, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(yamlcache, "parse_documents", counted)
    return seen


def _state(root: Path, cache: Path) -> object:
    loaded = load(root, cache_dir=cache)
    assert not loaded.errors, loaded.errors
    return loaded.state


def test_an_unchanged_repository_is_not_parsed_again(
    manifest_repo: ManifestRepo, tmp_path: Path, parses: list[str]
) -> None:
    root, cache = manifest_repo.with_model().root, tmp_path / "cache"
    first = _state(root, cache)
    assert sorted(parses) == ["models/scorer.yaml", "models/scorer/model-metadata.yaml"]
    parses.clear()

    assert _state(root, cache) == first
    assert parses == []


def test_a_changed_file_is_parsed_again_and_its_new_content_counts(
    manifest_repo: ManifestRepo, tmp_path: Path, parses: list[str]
) -> None:
    root, cache = manifest_repo.with_model().root, tmp_path / "cache"
    _state(root, cache)
    parses.clear()
    manifest_repo.write(
        {"models/scorer.yaml": MODEL.replace("targetName: label", "targetName: rate")}
    )

    state = _state(root, cache)
    assert parses == ["models/scorer.yaml"]
    assert "'rate'" in str(state)


def test_a_damaged_cache_file_is_ignored_and_written_again(
    manifest_repo: ManifestRepo, tmp_path: Path, parses: list[str]
) -> None:
    root, cache = manifest_repo.with_model().root, tmp_path / "cache"
    first = _state(root, cache)
    stored = cache / file_name(root)
    for damage in (stored.read_bytes()[:-40], b"not marshal at all", b""):
        stored.write_bytes(damage)
        parses.clear()
        assert _state(root, cache) == first
        assert len(parses) == 2
    parses.clear()
    assert _state(root, cache) == first
    assert parses == []  # written again, whole


def test_the_cache_keeps_only_what_the_last_run_read(
    manifest_repo: ManifestRepo, tmp_path: Path
) -> None:
    root, cache = manifest_repo.with_model().root, tmp_path / "cache"
    manifest_repo.write({"models/other.yaml": MODEL.replace("name: scorer", "name: other")})
    load(root, cache_dir=cache)
    (root / "models" / "other.yaml").unlink()
    load(root, cache_dir=cache)

    kept = YamlCache(cache, root, DEFAULT_LIMITS)
    kept._load()
    assert sorted(file for file, _ in kept._stored) == [
        "models/scorer.yaml",
        "models/scorer/model-metadata.yaml",
    ]


def test_a_file_with_a_value_the_cache_cannot_hold_is_parsed_every_time(
    manifest_repo: ManifestRepo, tmp_path: Path, parses: list[str]
) -> None:
    root, cache = manifest_repo.with_model().root, tmp_path / "cache"
    manifest_repo.write({"notes.yaml": "when: 2024-01-01\n"})  # a date: not a manifest
    manifest_repo.write({"models/scorer/model-metadata.yaml": _METADATA_WITH_DATE})
    _state(root, cache)
    parses.clear()
    _state(root, cache)
    assert parses == ["models/scorer/model-metadata.yaml"]


def test_without_a_cache_folder_nothing_is_written(
    manifest_repo: ManifestRepo, tmp_path: Path
) -> None:
    root = manifest_repo.with_model().root
    load(root)
    assert not list(tmp_path.rglob("yaml-documents-*"))


_METADATA_WITH_DATE = """\
name: scorer
type: inference
targetType: binary
released: 2024-01-01
runtimeParameterDefinitions:
  - {fieldName: THRESHOLD, type: numeric, defaultValue: 0.5}
"""


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """What loading did rather than read back from the cache: files parsed, documents put
    in the API's spelling, documents checked against the schema, metadata files read from
    the disk."""
    seen: dict[str, list[str]] = {"parse": [], "spell": [], "schema": [], "read": []}
    parse, spell, schema = (
        yamlcache.parse_documents,
        yamlcache.with_api_spelling,
        yamlcache.check_schema,
    )
    read_bytes = Path.read_bytes

    def parsed(text: str, file: str, limits: object) -> object:
        seen["parse"].append(file)
        return parse(text, file, limits)  # type: ignore[arg-type]

    def spelled(kind: str, document: Document) -> Document:
        seen["spell"].append(document.file)
        return spell(kind, document)

    def checked(kind: str, document: Document) -> list[Problem]:
        seen["schema"].append(document.file)
        return schema(kind, document)

    def read(path: Path) -> bytes:
        if path.name in ("model-metadata.yaml", "metadata.yaml"):
            seen["read"].append(path.name)
        return read_bytes(path)

    monkeypatch.setattr(yamlcache, "parse_documents", parsed)
    monkeypatch.setattr(yamlcache, "with_api_spelling", spelled)
    monkeypatch.setattr(yamlcache, "check_schema", checked)
    monkeypatch.setattr(Path, "read_bytes", read)
    return seen


def _clear(work: dict[str, list[str]]) -> None:
    for calls in work.values():
        calls.clear()


def test_a_second_load_of_an_unchanged_repository_parses_and_validates_nothing(
    manifest_repo: ManifestRepo, tmp_path: Path, work: dict[str, list[str]]
) -> None:
    root, cache = manifest_repo.with_model().with_job().root, tmp_path / "cache"
    first = _state(root, cache)
    assert sorted(work["schema"]) == ["jobs/worker.yaml", "models/scorer.yaml"]
    assert work["read"] == []  # the metadata files were read once, by the manifest search
    _clear(work)

    assert _state(root, cache) == first
    assert work == {"parse": [], "spell": [], "schema": [], "read": []}


def test_a_changed_manifest_is_validated_again_and_the_others_are_not(
    manifest_repo: ManifestRepo, tmp_path: Path, work: dict[str, list[str]]
) -> None:
    root, cache = manifest_repo.with_model().with_job().root, tmp_path / "cache"
    _state(root, cache)
    _clear(work)
    manifest_repo.write(
        {"models/scorer.yaml": MODEL.replace("targetType: Binary", "targetType: binary")}
    )

    state = _state(root, cache)
    assert work["parse"] == work["spell"] == work["schema"] == ["models/scorer.yaml"]
    assert "'Binary'" in str(state)  # spelled as the API spells it, read back or not
    _clear(work)
    assert _state(root, cache) == state
    assert work["schema"] == []


def test_problems_read_back_from_the_cache_are_the_same(
    manifest_repo: ManifestRepo, tmp_path: Path, work: dict[str, list[str]]
) -> None:
    root, cache = manifest_repo.with_model().root, tmp_path / "cache"
    manifest_repo.write(
        {
            "models/scorer.yaml": MODEL.replace(
                "targetName: label", "targetName: label\n  colour: red"
            )
        }
    )
    first = load(root, cache_dir=cache).problems
    assert any("colour" in str(p) for p in first)
    assert work["schema"] == ["models/scorer.yaml"]
    _clear(work)

    assert load(root, cache_dir=cache).problems == first
    assert work["schema"] == []


def test_another_controller_version_does_not_read_this_ones_cache(
    manifest_repo: ManifestRepo,
    tmp_path: Path,
    work: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, cache = manifest_repo.with_model().root, tmp_path / "cache"
    first = _state(root, cache)
    _clear(work)
    monkeypatch.setattr(yamlcache, "code_version", lambda: "another controller")

    assert _state(root, cache) == first
    assert sorted(work["parse"]) == ["models/scorer.yaml", "models/scorer/model-metadata.yaml"]
    assert work["schema"] == ["models/scorer.yaml"]


def test_a_cache_file_of_the_earlier_format_is_read_as_empty_and_replaced(
    manifest_repo: ManifestRepo, tmp_path: Path, work: dict[str, list[str]]
) -> None:
    root, cache = manifest_repo.with_model().root, tmp_path / "cache"
    first = _state(root, cache)
    stored = cache / file_name(root)
    stored.write_bytes(marshal.dumps(((1, marshal.version), {})))  # (stamp, entries)
    _clear(work)

    assert _state(root, cache) == first
    assert work["schema"] == ["models/scorer.yaml"]
    _clear(work)
    assert _state(root, cache) == first
    assert work["schema"] == []
