"""Small shared values: JSON types, immutable field maps, source locations, git metadata."""

from __future__ import annotations

import json
import re
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from dataclasses import dataclass
from typing import Any, TypeAlias

Json: TypeAlias = bool | int | float | str | list["Json"] | dict[str, "Json"] | None
Scalar: TypeAlias = bool | int | float | str | None


class Fields(Mapping[str, Json]):
    """An immutable, ordered-by-name map of API field names to JSON values.

    Desired and live resources keep their API fields in one of these so that diffs are
    computed field by field, generically, with the API's own names.
    """

    # One dict, its keys inserted in name order: 10,000 models hold tens of thousands of
    # these, and a tuple of pairs beside the dict cost as much again.
    __slots__ = ("_index",)

    def __init__(self, values: Mapping[str, Json] | None = None, /, **kwargs: Json) -> None:
        merged = dict(values or {}, **kwargs)
        self._index: dict[str, Json] = dict(sorted(merged.items()))

    def __getitem__(self, key: str) -> Json:
        return self._index[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def get(self, key: str, default: Json = None) -> Json:  # type: ignore[override]
        # The dict's own: Mapping's goes through __getitem__ and catches KeyError.
        return self._index.get(key, default)

    # The dict's own views: Mapping's generic ones go through __iter__ and __getitem__.
    def keys(self) -> KeysView[str]:
        return self._index.keys()

    def values(self) -> ValuesView[Json]:
        return self._index.values()

    def items(self) -> ItemsView[str, Json]:
        return self._index.items()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Fields):
            # Both sorted by name: equal maps are equal pair by pair, as tuples of pairs were.
            return self._index == other._index
        if isinstance(other, Mapping):
            return self._index == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(json.dumps(tuple(self._index.items()), sort_keys=True, default=str))

    def __repr__(self) -> str:
        return f"Fields({self._index!r})"

    def replace(self, **changes: Json) -> Fields:
        """A copy with some fields set (a value of ``None`` is kept, not removed)."""
        if all(name in self._index for name in changes):
            # Names already held keep their place: the copy is in name order unsorted.
            return Fields.in_order({**self._index, **changes})
        return Fields(self._index, **changes)

    def without(self, *names: str) -> Fields:
        """A copy without the named fields."""
        return Fields.in_order({k: v for k, v in self._index.items() if k not in names})

    @classmethod
    def in_order(cls, index: dict[str, Json]) -> Fields:
        """A Fields that takes ``index`` as it is: its keys must be in name order already
        (not checked; decoding and planning make tens of thousands)."""
        made = cls.__new__(cls)
        made._index = index
        return made

    def to_dict(self) -> dict[str, Json]:
        """A plain, mutable copy (for request bodies and JSON output)."""
        return json.loads(json.dumps(self._index))  # type: ignore[no-any-return]


@dataclass(frozen=True, order=True, slots=True)
class Location:
    """Where a value came from: a file relative to the repository root, a 1-based document
    index inside that file, and a 1-based line."""

    file: str
    document: int
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: document {self.document}"


# What `git check-ref-format --allow-onelevel` refuses anywhere in a name.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def valid_ref_name(name: str) -> bool:
    """Whether ``name`` is a ref name git would accept (``git check-ref-format
    --allow-onelevel``: ``main``, ``17/merge``, ``refs/heads/x``), at most 255 characters."""
    if not name or len(name) > 255 or name == "@" or _REF_FORBIDDEN.search(name):
        return False
    if name.startswith("/") or name.endswith(("/", ".")):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


@dataclass(frozen=True, slots=True)
class GitModelVersion:
    """The git facts DataRobot records on a model or version (the API's ``gitModelVersion``)."""

    commit_url: str
    main_branch_commit_sha: str
    pull_request_commit_sha: str | None
    ref_name: str

    def to_api(self) -> dict[str, str | None]:
        return {
            "commitUrl": self.commit_url,
            "mainBranchCommitSha": self.main_branch_commit_sha,
            "pullRequestCommitSha": self.pull_request_commit_sha,
            "refName": self.ref_name,
        }

    @classmethod
    def from_api(cls, raw: Mapping[str, Any] | None) -> GitModelVersion | None:
        """Read the API form; ``None`` when absent or without a main-branch commit."""
        if not raw or not raw.get("mainBranchCommitSha"):
            return None
        return cls(
            commit_url=str(raw.get("commitUrl") or ""),
            main_branch_commit_sha=str(raw["mainBranchCommitSha"]),
            pull_request_commit_sha=raw.get("pullRequestCommitSha") or None,
            ref_name=str(raw.get("refName") or ""),
        )
