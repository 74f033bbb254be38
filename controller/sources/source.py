"""An opened git source: the checkout plus cached answers to history questions.

The engine asks, per distinct recorded commit, whether it is known and an ancestor of the
checkout, and which paths changed since; and, for the content fallback, the blob SHA-1 of
every file at a commit. Every answer is cached, so asking for 1,000 models recorded at the
same commit costs what asking once does. Presence and ancestry are the
:class:`~controller.sources.commit_graph.CommitGraph`'s: missing commits are fetched (a
shallow clone is deepened first) before an answer of "unknown" is given; nothing here raises
for a commit that cannot be found.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType
from typing import Any

from controller import logs
from controller.errors import ConfigError
from controller.model.trees import CommittedTree
from controller.model.values import GitModelVersion
from controller.repository_settings import (
    RepositorySettings,
    parse_repository_settings,
    repository_settings_path,
)
from controller.settings import GitSettings
from controller.sources.changes import (
    ChangedPaths,
    Changes,
    UnknownChanges,
    parse_raw_diff,
    select_prefixed,
    split_diff_blocks,
    touching_folders,
)
from controller.sources.checkouts import Checkout, read_commits, read_objects
from controller.sources.ci import CiFacts
from controller.sources.commit_graph import CommitGraph
from controller.sources.commits import CommitInfo, is_full_sha
from controller.sources.git_model_versions import git_model_version
from controller.sources.gitrunner import GitResult, GitRunner
from controller.sources.objectids import committed_tree
from controller.sources.remotes import derive_namespace, display_url

log = logs.get_logger(__name__)


class GitSource:
    """A checkout and the repository behind it. Use as a context manager, or ``close()``:
    a cached checkout stays locked against other dr-gitops processes until then.

    ``git_calls`` counts the git subprocesses started so far (``git_commands`` by
    subcommand), so callers and tests can see what a question cost.
    """

    def __init__(
        self,
        *,
        runner: GitRunner,
        git_dir: Path,
        common_dir: Path,
        checkout: Checkout,
        remote: str | None,
        settings: GitSettings,
        lock: Any = None,
    ) -> None:
        self.checkout = checkout
        self._runner = runner
        self._git_dir = git_dir
        self._settings = settings
        self._given = settings
        self.repository = RepositorySettings()
        self._manifests_path = ""
        self._lock_file = lock
        self._mutex = threading.RLock()
        self._graph = CommitGraph(
            runner=runner,
            git_dir=git_dir,
            common_dir=common_dir,
            head=checkout.sha,
            remote=remote if settings.fetch_missing_commits else None,
            settings=settings,
        )
        self._diffs: dict[tuple[str, str], Changes] = {}
        self._trees: dict[str, Mapping[str, str]] = {}
        self._tree_paths: dict[str, tuple[str, ...]] = {}
        self._files: dict[tuple[str, str], bytes | None] = {}
        self._committed: CommittedTree | None = None
        self._ignored: tuple[str, ...] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Release the cache lock (if any). The source must not be used afterwards."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> GitSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def git_calls(self) -> int:
        return self._runner.calls

    @property
    def git_commands(self) -> Mapping[str, int]:
        return dict(self._runner.commands)

    @property
    def cache_dir(self) -> Path | None:
        """The cache folder of the settings (clones, exports, parsed manifests)."""
        return self._settings.cache_dir

    @property
    def git_dir(self) -> Path:
        return self._git_dir

    # -- identity ----------------------------------------------------------------------

    def namespace(self) -> str:
        """The configured namespace, else one derived from the remote (see
        :func:`~controller.sources.remotes.derive_namespace`)."""
        if self._settings.namespace:
            return self._settings.namespace
        return derive_namespace(self.checkout.remote_url, self.checkout.toplevel.name)

    def use_repository_settings(self, repository: RepositorySettings, manifests_path: str) -> None:
        """Complete the settings with the repository's settings file (read from the
        checkout for the manifest root ``manifests_path``); called once, on opening."""
        self.repository = repository
        self._manifests_path = manifests_path
        self._settings = self._given.with_repository(repository)

    def namespace_origin(self) -> str:
        """Where :meth:`namespace` comes from, in words (for messages)."""
        if self._settings.namespace_from:
            return self._settings.namespace_from
        if self.checkout.remote_url:
            return f"derived from the git remote {display_url(self.checkout.remote_url)}"
        return f"derived from the folder name {self.checkout.toplevel.name!r} (no git remote)"

    @property
    def namespace_pinned(self) -> bool:
        """True when the namespace is set (flag, environment or settings file), not derived."""
        return self._settings.namespace is not None

    def namespace_at(self, commit: str) -> str | None:
        """The namespace the same flags and environment give at ``commit``, whose settings
        file may say another; None when the commit or its settings file cannot be read."""
        if self._given.namespace is not None:
            return self._given.namespace
        if not self.has_commit(commit):
            return None
        shown = repository_settings_path(self._manifests_path)
        (entry,) = read_objects(self._runner, self._git_dir, [f"{commit}:{shown}"])
        namespace = None
        if entry.sha is not None and entry.type == "blob":
            try:
                namespace = parse_repository_settings(entry.content, shown).namespace
            except ConfigError as exc:
                log.info("base_settings_unreadable", commit=commit[:12], error=str(exc))
                return None
        return namespace or derive_namespace(self.checkout.remote_url, self.checkout.toplevel.name)

    def git_model_version(self, ci: CiFacts | None) -> GitModelVersion:
        """The ``gitModelVersion`` for what is checked out, from what the CI system says
        (``ci``, read at the edge; None outside CI) or plain git."""
        return git_model_version(
            self.checkout,
            ci,
            commit_url_template=self._settings.commit_url_template,
        )

    # -- commits -----------------------------------------------------------------------

    def commit(self, rev: str) -> CommitInfo | None:
        """Facts about one commit (fetched when missing and a full SHA); None if unknown."""
        with self._mutex:
            if is_full_sha(rev):
                self.prefetch([rev])
                if rev not in self._graph.present:
                    return None
            return read_commits(self._runner, self._git_dir, [rev])[0]

    def has_commit(self, sha: str) -> bool:
        """True when the commit is in the local repository, after fetching it if needed."""
        with self._mutex:
            self.prefetch([sha])
            return sha in self._graph.present

    def prefetch(self, shas: Iterable[str]) -> None:
        """Make the given commits present, with one presence check for all of them and at
        most two fetches (deepen a shallow clone, then fetch the rest by SHA)."""
        with self._mutex:
            self._graph.prefetch(shas)

    def is_ancestor(self, ancestor: str, descendant: str | None = None) -> bool:
        """True when ``ancestor`` is reachable from ``descendant`` (default: the checkout).
        False when it is not, or when either commit cannot be found."""
        with self._mutex:
            return self._graph.ancestry_of(ancestor, descendant or self.checkout.sha) == "yes"

    # -- changes and contents ----------------------------------------------------------

    def changed_paths(
        self,
        base: str,
        head: str | None = None,
        *,
        prefixes: Iterable[str] | None = None,
        require_ancestor: bool = True,
    ) -> Changes:
        """Paths changed from ``base`` to ``head`` (default: the checkout), limited to
        ``prefixes`` when given.

        One ``git diff-tree`` per distinct (base, head), cached; filtering by prefix happens
        on the cached answer. With ``require_ancestor`` (the default) the answer is
        :class:`UnknownChanges` unless ``base`` is an ancestor of ``head`` (one more
        ``git merge-base`` per pair, also cached). A tree diff is exact whatever the
        ancestry, so ``require_ancestor=False`` is safe when only contents matter.
        """
        head = head or self.checkout.sha
        with self._mutex:
            if require_ancestor:
                ancestry = self._graph.ancestry_of(base, head)
                if ancestry != "yes":
                    reason = (
                        f"commit {base[:12]} is not an ancestor of {head[:12]} (history rewritten?)"
                        if ancestry == "no"
                        else f"commit {base[:12]} was not found, even after fetching"
                    )
                    return UnknownChanges(base, head, reason)
            full = self._diff(base, head)
        return full.under(prefixes) if isinstance(full, ChangedPaths) else full

    def changed_paths_many(
        self, bases: Iterable[str], head: str | None = None
    ) -> dict[str, Changes]:
        """:meth:`changed_paths` (ancestry required) for many recorded commits at once.

        However many distinct commits models were recorded at, this costs a few git
        processes, not two per commit: one ``cat-file`` for their dates, one ``rev-list``
        walk back to the oldest of them for ancestry, one ``diff-tree --stdin`` for every
        diff. A commit the walk did not reach is asked about alone (exact, rarely needed).
        """
        head = head or self.checkout.sha
        wanted = sorted(set(bases))
        with self._mutex:
            self.prefetch(wanted)
            graph = self._graph
            present = [
                b for b in wanted if b in graph.present and graph.cached_ancestry(b, head) is None
            ]
            if len(present) > 2:
                graph.walk_ancestry(present, head)
            answers = {
                b: self.changed_paths(b, head, require_ancestor=True)
                for b in wanted
                if not self._diff_due(b, head)
            }
            due = [b for b in wanted if self._diff_due(b, head)]
            if len(due) > 2:
                self._diff_many(due, head)
            answers.update({b: self.changed_paths(b, head) for b in due})
        return answers

    def _diff_due(self, base: str, head: str) -> bool:
        """A diff still to compute for an ancestor ``base`` of ``head``."""
        return self._graph.cached_ancestry(base, head) == "yes" and (base, head) not in self._diffs

    def _diff_many(self, bases: list[str], head: str) -> None:
        # "HEAD BASE" reads as commit HEAD with parent BASE: a diff from BASE to HEAD. With
        # --always every line gets a header ("HEAD BASE"), empty diffs included.
        lines = "".join(f"{head} {base}\n" for base in bases).encode("ascii")
        args = ("diff-tree", "--stdin", "--always", "-r", "-z", "--no-renames", "--raw")
        result = self._git(*args, "--format=%H %P", input=lines)
        for base, output in split_diff_blocks(result.stdout, head).items():
            self._diffs[(base, head)] = parse_raw_diff(output, base, head)
        self._graph.present.update(bases)

    def ignored(self, folders: Iterable[str]) -> tuple[str, ...]:
        """Paths under ``folders`` that git ignores and does not track (a folder ends in
        ``/``), in a working-tree checkout; nothing otherwise (a commit holds no such file).
        One ``git ls-files`` of the whole working tree (shared with :meth:`committed_tree`),
        sorted out here."""
        wanted = sorted({f for f in folders if f})
        if not self.checkout.working_tree or not wanted:
            return ()
        return tuple(touching_folders(self._ignored_paths(), wanted))

    def committed_tree(self) -> CommittedTree | None:
        """The object IDs of the checkout's folders and YAML files, and the paths where the
        files on disk may differ from them (see :class:`CommittedTree`): one
        ``git ls-tree`` and, in a working tree, one ``git ls-files`` of the ignored paths
        (the status was read when the source was opened). Cached. ``None`` for a sparse
        working tree, where files the commit holds are missing without git saying so."""
        if self.checkout.working_tree and (self._git_dir / "info" / "sparse-checkout").exists():
            return None
        with self._mutex:
            if self._committed is None:
                unsettled: set[str] = set()
                # The ignored paths are listed while ls-tree runs: two processes side by
                # side (each waits on the disk; at 10,000 models 0.2-0.3 s of wall apiece).
                with ThreadPoolExecutor(1, thread_name_prefix="git") as side:
                    ignored = (
                        side.submit(contextvars.copy_context().run, self._list_ignored)
                        if self.checkout.working_tree and self._ignored is None
                        else None
                    )
                    listing = self._tree_listing(("-t",), self.checkout.sha)
                    if ignored is not None:
                        self._ignored = ignored.result()
                if self.checkout.working_tree:
                    unsettled = {*self.checkout.dirty_paths, *self._ignored_paths()}
                self._committed = committed_tree(listing, self.checkout.sha, unsettled)
            return self._committed

    def _ignored_paths(self) -> tuple[str, ...]:
        with self._mutex:
            if self._ignored is None:
                self._ignored = self._list_ignored()
            return self._ignored

    def _list_ignored(self) -> tuple[str, ...]:
        result = self._runner.run(
            "-C",
            str(self.checkout.toplevel),
            "ls-files",
            "-z",
            "--others",
            "--ignored",
            "--exclude-standard",
            "--directory",
            what="listing the files git ignores",
        )
        return tuple(p.decode("utf-8", "surrogateescape") for p in result.stdout.split(b"\0") if p)

    def blob_shas(
        self, commit: str | None = None, *, prefixes: Iterable[str] | None = None
    ) -> Mapping[str, str]:
        """``{path: blob SHA-1}`` of every file at ``commit`` (default: the checkout), from
        one cached ``git ls-tree -r``; limited to ``prefixes`` when given."""
        sha = commit or self.checkout.sha
        with self._mutex:
            tree = self._trees.get(sha)
            if tree is None:
                tree = self._list_tree(sha)
                self._trees[sha] = tree
                self._tree_paths[sha] = tuple(sorted(tree))
            paths = self._tree_paths[sha]
        if prefixes is None:
            return tree
        return MappingProxyType(
            {paths[i]: tree[paths[i]] for i in select_prefixed(paths, prefixes)}
        )

    def files_at(self, wanted: Iterable[tuple[str, str]]) -> Mapping[tuple[str, str], bytes | None]:
        """The content of each ``(commit, path)`` (``None`` when the commit holds no such
        file), from one ``git cat-file --batch`` for all of them; answers are cached."""
        with self._mutex:
            asked = sorted({w for w in wanted if w not in self._files})
            for key in [w for w in asked if "\n" in w[1] or not w[1]]:
                self._files[key] = None  # cannot be asked on cat-file's line-based input
            asked = [w for w in asked if w not in self._files]
            entries = read_objects(self._runner, self._git_dir, [f"{c}:{p}" for c, p in asked])
            for key, entry in zip(asked, entries, strict=True):
                self._files[key] = entry.content if entry.type == "blob" else None
            return {w: self._files[w] for w in wanted}

    # -- internals ---------------------------------------------------------------------

    def _git(self, *args: str, **options: Any) -> GitResult:
        return self._runner.run(f"--git-dir={self._git_dir}", *args, **options)

    def _diff(self, base: str, head: str) -> Changes:
        key = (base, head)
        if key in self._diffs:
            return self._diffs[key]
        if base == head and base in self._graph.present:  # nothing changed since the last apply
            self._diffs[key] = ChangedPaths(base, head, ())
            return self._diffs[key]
        args = ("diff-tree", "-r", "-z", "--no-renames", "--raw", base, head)
        result = self._git(*args, ok=(0, 128))
        if result.returncode == 128:
            self.prefetch([base, head])
            if {base, head} & self._graph.unavailable:
                answer: Changes = UnknownChanges(
                    base, head, f"commit {base[:12]} was not found, even after fetching"
                )
                self._diffs[key] = answer
                return answer
            result = self._git(*args)
        self._graph.present.update(key)
        answer = parse_raw_diff(result.stdout, base, head)
        self._diffs[key] = answer
        log.debug("git_changed_paths", base=base, head=head, changes=len(answer.changes))
        return answer

    def _list_tree(self, sha: str) -> Mapping[str, str]:
        blobs: dict[str, str] = {}
        for entry in self._tree_listing((), sha).split(b"\0"):
            meta, _, path = entry.partition(b"\t")
            fields = meta.split(b" ")
            if len(fields) == 3 and fields[1] == b"blob":
                blobs[path.decode("utf-8", "surrogateescape")] = fields[2].decode("ascii")
        return MappingProxyType(blobs)

    def _tree_listing(self, options: tuple[str, ...], sha: str) -> bytes:
        """``git ls-tree -r -z`` of the whole commit ``sha``, fetched first when missing."""
        args = ("ls-tree", "-r", *options, "-z", "--full-tree", sha)
        result = self._git(*args, ok=(0, 128))
        if result.returncode == 128 and is_full_sha(sha):
            self.prefetch([sha])
            result = self._git(*args, ref=sha)
        elif result.returncode == 128:
            self._git(*args, ref=sha)  # raises, explained
        return result.stdout
