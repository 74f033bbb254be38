"""Changed paths between two commits, as values the planner reads.

A rename is reported as its two halves (the old path deleted, the new one added) because a
model version holds files by path; a type change (file to symlink) counts as a modification.
A change of file mode alone (``chmod +x``: the same blob) is no change at all: DataRobot
stores no file modes, so it cannot make a version differ.
When the answer cannot be known (the recorded commit is missing even after fetching, or it
is not an ancestor of the head), the answer is :class:`UnknownChanges` with the reason, so
the engine falls back to comparing contents instead of trusting a diff.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

ChangeStatus = Literal["added", "modified", "deleted"]
_STATUS: dict[str, ChangeStatus] = {
    "A": "added",
    "M": "modified",
    "T": "modified",
    "D": "deleted",
}


@dataclass(frozen=True, order=True)
class PathChange:
    """One path (relative to the repository root) and what happened to it."""

    path: str
    status: ChangeStatus


@dataclass(frozen=True)
class ChangedPaths:
    """The paths that differ between ``base`` and ``head``, sorted by path."""

    base: str
    head: str
    changes: tuple[PathChange, ...]

    def __post_init__(self) -> None:
        if any(a > b for a, b in zip(self.changes, self.changes[1:], strict=False)):
            object.__setattr__(self, "changes", tuple(sorted(self.changes)))

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(c.path for c in self.changes)

    @property
    def added(self) -> frozenset[str]:
        return frozenset(c.path for c in self.changes if c.status == "added")

    @property
    def modified(self) -> frozenset[str]:
        return frozenset(c.path for c in self.changes if c.status == "modified")

    @property
    def deleted(self) -> frozenset[str]:
        return frozenset(c.path for c in self.changes if c.status == "deleted")

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def under(self, prefixes: Iterable[str] | None) -> ChangedPaths:
        """Only the changes at or below one of ``prefixes`` (all when ``None``).

        ``changes`` is sorted by path, so each prefix costs a binary search, not a scan:
        1,000 models asking about one large diff stay cheap.
        """
        if prefixes is None:
            return self
        picked = select_prefixed(self._sorted_paths, prefixes)
        return ChangedPaths(self.base, self.head, tuple(self.changes[i] for i in picked))

    @cached_property
    def _sorted_paths(self) -> tuple[str, ...]:
        return tuple(c.path for c in self.changes)


@dataclass(frozen=True)
class UnknownChanges:
    """The changes between ``base`` and ``head`` cannot be known from git; ``reason`` says
    why (for logs and plan reasons)."""

    base: str
    head: str
    reason: str


Changes = ChangedPaths | UnknownChanges


class PrefixMatcher:
    """Matches repository paths at or below any of a set of folder or file prefixes.

    ``models/a`` matches ``models/a`` and ``models/a/x.py`` but not ``models/ab``; an empty
    prefix or ``.`` matches everything.
    """

    def __init__(self, prefixes: Iterable[str]) -> None:
        cleaned = {p.strip("/") for p in prefixes}
        self._everything = bool(cleaned & {"", "."})
        self._exact = frozenset(cleaned)
        self._folders = tuple(sorted(f"{p}/" for p in cleaned if p))

    def matches(self, path: str) -> bool:
        return self._everything or path in self._exact or path.startswith(self._folders)


def select_prefixed(sorted_paths: Sequence[str], prefixes: Iterable[str]) -> list[int]:
    """Indexes (ascending, no repeats) of the paths at or below any of ``prefixes``, by
    binary search in ``sorted_paths``; same rules as :class:`PrefixMatcher`."""
    picked: set[int] = set()
    for prefix in {p.strip("/") for p in prefixes}:
        if prefix in ("", "."):
            return list(range(len(sorted_paths)))
        exact = bisect_left(sorted_paths, prefix)
        if exact < len(sorted_paths) and sorted_paths[exact] == prefix:
            picked.add(exact)
        # Every "<prefix>/..." sorts between "<prefix>/" and "<prefix>0" ('0' follows '/').
        start = bisect_left(sorted_paths, prefix + "/")
        picked.update(range(start, bisect_left(sorted_paths, prefix + "0", lo=start)))
    return sorted(picked)


def touching_folders(paths: Iterable[str], folders: Iterable[str]) -> list[str]:
    """The ``paths`` (a folder ends in ``/``) at or below any of ``folders``, and the folder
    paths holding one of ``folders``: what ``git ls-files --directory -- <folders>`` would
    have printed, without asking git to match thousands of pathspecs against every path
    (that costs folders x paths)."""
    wanted = sorted({f.strip("/") for f in folders if f.strip("/")})
    chosen = set(wanted)
    out = []
    for path in paths:
        parts = path.rstrip("/").split("/")
        if any("/".join(parts[:end]) in chosen for end in range(1, len(parts) + 1)):
            out.append(path)
        elif path.endswith("/"):
            start = bisect_left(wanted, path)
            if start < len(wanted) and wanted[start].startswith(path):
                out.append(path)
    return out


def split_diff_blocks(output: bytes, head: str) -> dict[str, bytes]:
    """Split ``git diff-tree --stdin --always -z --raw --format='%H %P'`` output into the
    ``--raw`` part of each input line, keyed by the base commit of the line."""
    header = re.compile(rb"\n?([0-9a-f]{40}) ([0-9a-f]{40})\n?")
    blocks: dict[str, list[bytes]] = {}
    current: list[bytes] | None = None
    for token in output.split(b"\0"):
        match = header.fullmatch(token)
        if match and match.group(1).decode() == head:
            current = blocks.setdefault(match.group(2).decode(), [])
        elif current is not None:
            current.append(token.lstrip(b"\n"))
    return {base: b"\0".join(tokens) for base, tokens in blocks.items()}


def parse_raw_diff(output: bytes, base: str, head: str) -> ChangedPaths:
    """Parse ``git diff-tree -r -z --no-renames --raw`` output, leaving out mode-only changes.

    Each entry is ``:<old mode> <new mode> <old blob> <new blob> <status>`` then the path;
    a modification whose two blobs are the same changed nothing but the mode.
    """
    fields = output.split(b"\0")
    changes = []
    for meta, raw_path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.lstrip(b"\n:").split(b" ")
        if len(parts) != 5:
            continue
        _, _, old_blob, new_blob, status = parts
        kind = _STATUS.get(status[:1].decode("ascii"), "modified")
        if kind == "modified" and old_blob == new_blob:
            continue
        changes.append(PathChange(raw_path.decode("utf-8", "surrogateescape"), kind))
    return ChangedPaths(base, head, tuple(sorted(changes)))
