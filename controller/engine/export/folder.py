"""The export folder on disk: checking it, clearing what an export replaces, writing files.

Only paths the export owns are ever removed: an object's manifest and its source folder
(``models/<name>.yaml`` and ``models/<name>/``), and the files an export writes at the top
(``README.md``, ``schemas/``; ``.dr-gitops.yaml`` only when absent). Everything else in a folder exported into with ``--force``
(``.git``, CI files, other manifests) is left as it is.
"""

from __future__ import annotations

import posixpath
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path

from controller.engine.export.drafts import Missing
from controller.errors import ConfigError

KEPT_IN_EMPTY = frozenset({".git"})  # a folder holding only these counts as empty


class UnsafePathError(ValueError):
    """A file path from DataRobot that would land outside its source folder."""


def check_out_dir(out: Path, *, force: bool) -> None:
    """Refuse a file, or a folder that holds anything but ``.git`` unless ``force``."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a folder to export into")
    if not out.exists() or force:
        return
    entries = sorted(p.name for p in out.iterdir() if p.name not in KEPT_IN_EMPTY)
    if entries:
        shown = ", ".join(entries[:5]) + (
            f" and {len(entries) - 5} more" if len(entries) > 5 else ""
        )
        raise ConfigError(
            f"--out {out} is not empty (it holds {shown}); export into a new or empty folder, "
            "or pass --force to replace the exported manifests and source folders in it"
        )


def clear(paths: Iterable[Path]) -> None:
    """Remove files and folders an export is about to write again."""
    for path in paths:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def safe_relative(path: str) -> str:
    """``path`` as a clean relative POSIX path inside its folder, or UnsafePathError."""
    clean = posixpath.normpath(path.replace("\\", "/"))
    if (
        not path
        or clean.startswith(("/", "../"))
        or clean in (".", "..")
        or ":" in clean.split("/")[0]
    ):
        raise UnsafePathError(f"{path!r} is not a path inside the source folder")
    return clean


def write_bytes(folder: Path, path: str, content: bytes) -> None:
    target = folder / safe_relative(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


def extract_items(archive: Path, folder: Path, wanted: Iterable[str]) -> tuple[int, list[Missing]]:
    """Write the zip's files whose paths are in ``wanted``; ``(written, problems)``.

    A wanted path absent from the zip, or unsafe, is a problem; other entries are ignored
    (the version's item list, not the archive, says what the version holds).
    """
    paths = set(wanted)
    written = 0
    problems: list[Missing] = []
    with zipfile.ZipFile(archive) as zf:
        entries = {posixpath.normpath(i.filename): i for i in zf.infolist() if not i.is_dir()}
        for path in sorted(paths):
            info = entries.get(posixpath.normpath(path))
            if info is None:
                problems.append(Missing(path, "not in the version's download"))
                continue
            try:
                write_bytes(folder, path, zf.read(info))
            except UnsafePathError as exc:
                problems.append(Missing(path, str(exc)))
                continue
            written += 1
    return written, problems


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
