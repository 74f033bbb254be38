"""Finding manifest files under a root, and the repository a folder belongs to.

Any ``*.yaml``/``*.yml`` file may hold manifests; to keep other YAML (CI files, a model's
own ``model-metadata.yaml``, Helm templates) out of the way, a file is read only when its
bytes look like a manifest: an ``apiVersion`` of ``dr-gitops/...`` or a ``kind`` of
``CustomModel``/``CustomJob`` (a YAML tag such as ``!!str`` before the value is allowed).
Hidden folders (``.git``, ``.github``, ``.venv``, ...), ``node_modules`` and ``__pycache__``
are not searched, and symbolic links are not followed: a link to a YAML file is listed
apart (:func:`yaml_links`) so that one to a manifest is reported, never silently skipped.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

YAML_SUFFIXES = (".yaml", ".yml")
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})
_TAG = rb"""(?:![^\s'"]*\s+)?"""
_LOOKS_LIKE_MANIFEST = re.compile(
    rb"""apiVersion['"]?\s*:\s*""" + _TAG + rb"""['"]?dr-gitops"""
    rb"""|kind['"]?\s*:\s*""" + _TAG + rb"""['"]?Custom(Model|Job)\b"""
)


def find_repo_root(path: Path) -> Path:
    """The top of the git repository holding ``path``, or ``path`` itself when none does."""
    start = path.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def yaml_files(root: Path) -> list[Path]:
    """Every YAML file under ``root``, sorted: regular files only (not symbolic links, and
    not a named pipe or device that happens to end in ``.yaml``, whose read would block)."""
    return [path for path, is_link in _yaml_entries(root) if not is_link]


def yaml_links(root: Path) -> list[Path]:
    """The symbolic links under ``root`` whose names end in ``.yaml``/``.yml``, sorted."""
    return [path for path, is_link in _yaml_entries(root) if is_link]


def _yaml_entries(root: Path) -> list[tuple[Path, bool]]:
    found: list[tuple[Path, bool]] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS)
        for name in files:
            if name.endswith(YAML_SUFFIXES):
                path = Path(folder, name)
                mode = path.lstat().st_mode
                if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                    found.append((path, stat.S_ISLNK(mode)))
    return sorted(found)


def looks_like_manifest(raw: bytes) -> bool:
    """Whether a file's bytes mention a dr-gitops apiVersion or one of our kinds."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            raw = raw.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return False
    return _LOOKS_LIKE_MANIFEST.search(raw) is not None
