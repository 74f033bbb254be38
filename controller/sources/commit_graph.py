"""The commit graph behind a git source: which commits are here, and which is an ancestor.

:class:`~controller.sources.source.GitSource` keeps one of these and asks it, for each
recorded commit, whether the commit is present and an ancestor of the checkout. A missing
commit is fetched from the remote (a shallow clone is deepened first, once) before it is
called unavailable; a failed fetch is logged, scrubbed, and only means "compare contents
instead". Every answer is cached. It is not locked on its own: the source's lock is held
around every call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from controller import logs
from controller.settings import GitSettings
from controller.sources.checkouts import read_commits, read_objects
from controller.sources.commits import is_full_sha
from controller.sources.gitrunner import GitResult, GitRunner

log = logs.get_logger(__name__)
Ancestry = Literal["yes", "no", "missing"]


class CommitGraph:
    """The commits present in one repository and the ancestry between them, cached.

    ``present`` and ``unavailable`` are the commits known to be here and known not to be
    found even after fetching; ``head`` is the checked-out commit a shallow clone is
    deepened from. ``remote`` is None when missing commits must not be fetched.
    """

    def __init__(
        self,
        *,
        runner: GitRunner,
        git_dir: Path,
        common_dir: Path,
        head: str,
        remote: str | None,
        settings: GitSettings,
    ) -> None:
        self._runner = runner
        self._git_dir = git_dir
        self._common_dir = common_dir
        self._head = head
        self._remote = remote
        self._settings = settings
        self.present: set[str] = {head}
        self.unavailable: set[str] = set()
        self._deepened = False
        self._ancestry: dict[tuple[str, str], Ancestry] = {}

    def prefetch(self, shas: Iterable[str]) -> None:
        """Make the given commits present, with one presence check for all of them and at
        most two fetches (deepen a shallow clone, then fetch the rest by SHA)."""
        wanted = sorted({s for s in shas if s not in self.present} - self.unavailable)
        if not wanted:
            return
        missing = self._check_present(wanted)
        if missing and self._remote is not None:
            missing = self._fetch_missing(missing)
        self.unavailable.update(missing)

    def cached_ancestry(self, ancestor: str, descendant: str) -> Ancestry | None:
        """The ancestry already known for the pair, None when not asked yet."""
        return self._ancestry.get((ancestor, descendant))

    def ancestry_of(self, ancestor: str, descendant: str) -> Ancestry:
        """Whether ``ancestor`` is reachable from ``descendant`` ("yes", "no"), or
        "missing" when either cannot be found, even after fetching; cached per pair."""
        key = (ancestor, descendant)
        if ancestor == descendant and ancestor in self.present:
            return "yes"
        if key not in self._ancestry:
            self._ancestry[key] = self._ask_ancestry(ancestor, descendant)
        return self._ancestry[key]

    def walk_ancestry(self, bases: list[str], head: str) -> None:
        """Record as ancestors of ``head`` the ``bases`` one ``rev-list`` walk back to the
        oldest of them reaches; the others stay unasked (exact, asked alone later)."""
        infos = read_commits(self._runner, self._git_dir, bases)
        dates = [i.authored_at for i in infos if i is not None]
        if not dates:
            return
        # Committer dates are never older than author dates, so walking back to a day before
        # the oldest author date reaches every ancestor among them (clock skew aside: a commit
        # the walk misses is checked alone by changed_paths).
        since = int((min(dates) - timedelta(days=1)).timestamp())
        walked = self._git("rev-list", f"--max-age={since}", head).stdout.decode("ascii").split()
        reachable = set(walked)
        for base in bases:
            if base in reachable:
                self._ancestry[(base, head)] = "yes"

    # -- internals ---------------------------------------------------------------------

    def _git(self, *args: str, **options: Any) -> GitResult:
        return self._runner.run(f"--git-dir={self._git_dir}", *args, **options)

    def _is_shallow(self) -> bool:
        return (self._common_dir / "shallow").exists()

    def _ask_ancestry(self, ancestor: str, descendant: str) -> Ancestry:
        for attempt in range(2):
            result = self._git("merge-base", "--is-ancestor", ancestor, descendant, ok=(0, 1, 128))
            if result.returncode == 0:
                self.present.update((ancestor, descendant))
                return "yes"
            if result.returncode == 128:
                self.prefetch([ancestor, descendant])
                if {ancestor, descendant} & self.unavailable:
                    return "missing"
            elif attempt == 0 and self._can_deepen():
                # In a shallow clone the path between them may simply not be here yet.
                self._deepen()
            else:
                return "no"
        return "no"

    def _check_present(self, shas: list[str]) -> list[str]:
        entries = read_objects(self._runner, self._git_dir, [f"{s}^{{commit}}" for s in shas])
        missing = []
        for sha, entry in zip(shas, entries, strict=True):
            if entry.sha:
                self.present.add(sha)
            else:
                missing.append(sha)
        return missing

    def _fetch_missing(self, missing: list[str]) -> list[str]:
        if self._can_deepen():
            self._deepen()
            missing = self._check_present(missing)
        fetchable = [s for s in missing if is_full_sha(s)]
        if fetchable:
            depth = ("--depth=1",) if self._is_shallow() else ()
            if self._fetch(depth, fetchable, purpose="fetching recorded commits"):
                missing = self._check_present(missing)
        return missing

    def _can_deepen(self) -> bool:
        return self._remote is not None and not self._deepened and self._is_shallow()

    def _deepen(self) -> None:
        self._deepened = True
        self._fetch(
            (f"--deepen={self._settings.fetch_deepen}",),
            [self._head],
            purpose="deepening the shallow clone",
        )

    def _fetch(self, options: tuple[str, ...], refspecs: list[str], *, purpose: str) -> bool:
        """Fetch from the remote; a failure is logged (scrubbed) and answered with False,
        because a missing commit only means "compare contents instead"."""
        assert self._remote is not None  # callers check
        result = self._git(
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-auto-gc",
            *options,
            self._remote,
            *refspecs,
            ok=(0, 1, 128),
            timeout=self._settings.network_timeout_seconds,
        )
        if result.returncode != 0:
            log.warning(
                "git_fetch_failed",
                purpose=purpose,
                error=self._runner.failure(result, purpose),
            )
        return result.returncode == 0
