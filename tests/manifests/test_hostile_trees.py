"""Trees a pull request can plant to stall or crash validation: patterns that make a
backtracking matcher take minutes, folders nested past Python's recursion limit."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from controller.cli import main
from controller.manifests import ManifestLimits, load
from tests.fixtures.manifests import MODEL, ManifestRepo

SLOW_PATTERN = "*a" * 12 + "*b"  # Python's re: minutes per name below; RE2: microseconds


@pytest.fixture
def nest() -> Iterator[Callable[[Path, int], None]]:
    """Makes ``top/d/d/.../d`` ``depth`` levels deep without recursion (``os.makedirs``
    recurses and fails at this depth), and removes it afterwards the same way: pytest's own
    clean-up of old temporary folders (``shutil.rmtree``) recurses, and would fail on it."""
    made: list[Path] = []

    def make(top: Path, depth: int) -> None:
        here = os.open(top, os.O_RDONLY)
        made.append(top)
        try:
            for _ in range(depth):
                os.mkdir("d", dir_fd=here)
                inner = os.open("d", os.O_RDONLY, dir_fd=here)
                os.close(here)
                here = inner
            for name in ("f.txt", "deep.yaml"):
                os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=here))
        finally:
            os.close(here)

    yield make
    for top in made:
        _unnest(top)


def _unnest(top: Path) -> None:
    fds = [os.open(top, os.O_RDONLY)]
    try:
        while True:
            try:
                fds.append(os.open("d", os.O_RDONLY, dir_fd=fds[-1]))
            except FileNotFoundError:
                break
        while len(fds) > 1:
            here = fds.pop()
            for name in os.listdir(here):
                os.unlink(name, dir_fd=here)
            os.close(here)
            os.rmdir("d", dir_fd=fds[-1])
    finally:
        for fd in fds:
            os.close(fd)


def _validate_within(root: Path, seconds: float) -> subprocess.CompletedProcess[str]:
    """``dr-gitops validate root`` in a subprocess, killed after ``seconds`` (a generous
    bound: the point is a run that does not end, not a speed figure; a thread would not do,
    since a backtracking match holds the GIL)."""
    return subprocess.run(
        [sys.executable, "-c", _CLI, "validate", str(root)],
        capture_output=True,
        text=True,
        timeout=seconds,
        check=False,
    )


_CLI = "import sys; from controller.cli import main; sys.exit(main(sys.argv[1:]))"


def test_an_exclude_pattern_made_to_backtrack_does_not_stall_validation(
    manifest_repo: ManifestRepo,
) -> None:
    manifest = MODEL.replace(
        "source: ./scorer", f"source: ./scorer\n    exclude: ['{SLOW_PATTERN}']"
    )
    manifest_repo.with_model(manifest)
    for length in (40, 41, 42):
        (manifest_repo.root / "models" / "scorer" / ("a" * length)).write_text("x")
    # Before the fix this ran for minutes (12 `*a` segments against 40-character names).
    done = _validate_within(manifest_repo.root, 10.0)
    assert done.returncode == 0, done.stdout + done.stderr
    model = manifest_repo.load().state.models[0]
    assert model.version is not None
    assert "a" * 40 in {f.path for f in model.version.source.files}  # no `b`: not excluded


def test_exclude_patterns_still_follow_gitignore_rules(manifest_repo: ManifestRepo) -> None:
    manifest = MODEL.replace(
        "source: ./scorer", "source: ./scorer\n    exclude: ['tests/', '*.csv', '!keep.csv']"
    )
    manifest_repo.with_model(manifest).write(
        {
            "models/scorer/tests/test_a.py": "x",
            "models/scorer/data/a.csv": "x",
            "models/scorer/data/keep.csv": "x",
        }
    )
    loaded = manifest_repo.load()
    files = {f.path for f in loaded.state.models[0].version.source.files}  # type: ignore[union-attr]
    assert "data/keep.csv" in files
    assert "data/a.csv" not in files
    assert not any(f.startswith("tests/") for f in files)


def test_a_posix_class_re2_refuses_is_a_problem_not_a_crash(manifest_repo: ManifestRepo) -> None:
    manifest = MODEL.replace("source: ./scorer", "source: ./scorer\n    exclude: ['[[:alpha:]]']")
    errors = [str(p) for p in manifest_repo.with_model(manifest).errors()]
    assert any("spec.version.exclude[0]" in e and "is not valid" in e for e in errors), errors


def test_a_folder_nested_1200_deep_is_a_clear_problem_not_a_recursion_error(
    manifest_repo: ManifestRepo, nest: Callable[[Path, int], None], capsys
) -> None:
    manifest_repo.with_model()
    nest(manifest_repo.root, 1200)
    loaded = manifest_repo.load()
    errors = [str(p) for p in loaded.errors]
    assert any("nested more than 100 folders deep" in e for e in errors), errors
    assert main(["validate", str(manifest_repo.root)]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    assert "nested more than 100 folders deep" in out.out + out.err


def test_a_source_folder_nested_1200_deep_is_a_clear_problem(
    manifest_repo: ManifestRepo, nest: Callable[[Path, int], None]
) -> None:
    manifest_repo.with_model()
    nest(manifest_repo.root / "models" / "scorer", 1200)
    errors = [str(p) for p in manifest_repo.errors()]
    assert any(
        "models/scorer.yaml" in e and "spec.version.source" in e and "folders deep" in e
        for e in errors
    ), errors


def test_the_depth_limit_is_a_setting(
    manifest_repo: ManifestRepo, nest: Callable[[Path, int], None]
) -> None:
    manifest_repo.with_model()
    nest(manifest_repo.root / "models" / "scorer", 3)
    assert not load(manifest_repo.root, limits=ManifestLimits(max_folder_depth=5)).errors
    shallow = load(manifest_repo.root, limits=ManifestLimits(max_folder_depth=2)).errors
    assert shallow


def test_listing_a_source_folder_has_a_time_limit(manifest_repo: ManifestRepo) -> None:
    manifest_repo.with_model()
    limits = ManifestLimits(max_listing_seconds=0.0)
    errors = [str(p) for p in load(manifest_repo.root, limits=limits).errors]
    assert any("took longer than 0 s" in e for e in errors), errors
