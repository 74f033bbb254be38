"""The object IDs of a commit's folders and YAML files, read from ``git ls-tree``.

The manifest loader recalls what unchanged files built by these IDs
(:class:`~controller.model.trees.CommittedTree`); reading them is one git process and one
pass over its output, keeping only what the loader asks about.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from types import MappingProxyType

from controller.model.trees import CommittedTree

_YAML = (b".yaml", b".yml")


def committed_tree(listing: bytes, commit: str, unsettled: Collection[str]) -> CommittedTree:
    """The tree of ``commit`` from its ``ls-tree -r -t -z`` listing: the IDs of folders and
    YAML files by path, which of those files are symbolic links, the submodules, and whether
    a ``.gitattributes`` is among the files; ``unsettled`` as the working tree says."""
    found = _read(listing)
    return CommittedTree(
        commit,
        MappingProxyType(found.ids),
        tuple(sorted(unsettled)),
        frozenset(found.links),
        tuple(found.submodules),
        found.attributes,
    )


def _read(listing: bytes) -> _TreeIds:
    found = _TreeIds()
    for entry in listing.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        mode, _, rest = meta.partition(b" ")
        kind, _, oid = rest.partition(b" ")  # "<mode> <type> <id>"
        if kind == b"tree" or (kind == b"blob" and path.endswith(_YAML)):
            name = path.decode("utf-8", "surrogateescape")
            found.ids[name] = oid.decode("ascii")
            if mode == b"120000":
                found.links.add(name)
        elif kind == b"commit":
            found.submodules.append(path.decode("utf-8", "surrogateescape"))
        elif path == b".gitattributes" or path.endswith(b"/.gitattributes"):
            found.attributes = True
    return found


@dataclass
class _TreeIds:
    ids: dict[str, str] = field(default_factory=dict)
    links: set[str] = field(default_factory=set)
    submodules: list[str] = field(default_factory=list)
    attributes: bool = False
