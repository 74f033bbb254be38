"""Hostile manifests and source trees never crash loading or validation, never make a file
outside the repository part of a model or job, and never put a stack trace in front of a
user of ``dr-gitops validate``.

Hypothesis draws manifests (valid ones with hostile values swapped in: path traversal and
symbolic links in ``source``/``entryPoint``, odd ``exclude`` patterns, wrong types), raw
YAML built from dangerous snippets (tags that would run code, alias bombs, deep nesting,
NULs) and raw bytes, into a tree full of traps (see :mod:`tests.reliability.hostile`).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import threading
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.cli import main
from controller.manifests import (
    DEFAULT_LIMITS,
    ManifestError,
    ManifestLimits,
    load,
    load_desired_state,
    validate_tree,
)
from controller.model.desired import DesiredState, Source
from tests.fixtures.reliability import Figures
from tests.reliability.hostile import (
    SECRET,
    build_tree,
    manifest_text,
    manifests,
    yaml_bytes,
    yaml_texts,
)

FILES = st.lists(
    st.tuples(
        st.sampled_from(["m.yaml", "a/b/m.yml", "src/inner.yaml", "x.yaml"]),
        manifests().map(manifest_text) | yaml_texts | yaml_bytes,
    ),
    min_size=1,
    max_size=3,
)


def check_tree(files: list[tuple[str, str | bytes]], counts: Counter[str]) -> None:
    """The properties, on one drawn tree."""
    with tempfile.TemporaryDirectory() as top:
        root = build_tree(Path(top))
        for rel, content in files:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
            target.write_bytes(data)
        loaded = load(root)  # must not raise
        counts["cases"] += 1
        counts["problems"] += len(loaded.problems)
        counts["valid states"] += not loaded.errors and bool(loaded.manifests)
        for problem in loaded.problems:
            assert isinstance(str(problem), str)
            assert problem.to_json()
        counts["source files checked"] += _assert_inside(root, loaded.state)
        assert validate_tree(root) == list(loaded.problems)
        try:
            load_desired_state(root)
        except ManifestError:
            counts["refused"] += 1


def _assert_inside(root: Path, state: DesiredState) -> int:
    """Every file of every model and job is inside the repository; returns how many."""
    real_root, checked = os.path.realpath(root), 0
    holders: list[tuple[Source | None, str | None]] = [
        (m.version.source if m.version else None, None) for m in state.models
    ] + [(j.source, j.entry_point) for j in state.jobs]
    for source, entry in holders:
        for file in source.files if source is not None else ():
            assert not os.path.isabs(file.path), file
            assert ".." not in Path(file.path).parts, file
            real = os.path.realpath(root / file.repo_path)
            assert real.startswith(real_root + os.sep), f"{file} resolves outside: {real}"
            assert SECRET not in Path(real).read_text(errors="replace")
            checked += 1
        if entry is not None and source is not None:
            assert entry in source.paths(), f"entry point {entry!r} is not one of the files"
    return checked


def _run_property(max_examples: int, *, derandomize: bool) -> Counter[str]:
    counts: Counter[str] = Counter()

    @settings(
        max_examples=max_examples,
        derandomize=derandomize,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(FILES)
    def run(files: list[tuple[str, str | bytes]]) -> None:
        check_tree(files, counts)

    run()
    return counts


def test_hostile_trees_load_into_problems_never_crashes(figures: Figures) -> None:
    counts = _run_property(200, derandomize=True)
    figures(f"manifest fuzz: {dict(counts)}")
    assert counts["cases"] >= 200


@pytest.mark.slow
def test_hostile_trees_load_into_problems_never_crashes_long(figures: Figures) -> None:
    counts = _run_property(5000, derandomize=False)
    figures(f"manifest fuzz (long): {dict(counts)}")
    assert counts["cases"] >= 5000


# --- the command line --------------------------------------------------------------------


def _validate(path: Path, *extra: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path), *extra])
    return code, out.getvalue() + err.getvalue()


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(FILES, st.sampled_from(["text", "json"]))
def test_validate_answers_hostile_trees_with_problems_not_stack_traces(
    files: list[tuple[str, str | bytes]], output: str
) -> None:
    with tempfile.TemporaryDirectory() as top:
        root = build_tree(Path(top))
        for rel, content in files:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
            target.write_bytes(data)
        code, text = _validate(root, "--output", output)
    assert code in (0, 1)
    assert "Traceback" not in text
    assert SECRET not in text


def _bombs() -> dict[str, bytes]:
    header = "apiVersion: dr-gitops/v1\nkind: CustomModel\n"
    laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
    )
    return {
        "billion-laughs.yaml": (header + laughs).encode(),
        "deep.yaml": (header + "spec: " + "[" * 20000 + "]" * 20000 + "\n").encode(),
        "deep-map.yaml": (header + "spec: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n").encode(),
        "many-docs.yaml": (header + "---\n" * 5000).encode(),
        "huge.yaml": header.encode()
        + b"spec: {description: '"
        + b"x" * (3 * 1024 * 1024)
        + b"'}\n",
        "long-line.yaml": (header + "metadata: {name: " + "m" * 900_000 + "}\n").encode(),
        "many-keys.yaml": (
            header + "spec:\n" + "".join(f"  k{i}: {i}\n" for i in range(5_000))
        ).encode(),
        "utf16.yaml": "\ufeff".encode("utf-16-le") + header.encode("utf-16-le"),
        "nul.yaml": header.encode() + b"metadata: {name: \x00}\n",
        "latin1.yaml": header.encode() + b"metadata: {name: caf\xe9}\n",
        "python-tag.yaml": (
            header + "spec: !!python/object/apply:os.system ['touch /tmp/pwned-dr-gitops']\n"
        ).encode(),
    }


def test_bombs_and_huge_manifests_are_refused_quickly_and_cleanly(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    for name, content in _bombs().items():
        (root / name).write_bytes(content)
    code, text = _validate(root)
    assert code == 1
    assert "Traceback" not in text
    for name in _bombs():
        assert name in text, f"{name} is not reported:\n{text[:3000]}"
    assert not Path("/tmp/pwned-dr-gitops").exists()


def test_huge_and_sparse_source_files_are_problems_not_reads(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    with (root / "src" / "huge.bin").open("wb") as handle:
        handle.truncate(DEFAULT_LIMITS.max_file_bytes + 1)  # sparse: no disk, no read
    (root / "m.yaml").write_text(
        "apiVersion: dr-gitops/v1\nkind: CustomModel\nmetadata: {name: m}\nspec:\n"
        "  targetType: Regression\n  targetName: y\n"
        "  version: {source: ./src, baseEnvironmentId: 64d2ba178dd3f0b1fa2162f0}\n"
    )
    problems = [str(p) for p in validate_tree(root)]
    assert any("huge.bin" in p for p in problems), problems
    limits = ManifestLimits(max_source_files=5, warn_source_files=2)
    for index in range(8):
        (root / "src" / f"f{index}.txt").write_text(str(index))
    problems = [str(p) for p in validate_tree(root, limits=limits)]
    assert any("files" in p and "at most 5" in p for p in problems), problems


def test_a_named_pipe_called_yaml_does_not_hang_validate(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    pipe = root / "evil.yaml"
    os.mkfifo(pipe)
    (root / "m.yaml").write_text("apiVersion: dr-gitops/v1\nkind: CustomModel\n")
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(validate_tree(root)), daemon=True)
    worker.start()
    worker.join(1.5)
    hung = worker.is_alive()
    if hung:  # unblock the reader: a writer that opens and closes the pipe means EOF
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(5)
    assert not hung, "validating hung on a named pipe called evil.yaml"
    assert outcome


@pytest.mark.parametrize("value", ["!!timestamp nope", "!!int abc", "!!float xyz", "!!bool maybe"])
def test_typed_scalars_that_cannot_be_read_are_problems(tmp_path: Path, value: str) -> None:
    root = build_tree(tmp_path)
    (root / "m.yaml").write_text(
        f"apiVersion: dr-gitops/v1\nkind: CustomModel\nmetadata: {{name: m}}\n"
        f"spec: {{description: {value}}}\n"
    )
    problems = [str(p) for p in validate_tree(root)]
    assert any("m.yaml:4" in p for p in problems), problems


def test_a_link_to_a_named_pipe_is_not_a_source_file(tmp_path: Path) -> None:
    root = build_tree(tmp_path)
    (root / "pipes").mkdir()
    os.mkfifo(root / "pipes" / "p")
    os.symlink("../pipes/p", root / "src" / "data.bin")
    (root / "m.yaml").write_text(
        "apiVersion: dr-gitops/v1\nkind: CustomModel\nmetadata: {name: m}\nspec:\n"
        "  targetType: Regression\n  targetName: y\n"
        "  version: {source: ./src, baseEnvironmentId: 64d2ba178dd3f0b1fa2162f0}\n"
    )
    loaded = load(root)
    listed = [f.path for m in loaded.state.models if m.version for f in m.version.source.files]
    assert "data.bin" not in listed
    assert any("data.bin" in str(p) for p in loaded.problems), loaded.problems
