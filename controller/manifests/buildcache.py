"""Models and jobs built from unchanged manifests and source folders, kept by git object
ID in the cache folder.

Loading an unchanged repository of 10,000 models spent most of its time listing 10,000
source folders on disk and building the same values again. What a manifest file builds
depends only on its bytes and path, on the source folders its documents name (their files,
sizes and metadata files) and on the settings (limits, the repository's excludes, this
package's code). Git names all of these: the file's blob ID and each source folder's tree
ID. So a file whose blob ID is unchanged, whose source folders' tree IDs are unchanged,
and where none of those paths is uncommitted, untracked or ignored
(:meth:`~controller.model.trees.CommittedTree.settled`) gives back last run's models and
jobs without being read, parsed, checked or listed. Checks between documents (names used
twice, adoptions, deployments naming models) still run every time.

Kept only when it is safe to tell from the IDs:

- a file whose every document built without any problem (a warning included: problems are
  found again, never remembered), holding no deployment (their checks need the document);
- source folders reached without a symbolic link, holding no symbolic link (a link's target
  can change outside the folder's tree);
- a repository with no ``.gitattributes`` (filters such as Git LFS make the files on disk
  differ from the blobs in ways the IDs do not show).

YAML files that hold no manifest (a model's ``model-metadata.yaml``) are kept too, by blob
ID, so that an unchanged one is not read again just to find that out.

One file per repository, ``desired-<digest of the repository's folder>.pickle``, next to
the parsed-YAML cache (``yamlcache``). Its values are our frozen dataclasses, which
:mod:`marshal` cannot hold, so it is pickles (a header, then one per file) read by an
unpickler that builds nothing but the classes of ``controller.model`` (no other callable
can be named in it). It is stamped
with the code of this package and of ``controller.model``, the limits and the
repository's excludes; it holds the entries used by the last run only. Anything
unexpected in it is ignored: everything is built again and the file written anew.
"""

from __future__ import annotations

import contextlib
import copyreg
import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from controller import logs
from controller.manifests import cachefiles
from controller.manifests.cachefiles import replace_file
from controller.manifests.limits import ManifestLimits
from controller.manifests.problems import Problem
from controller.manifests.sourcefiles import ALWAYS_SKIPPED, SKIPPED_SUFFIXES
from controller.manifests.yamlcache import code_version
from controller.manifests.yamlparser import Document
from controller.model.desired import DesiredJob, DesiredModel, Source
from controller.model.trees import CommittedTree

log = logs.get_logger(__name__)

FORMAT = (1, pickle.HIGHEST_PROTOCOL, sys.version_info[:2])
_MODEL_PACKAGE = "controller.model."


@dataclass(frozen=True, slots=True)
class Built:
    """One manifest document that built without a problem, and where it is."""

    kind: str
    name: str
    file: str
    index: int
    line: int
    name_line: int  # the line of metadata.name, which a clash of names points at
    value: DesiredModel | DesiredJob

    def document(self) -> Document:
        """A stand-in for the document, enough for problems naming where it is defined."""
        return Document(self.file, self.index, self.line, None, {NAME: self.name_line})


NAME = ("metadata", "name")


