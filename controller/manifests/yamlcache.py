"""The parsed and schema-checked YAML files of earlier runs, kept by content in the cache
folder.

Parsing is most of what loading an unchanged repository costs (libyaml composes the nodes,
our walk turns them into values with their lines and checks the limits). The documents of
a file depend only on its bytes, its path (problems name it) and the limits, so they are
kept under ``(path, digest of the bytes)`` in one file per repository,
``yaml-documents-<digest of the repository's folder>.marshal`` in the cache folder (the one
holding the clones), and read back instead of parsed when the same
bytes are read again: in every ``plan``/``apply`` after the first and every ``serve`` tick.

The schema step of each manifest document (enum values put in the API's spelling, then the
schema check, :meth:`YamlCache.checked`) is kept the same way, under the document's key and
kind: an unchanged manifest is neither parsed, spelled nor validated again. Its outcome
depends on the schemas and on this package's code too, so the file's stamp holds a digest
of both (:func:`code_version`): a controller upgrade starts from an empty cache. Every
check after that step (rules between fields, source folders, runtime parameters, names
used twice, deployments naming models) still runs each time.

The file is written with :mod:`marshal` (plain values only: loading it runs no code, unlike
pickle; it lives next to the clones, which whoever can write there could change anyway); a file holding a value marshal cannot write (a YAML timestamp) is parsed every
time. It is bounded: it holds the entries used by the last run only, and at most
:data:`MAX_ENTRIES`. Anything unexpected in it (another format, truncation, a bad entry)
is ignored: the file is parsed, and the cache written again.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import sys
from dataclasses import astuple, replace
from pathlib import Path
from typing import Any

from controller import logs
from controller.manifests import cachefiles
from controller.manifests.cachefiles import replace_file
from controller.manifests.limits import ManifestLimits
from controller.manifests.problems import Problem
from controller.manifests.schemas import SCHEMA_FILES, check_schema, schema_text, with_api_spelling
from controller.manifests.yamlparser import Document, decode, parse_documents

log = logs.get_logger(__name__)

FORMAT = (3, marshal.version, sys.version_info[:2])
MAX_ENTRIES = 200_000
_Key = tuple[str, bytes]
_CheckKey = tuple[str, bytes, int, str]  # file, digest, document index, kind


@functools.cache
def code_version() -> str:
    """A digest of the manifest schemas and of this package's source: what the schema step
    of a document depends on besides its bytes, so that another controller version never
    reads this one's results."""
    digest = hashlib.blake2b(digest_size=16)
    for kind in sorted(SCHEMA_FILES):
        digest.update(schema_text(kind).encode("utf-8"))
    for module in sorted(Path(__file__).parent.glob("*.py")):
        try:
            digest.update(module.name.encode("utf-8") + b"\0" + module.read_bytes())
        except OSError:  # not a plain folder of files: the version names the code instead
            digest.update(module.name.encode("utf-8"))
    return digest.hexdigest()


