"""The export folder: what counts as empty, and files that stay inside their folder."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from controller.engine.export.folder import (
    UnsafePathError,
    check_out_dir,
    extract_items,
    safe_relative,
)
from controller.errors import ConfigError


def test_a_missing_folder_or_one_holding_only_git_counts_as_empty(tmp_path: Path) -> None:
    check_out_dir(tmp_path / "new", force=False)
    (tmp_path / "repo/.git").mkdir(parents=True)
    check_out_dir(tmp_path / "repo", force=False)


def test_a_folder_with_files_needs_force(tmp_path: Path) -> None:
    for n in range(7):
        (tmp_path / f"f{n}").write_text("x")

    with pytest.raises(ConfigError, match=r"holds f0, f1, f2, f3, f4 and 2 more"):
        check_out_dir(tmp_path, force=False)
    check_out_dir(tmp_path, force=True)


def test_a_file_is_not_a_folder_to_export_into(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")

    with pytest.raises(ConfigError, match="is a file"):
        check_out_dir(tmp_path / "out", force=True)


@pytest.mark.parametrize(
    "path", ["../evil.py", "/etc/passwd", "a/../../b", "", ".", "C:/x", "..\\evil"]
)
def test_paths_that_leave_the_folder_are_refused(path: str) -> None:
    with pytest.raises(UnsafePathError):
        safe_relative(path)


def test_clean_relative_paths_are_kept() -> None:
    assert safe_relative("./src//model.py") == "src/model.py"


def test_only_the_versions_items_are_extracted_and_missing_ones_are_named(tmp_path: Path) -> None:
    archive = tmp_path / "v.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("custom.py", "x = 1\n")
        zf.writestr("data/model.bin", b"\x00\xff")
        zf.writestr("../escape.py", "bad")
        zf.writestr("extra.txt", "not an item")
    folder = tmp_path / "out"

    written, missing = extract_items(
        archive, folder, ["custom.py", "data/model.bin", "gone.py", "../escape.py"]
    )

    assert written == 2
    assert (folder / "data/model.bin").read_bytes() == b"\x00\xff"
    assert not (folder / "extra.txt").exists()
    assert not (tmp_path / "escape.py").exists()
    assert [(m.path, m.reason) for m in missing] == [
        ("../escape.py", "'../escape.py' is not a path inside the source folder"),
        ("gone.py", "not in the version's download"),
    ]
