"""What git says about a checkout's files: the object IDs of its folders and YAML files,
and the paths where the files on disk may differ from what the commit holds.

The manifest loader uses it to reuse what it built from unchanged manifests and source
folders (``controller.manifests.buildcache``): equal object IDs mean equal contents, so a
folder whose tree ID is unchanged, and which holds no uncommitted, untracked or ignored
path, lists the same files as last time without being walked.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommittedTree:
    """Object IDs at the checkout's commit, by path relative to the repository's top.

    ``ids``: every folder (no trailing ``/``) and every ``*.yaml``/``*.yml`` file.
    ``unsettled``: sorted paths whose files on disk may differ from the commit: uncommitted
    and untracked paths, and those git ignores; a folder ends in ``/`` and stands for
    everything under it.
    """

    commit: str
    ids: Mapping[str, str]
    unsettled: tuple[str, ...] = ()
    links: frozenset[str] = frozenset()  # the YAML paths among ``ids`` that are symbolic links
    submodules: tuple[str, ...] = ()  # folders holding another repository's commit
    # A .gitattributes is committed: its filters (Git LFS, line endings) can make the files
    # on disk differ from the blobs in ways the IDs do not show.
    attributes: bool = False

    def settled(self, path: str) -> bool:
        """Whether the file or folder ``path`` is on disk exactly as the commit holds it:
        no unsettled path at it, under it, or above it."""
        marks = self.unsettled
        if not marks:
            return True
        if not path:
            return False
        if _at(marks, path):
            return False
        inside = path + "/"
        index = bisect_left(marks, inside)
        if index < len(marks) and marks[index].startswith(inside):
            return False
        cut = path.rfind("/")
        while cut > 0:
            if _at(marks, path[: cut + 1]):
                return False
            cut = path.rfind("/", 0, cut)
        return True


def _at(marks: tuple[str, ...], path: str) -> bool:
    index = bisect_left(marks, path)
    return index < len(marks) and marks[index] == path
