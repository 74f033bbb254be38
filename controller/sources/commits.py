"""Commit facts, read from raw commit objects (``git cat-file --batch``).

Reading the raw object rather than asking ``git log`` works in shallow clones too: a commit
at the shallow boundary still names its parents, which is how the first parent of a
GitHub pull-request merge commit is known after a ``fetch-depth: 1`` checkout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

_PERSON = re.compile(rb"^(?P<name>.*?) <(?P<email>[^>]*)> (?P<ts>-?\d+) (?P<tz>[+-]\d{4})$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class CommitInfo:
    """One commit: its SHA-1, parents, author and subject line."""

    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored_at: datetime
    subject: str

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


@dataclass(frozen=True)
class BatchEntry:
    """One answer of ``git cat-file --batch``: the request line and, when found, the
    object's name, type and raw content."""

    request: str
    sha: str | None
    type: str | None
    content: bytes


def is_full_sha(text: str) -> bool:
    """True for a 40-hex-digit SHA-1 in lower case (what the API records)."""
    return bool(_HEX40.match(text))


def parse_batch(output: bytes, requests: list[str]) -> list[BatchEntry]:
    """Parse ``git cat-file --batch`` output, one entry per request, in order."""
    entries = []
    position = 0
    for request in requests:
        end = output.index(b"\n", position)
        header = output[position:end].decode("utf-8", "surrogateescape")
        position = end + 1
        fields = header.split(" ")
        if len(fields) == 3 and fields[1] in ("commit", "tree", "blob", "tag"):
            size = int(fields[2])
            content = output[position : position + size]
            position += size + 1  # the content is followed by a newline
            entries.append(BatchEntry(request, fields[0], fields[1], content))
        else:  # "<request> missing" or "<request> ambiguous"
            entries.append(BatchEntry(request, None, None, b""))
    return entries


def parse_commit(sha: str, raw: bytes) -> CommitInfo:
    """Build :class:`CommitInfo` from a raw commit object."""
    headers, _, message = raw.partition(b"\n\n")
    parents: list[str] = []
    author = b""
    encoding = "utf-8"
    for line in _header_lines(headers):
        key, _, value = line.partition(b" ")
        if key == b"parent":
            parents.append(value.decode("ascii"))
        elif key == b"author":
            author = value
        elif key == b"encoding":
            encoding = value.decode("ascii", "replace")
    name, email, when = _person(author, encoding)
    return CommitInfo(
        sha=sha,
        parents=tuple(parents),
        author_name=name,
        author_email=email,
        authored_at=when,
        subject=_subject(message, encoding),
    )


def _header_lines(headers: bytes) -> Iterator[bytes]:
    # Continuation lines (gpgsig, mergetag) start with a space and belong to the previous one.
    for line in headers.split(b"\n"):
        if not line.startswith(b" "):
            yield line


def _person(value: bytes, encoding: str) -> tuple[str, str, datetime]:
    match = _PERSON.match(value)
    if not match:
        return _decode(value, encoding), "", datetime.fromtimestamp(0, UTC)
    tz = match.group("tz").decode()
    offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * (-1 if tz[0] == "-" else 1)
    when = datetime.fromtimestamp(int(match.group("ts")), timezone(offset))
    return (
        _decode(match.group("name"), encoding),
        _decode(match.group("email"), encoding),
        when,
    )


def _subject(message: bytes, encoding: str) -> str:
    # Like git's %s: the first paragraph, its lines joined by spaces.
    paragraph = message.strip().split(b"\n\n", 1)[0] if message.strip() else b""
    return " ".join(_decode(line, encoding).strip() for line in paragraph.splitlines()).strip()


def _decode(value: bytes, encoding: str) -> str:
    try:
        return value.decode(encoding, "replace")
    except LookupError:
        return value.decode("utf-8", "replace")