class YamlCache:
    """Documents by ``(path, content digest)`` for the repository at ``repo_root``;
    ``folder`` None keeps them for this run only."""

    def __init__(self, folder: Path | None, repo_root: Path, limits: ManifestLimits) -> None:
        self.path = folder / file_name(repo_root) if folder is not None else None
        self.stamp = (FORMAT, astuple(limits), code_version())
        self.hits = 0
        self.misses = 0
        self.checks = 0  # documents spelled and checked against the schema (not read back)
        # Read when first asked: a run that recalls every file from the build cache
        # (``buildcache``) parses nothing, and need not read this file at all.
        self._loaded = False
        self._stored: dict[_Key, bytes] = {}
        self._stored_checks: dict[_CheckKey, bytes] = {}
        self._used: dict[_Key, bytes] = {}
        self._used_checks: dict[_CheckKey, bytes] = {}
        self._keys: dict[str, _Key] = {}  # file → its key in this run

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            self._stored, self._stored_checks = self._read()

    def _read(self) -> tuple[dict[_Key, bytes], dict[_CheckKey, bytes]]:
        if self.path is None:
            return {}, {}
        try:
            with self.path.open("rb") as handle:
                stored: Any = marshal.load(handle)  # noqa: S302 (see the docstring)
        except FileNotFoundError:
            return {}, {}
        except (OSError, EOFError, ValueError, TypeError) as exc:
            log.warning("yaml_cache_unreadable", path=str(self.path), error=str(exc))
            return {}, {}
        if not isinstance(stored, tuple) or len(stored) != 3 or stored[0] != self.stamp:
            return {}, {}  # another format, other limits or another controller: start again
        _, entries, checks = stored
        if not isinstance(entries, dict) or not isinstance(checks, dict):
            return {}, {}
        return entries, checks

    def documents(self, raw: bytes, file: str, limits: ManifestLimits) -> list[Document]:
        """The documents of a file whose bytes are ``raw``, as :func:`parse_documents`
        gives them (raising :class:`YamlProblem` the same way)."""
        self._load()
        key = (file, hashlib.blake2b(raw, digest_size=16).digest())
        self._keys[file] = key
        packed = self._used.get(key) or self._stored.get(key)
        if packed is not None:
            documents = _unpack(packed)
            if documents is not None:
                self.hits += 1
                self._used[key] = packed
                return documents
        self.misses += 1
        documents = parse_documents(decode(raw, file), file, limits)
        packed = _pack(documents)
        if packed is not None and len(self._used) < MAX_ENTRIES:
            self._used[key] = packed
        return documents

    def checked(self, kind: str, document: Document) -> tuple[Document, list[Problem]]:
        """``document`` (a manifest of ``kind`` read through :meth:`documents` in this run)
        with its enum values in the API's spelling, and its schema problems: as
        :func:`with_api_spelling` then :func:`check_schema` give them, read back when the
        same document of the same bytes was checked before."""
        self._load()
        file_key = self._keys.get(document.file)
        key = None if file_key is None else (*file_key, document.index, kind)
        packed = None
        if key is not None:
            packed = self._used_checks.get(key) or self._stored_checks.get(key)
        if packed is not None:
            outcome = _unpack_check(packed, document)
            if outcome is not None:
                self._used_checks[key] = packed  # type: ignore[index]
                return outcome
        self.checks += 1
        spelled = with_api_spelling(kind, document)
        problems = check_schema(kind, spelled)
        if key is not None and len(self._used_checks) < MAX_ENTRIES:
            packed = _pack_check(spelled, document, problems)
            if packed is not None:
                self._used_checks[key] = packed
        return spelled, problems

    def forget(self, files: set[str], folders: set[str]) -> None:
        """Keep nothing of ``files`` and of the files under ``folders`` (each ending in
        ``/``): the build cache holds what they built, and reads them only when one of
        them changed, when their documents must be parsed anyway. (Kept, 10,000 unchanged
        manifests and metadata files made this file 16 MB to read when one changed.)"""
        if not files and not folders:
            return
        under = tuple(folders)
        gone = {k for k in self._used if k[0] in files or k[0].startswith(under)}
        for key in gone:
            del self._used[key]
        for check in [k for k in self._used_checks if k[:2] in gone]:
            del self._used_checks[check]

    def save(self) -> None:
        """Write the entries this run used, when they differ from the file's."""
        if self.path is None or not self._loaded:
            return  # nothing parsed: the file stays as it is
        log.debug("yaml_cache_used", hits=self.hits, misses=self.misses, checks=self.checks)
        if (
            self._used.keys() == self._stored.keys()
            and self._used_checks.keys() == self._stored_checks.keys()
        ):
            return
        kept = (self.stamp, self._used, self._used_checks)
        try:
            replace_file(self.path, lambda handle: marshal.dump(kept, handle))
        except OSError as exc:  # a read-only or full disk: the next run parses again
            log.warning("yaml_cache_not_written", path=str(self.path), error=str(exc))
            return
        self._stored = dict(self._used)
        self._stored_checks = dict(self._used_checks)


def file_name(repo_root: Path) -> str:
    """The cache file of one repository (a working tree, or the export of a URL's ref)."""
    return cachefiles.file_name("yaml-documents", repo_root, "marshal")


def _pack(documents: list[Document]) -> bytes | None:
    plain = [(d.file, d.index, d.line, d.data, dict(d.lines)) for d in documents]
    try:
        return marshal.dumps(plain)
    except ValueError:  # a value marshal cannot write (a date): parse this file every time
        return None


def _unpack(packed: bytes) -> list[Document] | None:
    try:
        plain: Any = marshal.loads(packed)  # noqa: S302 (see the docstring)
        documents = [
            Document(file, index, line, data, lines) for file, index, line, data, lines in plain
        ]
        if not all(isinstance(d.lines, dict) for d in documents):
            return None
        return documents
    except (EOFError, ValueError, TypeError):
        return None


def _pack_check(spelled: Document, document: Document, problems: list[Problem]) -> bytes | None:
    data = None if spelled.data is document.data else spelled.data  # None: unchanged
    plain = (data, [astuple(p) for p in problems])
    try:
        return marshal.dumps(plain)
    except ValueError:
        return None


def _unpack_check(packed: bytes, document: Document) -> tuple[Document, list[Problem]] | None:
    try:
        data, problems = marshal.loads(packed)  # noqa: S302 (see the docstring)
        spelled = document if data is None else replace(document, data=data)
        return spelled, [Problem(*p) for p in problems]
    except (EOFError, ValueError, TypeError):
        return None
