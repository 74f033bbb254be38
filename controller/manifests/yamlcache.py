"""The parsed YAML files of earlier runs, kept by content in the cache folder.

Parsing is most of what loading an unchanged repository costs (libyaml composes the nodes,
our walk turns them into values with their lines and checks the limits). The documents of
a file depend only on its bytes, its path (problems name it) and the limits, so they are
kept under ``(path, digest of the bytes)`` in one file per repository,
``yaml-documents-<digest of the repository's folder>.marshal`` in the cache folder (the one
holding the clones), and read back instead of parsed when the same
bytes are read again: in every ``plan``/``apply`` after the first and every ``serve`` tick.
Every check after parsing (schemas, rules, source folders) still runs each time.

The file is written with :mod:`marshal` (plain values only: loading it runs no code, unlike
pickle; it lives next to the clones, which whoever can write there could change anyway); a file holding a value marshal cannot write (a YAML timestamp) is parsed every
time. It is bounded: it holds the entries used by the last run only, and at most
:data:`MAX_ENTRIES`. Anything unexpected in it (another format, truncation, a bad entry)
is ignored: the file is parsed, and the cache written again.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from dataclasses import astuple
from pathlib import Path
from typing import Any

from controller import logs
from controller.manifests.limits import ManifestLimits
from controller.manifests.yamlparser import Document, decode, parse_documents

log = logs.get_logger(__name__)

FORMAT = (1, marshal.version, sys.version_info[:2])
MAX_ENTRIES = 200_000
_Key = tuple[str, bytes]


class YamlCache:
    """Documents by ``(path, content digest)`` for the repository at ``repo_root``;
    ``folder`` None keeps them for this run only."""

    def __init__(self, folder: Path | None, repo_root: Path, limits: ManifestLimits) -> None:
        self.path = folder / file_name(repo_root) if folder is not None else None
        self.stamp = (FORMAT, astuple(limits))
        self.hits = 0
        self.misses = 0
        self._stored: dict[_Key, bytes] = self._read()
        self._used: dict[_Key, bytes] = {}

    def _read(self) -> dict[_Key, bytes]:
        if self.path is None:
            return {}
        try:
            with self.path.open("rb") as handle:
                stamp, entries = marshal.load(handle)  # noqa: S302 (see the docstring)
        except FileNotFoundError:
            return {}
        except (OSError, EOFError, ValueError, TypeError) as exc:
            log.warning("yaml_cache_unreadable", path=str(self.path), error=str(exc))
            return {}
        if stamp != self.stamp or not isinstance(entries, dict):
            return {}  # another format or other limits: start again
        return entries

    def documents(self, raw: bytes, file: str, limits: ManifestLimits) -> list[Document]:
        """The documents of a file whose bytes are ``raw``, as :func:`parse_documents`
        gives them (raising :class:`YamlProblem` the same way)."""
        key = (file, hashlib.blake2b(raw, digest_size=16).digest())
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

    def save(self) -> None:
        """Write the entries this run used, when they differ from the file's."""
        if self.path is None:
            return
        log.debug("yaml_cache_used", hits=self.hits, misses=self.misses)
        if self._used.keys() == self._stored.keys():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".yaml-documents-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as handle:
                    marshal.dump((self.stamp, self._used), handle)
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a read-only or full disk: the next run parses again
            log.warning("yaml_cache_not_written", path=str(self.path), error=str(exc))
            return
        self._stored = dict(self._used)


def file_name(repo_root: Path) -> str:
    """The cache file of one repository (a working tree, or the export of a URL's ref)."""
    where = os.fsencode(os.path.realpath(repo_root))
    return f"yaml-documents-{hashlib.blake2b(where, digest_size=8).hexdigest()}.marshal"


def _pack(documents: list[Document]) -> bytes | None:
    plain = [(d.file, d.index, d.line, d.data, tuple(d.lines.items())) for d in documents]
    try:
        return marshal.dumps(plain)
    except ValueError:  # a value marshal cannot write (a date): parse this file every time
        return None


def _unpack(packed: bytes) -> list[Document] | None:
    try:
        plain: Any = marshal.loads(packed)  # noqa: S302 (see the docstring)
        return [
            Document(file, index, line, data, dict(lines))
            for file, index, line, data, lines in plain
        ]
    except (EOFError, ValueError, TypeError):
        return None