def where(document: Document) -> Document:
    """Where ``document`` is, without its values: enough for a clash of names to point at."""
    return Document(
        document.file, document.index, document.line, None, {NAME: document.line_of(NAME)}
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    blob: str
    folders: tuple[tuple[str, str], ...]  # (source folder, its tree ID), as built
    built: tuple[Built, ...] | None  # None: a YAML file holding no manifest


@functools.cache
def _stamp_code() -> str:
    """The loader's code (``code_version``), the values it builds and the exclude patterns'
    matching: what a recalled entry depends on besides its IDs."""
    digest = hashlib.blake2b(code_version().encode("ascii"), digest_size=16)
    package = Path(__file__).parent.parent
    for module in [*sorted((package / "model").glob("*.py")), package / "excludes.py"]:
        try:
            digest.update(module.name.encode("utf-8") + b"\0" + module.read_bytes())
        except OSError:
            digest.update(module.name.encode("utf-8"))
    return digest.hexdigest()


class BuildCache:
    """What the manifest files of one repository built last time, by git object ID.

    Inactive (remembers nothing) without a cache folder or a :class:`CommittedTree`.
    """

    def __init__(
        self,
        folder: Path | None,
        repo_root: Path,
        limits: ManifestLimits,
        default_exclude: Sequence[str],
        tree: CommittedTree | None,
    ) -> None:
        self.tree = _relevant(tree) if tree is not None and not tree.attributes else None
        self.path = (
            folder / file_name(repo_root) if folder is not None and self.tree is not None else None
        )
        self.stamp = (FORMAT, astuple(limits), tuple(default_exclude), _stamp_code())
        self.recalled = 0
        self.kept = 0
        # Where each stored entry's pickle is in the file, and the file's identity: an
        # entry recalled unchanged is copied into the next file, not pickled again.
        self._spans: dict[str, tuple[int, int]] = {}
        self._identity: tuple[int, int, int] | None = None
        self._stored = self._read()
        self._used: dict[str, _Entry] = {}

    @property
    def active(self) -> bool:
        return self.path is not None

    def recall(self, file: str) -> _Entry | None:
        """Last run's entry for ``file`` when nothing it was built from has changed."""
        tree = self.tree
        entry = self._stored.get(file)
        if entry is None or tree is None:
            return None
        if tree.ids.get(file) != entry.blob or not tree.settled(file):
            return None
        for folder, tree_id in entry.folders:
            if tree.ids.get(folder) != tree_id or not tree.settled(folder):
                return None
        self._used[file] = entry
        self.recalled += 1
        return entry

    def keep_plain(self, file: str) -> None:
        """``file`` is a YAML file holding no manifest."""
        if self.tree is not None and (blob := self._settled_id(file)) is not None:
            self._used[file] = _Entry(blob, (), None)

    def keep(self, file: str, built: Sequence[Built], sources: Sequence[Source]) -> bool:
        """``file`` built ``built`` (each document, in order) from the source folders
        ``sources``, without a problem; kept (True) when the IDs can tell that it is
        unchanged."""
        if self.tree is None or (blob := self._settled_id(file)) is None:
            return False
        folders: dict[str, str] = {}
        for source in sources:
            tree_id = self._settled_id(source.dir)
            if tree_id is None or not _plain_folder(source):
                return False
            folders[source.dir] = tree_id
        self._used[file] = _Entry(blob, tuple(sorted(folders.items())), tuple(built))
        self.kept += 1
        return True

    def save(self) -> None:
        """Write the entries this run used, when they differ from the file's."""
        if self.path is None:
            return
        log.debug("build_cache_used", recalled=self.recalled, kept=self.kept)
        if self.kept == 0 and self._used.keys() == self._stored.keys():
            return
        try:
            replace_file(self.path, self._write)
        except OSError as exc:  # a read-only or full disk: the next run builds again
            log.warning("build_cache_not_written", path=str(self.path), error=str(exc))
            return
        self._stored = dict(self._used)
        self._identity = None  # the spans were of the file just replaced
        self.kept = 0

    def _settled_id(self, path: str) -> str | None:
        assert self.tree is not None
        found = self.tree.ids.get(path)
        return found if found is not None and self.tree.settled(path) else None

    def _write(self, handle: BinaryIO) -> None:
        # One pickle per entry, each with its own memo: read back one at a time, the memo
        # of one pickle of everything held every object and its arguments until the end
        # (a third more memory at the peak of loading 10,000 models).
        pickler = _ModelPickler(handle, FORMAT[1])
        pickler.dump((self.stamp, len(self._used)))
        with contextlib.ExitStack() as stack:
            old = self._old_file(stack)
            for file, entry in self._used.items():
                span = self._spans.get(file)
                if old is not None and span is not None and self._stored.get(file) is entry:
                    old.seek(span[0])
                    handle.write(old.read(span[1] - span[0]))
                    continue
                pickler.clear_memo()
                pickler.dump((file, entry))

    def _old_file(self, stack: contextlib.ExitStack) -> BinaryIO | None:
        """The file the stored entries were read from, when it is still that file."""
        if self.path is None or self._identity is None:
            return None
        try:
            handle = stack.enter_context(self.path.open("rb"))
        except OSError:
            return None
        return handle if _identity(os.fstat(handle.fileno())) == self._identity else None

    def _read(self) -> dict[str, _Entry]:
        if self.path is None:
            return {}
        entries: dict[str, _Entry] = {}
        try:
            with self.path.open("rb") as handle:
                header: Any = _ModelUnpickler(handle).load()
                if not isinstance(header, tuple) or len(header) != 2 or header[0] != self.stamp:
                    return {}  # another format, settings or controller: start again
                for _ in range(int(header[1])):
                    start = handle.tell()
                    file, entry = _ModelUnpickler(handle).load()
                    if not isinstance(file, str) or not isinstance(entry, _Entry):
                        self._spans.clear()
                        return {}
                    entries[file] = entry
                    self._spans[file] = (start, handle.tell())
                self._identity = _identity(os.fstat(handle.fileno()))
        except FileNotFoundError:
            return {}
        except Exception as exc:  # any damage (truncated, another format): build again
            log.warning("build_cache_unreadable", path=str(self.path), error=str(exc))
            return {}
        return entries


class FreshFiles:
    """The manifest files read (not recalled) in this run, and what each built: those that
    built without a problem go into the build cache."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.built: dict[str, list[Built]] = {}
        self.sources: dict[str, list[Source]] = {}
        self.spoiled: set[str] = set()

    def spoil(self, file: str) -> None:
        self.spoiled.add(file)

    def add(self, document: Document, kind: str, value: DesiredModel | DesiredJob | None) -> None:
        if not self.active or document.file in self.spoiled:
            return
        if value is None:
            self.spoil(document.file)
            return
        spec = document.data["spec"]
        if isinstance(value, DesiredModel):
            source = value.version.source if value.version is not None else None
            named = spec["version"].get("source") if source is not None else None
        else:
            source, named = value.source, spec.get("source")
        if source is not None and lexical_source(document, named) != source.dir:
            self.spoil(document.file)  # its folder is reached through a symbolic link
            return
        self.built.setdefault(document.file, []).append(
            Built(
                kind,
                document.data["metadata"]["name"],
                document.file,
                document.index,
                document.line,
                document.line_of(NAME),
                value,
            )
        )
        self.sources.setdefault(document.file, []).extend([source] if source else [])

    def keep(self, cache: BuildCache, problems: Sequence[Problem]) -> tuple[set[str], set[str]]:
        """Keep the files that built without a problem: none names the file, or a file in
        one of the source folders its documents list. Gives the files kept and their source
        folders (each ending in ``/``)."""
        kept: tuple[set[str], set[str]] = (set(), set())
        if not self.active:
            return kept
        troubled = {p.file for p in problems}
        for file, built in self.built.items():
            folders = tuple(source.dir + "/" for source in self.sources[file])
            if file in self.spoiled or file in troubled:
                continue
            if folders and any(t.startswith(folders) for t in troubled):
                continue
            if cache.keep(file, built, self.sources[file]):
                kept[0].add(file)
                kept[1].update(folders)
        return kept


def _identity(info: os.stat_result) -> tuple[int, int, int]:
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def file_name(repo_root: Path) -> str:
    return cachefiles.file_name("desired", repo_root, "pickle")


def lexical_source(document: Document, source: object) -> str | None:
    """The folder a manifest's ``source`` names, as a repository path, without resolving
    links (``None`` when it is not a plain relative path)."""
    if not isinstance(source, str) or source.startswith("/"):
        return None
    folder = os.path.dirname(document.file)
    joined = os.path.normpath(os.path.join(folder, source)).replace(os.sep, "/")
    return None if joined.startswith("..") else joined


def _plain_folder(source: Source) -> bool:
    """No symbolic link among the folder's files (a link's file names its target)."""
    prefix = source.dir + "/"
    return all(f.repo_path == prefix + f.path for f in source.files)


def _relevant(tree: CommittedTree) -> CommittedTree:
    """Without the unsettled paths no listing ever looks at (``__pycache__``, ``*.pyc``):
    a working tree that ran its models' code still recalls them."""
    kept = tuple(p for p in tree.unsettled if not _never_listed(p))
    return tree if len(kept) == len(tree.unsettled) else replace(tree, unsettled=kept)


