"""Content identity: the git blob SHA-1 of bytes and of files.

Git names a file's content ``sha1(b"blob <size>\\0" + content)``. The engine hashes files it
downloads from DataRobot with :func:`git_blob_sha1` and compares them with the blob SHA-1s
git lists for a commit (``GitSource.blob_shas``), without uploading or reading anything twice.

Git stores a file's *clean* form: with ``.gitattributes`` filters (Git LFS, ``eol=crlf``,
``ident``) the bytes in a checkout differ from the blob, so for such files compare with
:func:`file_blob_sha1` of the checked-out file instead.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1024 * 1024


def git_blob_sha1(data: bytes) -> str:
    """The SHA-1 git gives a blob holding ``data`` (what ``git hash-object`` prints)."""
    digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()


def file_blob_sha1(path: Path) -> str:
    """The git blob SHA-1 of a file's bytes as they are on disk, read in chunks."""
    digest = hashlib.sha1(b"blob %d\0" % path.stat().st_size, usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
