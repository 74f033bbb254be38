"""The files the manifest loader keeps in the cache folder: one of each kind per
repository, named by a digest of the repository's folder, written whole or not at all."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def file_name(kind: str, repo_root: Path, suffix: str) -> str:
    """``<kind>-<digest of the real path of repo_root>.<suffix>``: one file per repository
    (a working tree, or the export of a URL's ref)."""
    where = os.fsencode(os.path.realpath(repo_root))
    return f"{kind}-{hashlib.blake2b(where, digest_size=8).hexdigest()}.{suffix}"


def replace_file(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write ``path`` anew through ``write``, atomically: a reader sees the old file or the
    new one, never half of it (a crash leaves no temporary file behind either). Raises
    :class:`OSError` when the folder cannot be written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