def _never_listed(path: str) -> bool:
    parts = path.rstrip("/").split("/")
    return any(part in ALWAYS_SKIPPED for part in parts) or parts[-1].endswith(SKIPPED_SUFFIXES)


class _ModelPickler(pickle.Pickler):
    """Writes our dataclasses as calls of their constructors: read back, each is made by
    its ``__init__`` (a frozen dataclass's default ``__setstate__`` looks its fields up
    again for every object, and was most of the time of reading 10,000 models back)."""

    def __init__(self, handle: BinaryIO, protocol: int) -> None:
        super().__init__(handle, protocol=protocol)
        self.dispatch_table = _constructor_table()


def _constructor_table() -> dict[type, Callable[[Any], Any]]:
    table: dict[type, Callable[[Any], Any]] = dict(copyreg.dispatch_table)
    for name, module in list(sys.modules.items()):
        if module is None or not (name.startswith(_MODEL_PACKAGE) or name == __name__):
            continue
        for value in vars(module).values():
            if isinstance(value, type) and is_dataclass(value) and value.__module__ == name:
                fields_ = fields(value)
                if all(f.init for f in fields_):
                    table[value] = _by_constructor(tuple(f.name for f in fields_))
    return table


def _by_constructor(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    def reduce(value: Any) -> tuple[Any, ...]:
        return type(value), tuple([getattr(value, name) for name in names])

    return reduce


class _ModelUnpickler(pickle.Unpickler):
    """Builds the classes of ``controller.model`` and of this module, nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None and (module.startswith(_MODEL_PACKAGE) or module == __name__):
            found = getattr(sys.modules.get(module), name, None)
            if isinstance(found, type):
                _ALLOWED[(module, name)] = found  # asked again by every entry's pickle
        if isinstance(found, type):
            return found
        raise pickle.UnpicklingError(f"{module}.{name} may not be built from the cache")


_ALLOWED: dict[tuple[str, str], type] = {}
