"""Checkouts: the files of one commit on disk, and how a ``--ref`` is resolved to a commit.

A checkout is what the manifest loader reads (``root``) plus the facts about where it came
from. For a local repository without ``--ref`` the root is the user's own working tree, used
as it is (``dirty_paths`` lists what differs from ``HEAD``); otherwise it is an export of
the commit in the cache, made with a private index file so that nothing of the user's
repository (working tree, index, branches, worktree list) changes.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from controller.errors import SourceError
from controller.sources.commits import (
    BatchEntry,
    CommitInfo,
    is_full_sha,
    parse_batch,
    parse_commit,
)
from controller.sources.gitrunner import GitRunner

RefKind = Literal["branch", "tag", "commit", "detached"]
_BAD_REF = re.compile(r"[\x00-\x20\x7f]|^-")
_HEX = re.compile(r"^[0-9a-fA-F]{4,40}$")


@dataclass(frozen=True)
class Checkout:
    """The files of one commit, and where they came from.

    ``root`` is the folder the manifest loader reads; ``toplevel`` the repository's top-level
    folder (the user's for a local repository, ``root`` for a clone of a URL). ``ref_name`` is the branch or tag checked out
    (``None`` for a detached commit); ``remote_url`` has its credentials removed.
    ``working_tree`` is True when ``root`` is the user's own working tree.
    """

    root: Path
    toplevel: Path
    commit: CommitInfo
    ref_name: str | None
    ref_kind: RefKind
    remote_url: str | None
    working_tree: bool
    dirty_paths: tuple[str, ...] = ()
    shallow: bool = False

    @property
    def sha(self) -> str:
        return self.commit.sha

    @property
    def dirty(self) -> bool:
        """True when the user's working tree has uncommitted or untracked changes."""
        return bool(self.dirty_paths)


@dataclass(frozen=True)
class ResolvedRef:
    """A ``--ref`` resolved to a commit."""

    commit: CommitInfo
    ref_name: str | None
    ref_kind: RefKind


def check_ref(ref: str) -> None:
    """Refuse refs that could be read as options or break git's line-based input."""
    if not ref or _BAD_REF.search(ref):
        raise SourceError(
            f"--ref {ref!r} is not a valid git ref: it is empty, starts with '-' or holds "
            "spaces or control characters",
            ref=ref,
        )


def ref_candidates(ref: str, *, remote: str | None) -> list[tuple[str, RefKind, str | None]]:
    """Where to look for ``ref``, in order: (revision, kind, name to report)."""
    if ref.startswith("refs/heads/"):
        return [(ref, "branch", ref.removeprefix("refs/heads/"))]
    if ref.startswith("refs/tags/"):
        return [(ref, "tag", ref.removeprefix("refs/tags/"))]
    if ref.startswith("refs/"):
        return [(ref, "detached", ref.removeprefix("refs/"))]
    found: list[tuple[str, RefKind, str | None]] = [
        (f"refs/heads/{ref}", "branch", ref),
        (f"refs/tags/{ref}", "tag", ref),
    ]
    if remote:
        found.append((f"refs/remotes/{remote}/{ref}", "branch", ref))
    kind: RefKind = "commit" if _HEX.match(ref) else "detached"
    found.append((ref, kind, None if kind == "commit" else ref))
    return found


def resolve_ref(
    runner: GitRunner, git_dir: Path, ref: str, *, remote: str | None
) -> ResolvedRef | None:
    """Resolve ``ref`` with one ``git cat-file --batch``; None when nothing matches."""
    candidates = ref_candidates(ref, remote=remote)
    requests = [f"{rev}^{{commit}}" for rev, _, _ in candidates]
    entries = read_objects(runner, git_dir, requests)
    for (_, kind, name), entry in zip(candidates, entries, strict=True):
        if entry.sha and entry.type == "commit":
            return ResolvedRef(parse_commit(entry.sha, entry.content), name, kind)
    return None


def read_commits(runner: GitRunner, git_dir: Path, revs: list[str]) -> list[CommitInfo | None]:
    """Commit facts for each revision (None where it is not a commit we have)."""
    entries = read_objects(runner, git_dir, [f"{rev}^{{commit}}" for rev in revs])
    return [
        parse_commit(e.sha, e.content) if e.sha and e.type == "commit" else None for e in entries
    ]


def read_objects(runner: GitRunner, git_dir: Path, requests: list[str]) -> list[BatchEntry]:
    """Raw objects for each request line, by one ``git cat-file --batch``."""
    if not requests:
        return []
    result = runner.run(
        f"--git-dir={git_dir}",
        "cat-file",
        "--batch",
        input="".join(f"{r}\n" for r in requests).encode("utf-8", "surrogateescape"),
        what="reading commits",
    )
    return parse_batch(result.stdout, requests)


def unknown_ref_error(ref: str, where: str, default_branch: str | None) -> SourceError:
    """The error for a ``--ref`` that names nothing, saying what to do next."""
    hint = "check the spelling, or push the branch or tag first"
    if is_full_sha(ref):
        hint = "the commit may not have been pushed, or it was removed by a force push"
    elif _HEX.match(ref):
        hint = "give the full 40-character commit SHA, or a branch or tag name"
    default = f" (the default branch is {default_branch!r})" if default_branch else ""
    return SourceError(f"--ref {ref!r} was not found in {where}{default}: {hint}", ref=ref)


def export_commit(runner: GitRunner, git_dir: Path, sha: str, tree: Path, index: Path) -> None:
    """Make ``tree`` hold exactly the files of commit ``sha``.

    ``read-tree --reset -u`` with a private index updates only what changed since the last
    export (deleted files go too); the index lives next to the tree, so the repository's own
    index and working tree are never touched. Without an index, or after an export that was
    killed half-way (its lock file is left), the folder starts empty.
    """
    lock = index.with_name(index.name + ".lock")
    if lock.exists():
        # Left by a process killed mid-export (the caller holds the cache entry's lock): the
        # tree may hold files the index does not know, which the next read-tree would keep.
        lock.unlink()
        index.unlink(missing_ok=True)
    if not index.exists() and tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True, exist_ok=True)
    runner.run(
        f"--git-dir={git_dir}",
        f"--work-tree={tree}",
        "-c",
        "core.sparseCheckout=false",
        "read-tree",
        "--reset",
        "-u",
        sha,
        env={"GIT_INDEX_FILE": str(index)},
        what=f"checking out {sha[:12]}",
        hint=f"remove the cache folder {tree.parent} and run again",
    )
