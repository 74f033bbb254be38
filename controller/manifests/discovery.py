"""Finding manifest files under a root, and the repository a folder belongs to.

Any ``*.yaml``/``*.yml`` file may hold manifests; to keep other YAML (CI files, a model's
own ``model-metadata.yaml``, Helm templates) out of the way, a file is read only when its
bytes look like a manifest: an ``apiVersion`` of ``dr-gitops/...`` or a ``kind`` of
``CustomModel``/``CustomJob`` (a YAML tag such as ``!!str`` before the value is allowed).
Hidden folders (``.git``, ``.github``, ``.venv``, ...), ``node_modules`` and ``__pycache__``
are not searched, and symbolic links are not followed: a link to a YAML file is listed
apart (``YamlScan.links``) so that one to a manifest is reported, never silently skipped.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from controller.model.trees import CommittedTree

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


@dataclass(frozen=True)
class YamlScan:
    """The YAML entries under a root, sorted: regular files (not symbolic links, and not a
    named pipe or device that happens to end in ``.yaml``, whose read would block), links,
    and the first folder found nested deeper than the limit (searched no further)."""

    files: tuple[str, ...]
    links: tuple[Path, ...]
    too_deep: Path | None = None


def scan_yaml(root: Path, max_depth: int) -> YamlScan:
    """Every YAML file and link under ``root``, walked without recursion (``os.walk``
    recurses, and a folder nested a thousand levels deep exhausts Python's stack).

    Paths are kept as strings (a ``Path`` per file cost a tenth of loading 10,000 unchanged
    manifests), sorted part by part as ``Path`` objects sort."""
    files: list[str] = []
    links: list[str] = []
    too_deep: str | None = None
    stack: list[tuple[str, int]] = [(os.fspath(root), 0)]
    while stack:
        folder, depth = stack.pop()
        if depth > max_depth:
            too_deep = too_deep or folder
            continue
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:
            continue  # unreadable or vanished (os.walk skipped these too)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not entry.name.startswith(".") and entry.name not in _SKIPPED_DIRS:
                    stack.append((entry.path, depth + 1))
            elif entry.name.endswith(YAML_SUFFIXES):
                # The entry's type as the folder listing gives it (no stat of every file;
                # os.scandir falls back to lstat where the file system does not say).
                if entry.is_symlink():
                    links.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    files.append(entry.path)
    return YamlScan(
        tuple(sorted(files, key=_parts)),
        tuple(Path(link) for link in sorted(links, key=_parts)),
        Path(too_deep) if too_deep is not None else None,
    )


def scan_committed(root: str, search: str, tree: CommittedTree, max_depth: int) -> YamlScan | None:
    """What :func:`scan_yaml` of ``search`` (a folder under the repository's top ``root``,
    both real paths) finds, told from git's listing of the commit instead of a walk of the
    disk; ``None`` when it cannot be told that way, and the disk must be walked: an
    untracked or ignored folder that may hold YAML, a submodule, folders nested near the
    depth limit (which the walk reports). Files whose state on disk git does not vouch for
    (uncommitted, untracked, ignored) are looked at on disk one by one."""
    shown = "" if search == root else _posix(search, root)
    prefix = shown + "/" if shown else ""
    if any(_meets(folder, shown) for folder in tree.submodules):
        return None
    files: list[str] = []
    links: list[str] = []
    unsettled: set[str] = set()
    for path in tree.unsettled:
        if path.endswith("/"):
            folder = path[:-1]
            if not _meets(folder, shown):
                continue
            if not folder.startswith(prefix) or not _unsearched(path[len(prefix) :]):
                return None  # its files are not listed by git: walk the disk
        elif path.startswith(prefix) and path.endswith(YAML_SUFFIXES):
            unsettled.add(path)
    for path in tree.ids:
        if not path.startswith(prefix) or path == shown:
            continue
        inner = path[len(prefix) :]
        if inner.count("/") >= max_depth:
            return None  # near the limit: the walk says which folder is too deep
        if not path.endswith(YAML_SUFFIXES) or path in unsettled or _unsearched(inner):
            continue
        where = os.path.join(root, path.replace("/", os.sep))
        (links if path in tree.links else files).append(where)
    for path in sorted(unsettled):
        if _unsearched(path[len(prefix) :]):
            continue
        where = os.path.join(root, path.replace("/", os.sep))
        try:
            mode = os.lstat(where).st_mode
        except OSError:
            continue  # deleted
        if stat.S_ISLNK(mode):
            links.append(where)
        elif stat.S_ISREG(mode):
            files.append(where)
    return YamlScan(
        tuple(sorted(files, key=_parts)), tuple(Path(link) for link in sorted(links, key=_parts))
    )


def _meets(folder: str, shown: str) -> bool:
    """Whether ``folder`` is the searched folder ``shown``, inside it, or above it."""
    return (
        not shown
        or folder == shown
        or folder.startswith(shown + "/")
        or shown.startswith(folder + "/")
    )


def _unsearched(inner: str) -> bool:
    """Whether the walk leaves ``inner`` (a path below the searched folder) out: a folder
    on its way is hidden, ``node_modules`` or ``__pycache__``."""
    folders = inner.split("/")[:-1]
    return any(f.startswith(".") or f in _SKIPPED_DIRS for f in folders)


def _posix(path: str, root: str) -> str:
    return os.path.relpath(path, root).replace(os.sep, "/")


def _parts(path: str) -> list[str]:
    return path.split(os.sep)


def looks_like_manifest(raw: bytes) -> bool:
    """Whether a file's bytes mention a dr-gitops apiVersion or one of our kinds."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            raw = raw.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return False
    return _LOOKS_LIKE_MANIFEST.search(raw) is not None
