"""Gather the evidence of what changed in each managed object's files (I/O; feeds the planner).

For a model, the newest version records the commit it was made from. When that commit is in
this branch's history, one ``git diff`` per distinct recorded commit (shared by every model
recorded there) says which files changed. Otherwise (force push, shallow history that cannot
be deepened, a version made by hand or from a pull request) the version's files are
downloaded and compared by content. Jobs work the same way from the commit in their stamp,
and are compared by content when the stamp is missing or their items changed by hand.

A path that changed says nothing when the source folder itself moved: every file of the
moved folder is "new" to git. So when an object's manifest changed since the recorded
commit, the folder it named then is read from the manifest's text at that commit, and if
it is another folder, the two are compared by path inside the folder and by git blob ID
(the old folder at the recorded commit, the new one now): a move alone changes nothing.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from controller.engine.ownership import MatchResult
from controller.errors import DrGitopsError
from controller.logs import get_logger
from controller.manifests import earlier_source_dirs
from controller.model.desired import (
    DesiredJob,
    DesiredModel,
    DesiredState,
    ResourceKey,
    Source,
)
from controller.model.diffs import ContentEvidence
from controller.model.identity import items_digest, read_stamp
from controller.model.live import LiveItem, LiveJob, LiveModel
from controller.remote import DataRobotClient
from controller.sources import ChangedPaths, GitSource, file_blob_sha1, git_blob_sha1

log = get_logger(__name__)


@dataclass(frozen=True)
class Evidence:
    models: Mapping[ResourceKey, ContentEvidence]
    jobs: Mapping[ResourceKey, ContentEvidence]
    downloads: int = 0
    newer_commits: tuple[str, ...] = ()
    """Recorded commits that descend from the checkout: applying would roll them back."""


class EvidenceGatherer:
    """Collects evidence for every matched object; git answers first, downloads second."""

    def __init__(
        self, source: GitSource, remote: DataRobotClient, root: Path, *, concurrency: int = 4
    ) -> None:
        self._source = source
        self._remote = remote
        self._root = root
        self._concurrency = max(1, concurrency)
        self._changed: dict[str, frozenset[str] | None] = {}
        # (commit, manifest file) -> the source folders its manifests named then
        self._earlier: dict[tuple[str, str], dict[tuple[str, str], str | None]] = {}

    def gather(self, desired: DesiredState, matched: MatchResult) -> Evidence:
        """What is known of the files of ``desired``'s models and jobs, paired with their
        live objects in ``matched``."""
        models, jobs = matched.models, matched.jobs
        model_tasks = [(m, models.live_for(m.key)) for m in desired.models if m.version is not None]
        job_tasks = [(j, jobs.live_for(j.key)) for j in desired.jobs if j.source is not None]
        # Every recorded commit's diff in a few git processes, however many there are.
        model_commits = {
            live.git.main_branch_commit_sha
            for _, live in model_tasks
            if live is not None and live.git is not None
        }
        recorded = self._recorded_commits(model_tasks, job_tasks)
        self._source.changed_paths_many(recorded | model_commits)
        # The manifests (as they were at the recorded commits) that may have moved a source
        # folder since: read in one git process.
        self._source.files_at(self._earlier_manifests(model_tasks, job_tasks))
        model_evidence: dict[ResourceKey, ContentEvidence] = {}
        job_evidence: dict[ResourceKey, ContentEvidence] = {}
        content_checks: list[Callable[[], tuple[ResourceKey, ContentEvidence, bool]]] = []
        for model, live in model_tasks:
            if live is None or live.latest_version is None:
                continue
            found = self._model_by_git(model, live)
            if isinstance(found, ContentEvidence):
                model_evidence[model.key] = found
            else:
                content_checks.append(_bind(self._model_by_content, model, live, found))
        for job, live_job in job_tasks:
            if live_job is None:
                continue
            found = self._job_by_git(job, live_job)
            if isinstance(found, ContentEvidence):
                job_evidence[job.key] = found
            else:
                content_checks.append(_bind(self._job_by_content, job, live_job, found))
        with ThreadPoolExecutor(
            max_workers=self._concurrency, thread_name_prefix="evidence"
        ) as pool:
            for key, evidence, is_model in pool.map(lambda check: check(), content_checks):
                (model_evidence if is_model else job_evidence)[key] = evidence
        for model, live in model_tasks:
            if model.key in model_evidence and live is not None and self._commit_gone(live):
                model_evidence[model.key] = replace(
                    model_evidence[model.key], model_commit_gone=True
                )
        # Only commits the diffs could not use are asked about (usually none): one git
        # process each.
        newer = tuple(
            sorted(
                commit
                for commit, changed in self._changed.items()
                if changed is None and self._source.is_ancestor(self._source.checkout.sha, commit)
            )
        )
        return Evidence(model_evidence, job_evidence, len(content_checks), newer)

    # --- git -----------------------------------------------------------------------------

    @staticmethod
    def _recorded_commits(
        models: Iterable[tuple[DesiredModel, LiveModel | None]],
        jobs: Iterable[tuple[DesiredJob, LiveJob | None]],
    ) -> set[str]:
        shas = set()
        for _, live in models:
            version = live.latest_version if live else None
            if version and version.git:
                shas.add(version.git.main_branch_commit_sha)
        for _, job in jobs:
            stamp = read_stamp(str(job.fields.get("description") or "")) if job else None
            if stamp and stamp.commit:
                shas.add(stamp.commit)
        return shas

    @cached_property
    def _dirty(self) -> frozenset[str]:
        """Working-tree paths whose bytes differ from the checkout's commit: a mode changed
        alone (``chmod +x``), or a file touched and put back, is no change."""
        paths = self._source.checkout.dirty_paths
        if not paths:
            return frozenset()
        committed = self._source.blob_shas()
        return frozenset(
            p
            for p in paths
            if not (self._root / p).is_file() or committed.get(p) != file_blob_sha1(self._root / p)
        )

    def _changed_since(self, commit: str) -> frozenset[str] | None:
        """Repository paths changed since ``commit`` (dirty paths included), or None."""
        if commit not in self._changed:
            changes = self._source.changed_paths(commit)
            if isinstance(changes, ChangedPaths):
                self._changed[commit] = frozenset(changes.paths) | self._dirty
            else:
                log.info("recorded_commit_unknown", commit=commit[:12], reason=changes.reason)
                self._changed[commit] = None
        return self._changed[commit]

    def _model_by_git(self, model: DesiredModel, live: LiveModel) -> ContentEvidence | bool:
        """Evidence from git, or whether the download to make instead compares with a
        version whose recorded commit is in this branch's history (True) or not (False)."""
        version = live.latest_version
        # A version made in a pull request holds the PR's files but records the base commit.
        if version is None or version.git is None or version.git.pull_request_commit_sha:
            return False
        assert model.version is not None
        return self._by_git(
            model.key,
            version.git.main_branch_commit_sha,
            model.location.file,
            model.version.source,
            version.items,
        )

    def _job_by_git(self, job: DesiredJob, live: LiveJob) -> ContentEvidence | bool:
        stamp = read_stamp(str(live.fields.get("description") or ""))
        if (
            stamp is None
            or not stamp.commit
            or stamp.items != items_digest(i.id for i in live.items)
        ):
            return False  # made or changed by hand since the last sync: compare contents
        assert job.source is not None
        return self._by_git(job.key, stamp.commit, job.location.file, job.source, live.items)

    def _by_git(
        self,
        key: ResourceKey,
        commit: str,
        manifest: str,
        source: Source,
        live_items: Iterable[LiveItem],
    ) -> ContentEvidence | bool:
        changed = self._changed_since(commit)
        if changed is None:
            return False
        if manifest not in changed:  # the same manifest names the same folder
            return ContentEvidence(changed_repo_paths=changed)
        old_dir = self._earlier_dir(commit, manifest, key)
        if old_dir == source.dir:
            return ContentEvidence(changed_repo_paths=changed)
        if old_dir is None:
            log.info("earlier_source_unknown", key=str(key), commit=commit[:12])
            return True
        log.debug("source_moved", key=str(key), old=old_dir, new=source.dir)
        return self._moved(commit, old_dir, source, live_items)

    def _moved(
        self, commit: str, old_dir: str, source: Source, live_items: Iterable[LiveItem]
    ) -> ContentEvidence:
        """Blob IDs of the version's files in ``old_dir`` at ``commit`` and of the same
        paths in the source of now, for the paths both have (others are added or deleted
        whatever their content)."""
        prefix = f"{old_dir}/" if old_dir else ""
        then = self._source.blob_shas(commit, prefixes=[old_dir or "."])
        common = {i.file_path for i in live_items}
        live = {p: then[prefix + p] for p in common if prefix + p in then}
        desired = {f.path: self._blob_now(f.repo_path) for f in source.files if f.path in common}
        return ContentEvidence(
            live_hashes=live, desired_hashes=desired, in_history=True, moved_from=old_dir
        )

    def _blob_now(self, repo_path: str) -> str:
        """A file's blob ID as committed (its clean form), or of its bytes when dirty."""
        committed = None if repo_path in self._dirty else self._source.blob_shas().get(repo_path)
        return committed or file_blob_sha1(self._root / repo_path)

    def _earlier_dir(self, commit: str, manifest: str, key: ResourceKey) -> str | None:
        """The source folder the manifest of ``key`` named at ``commit`` (see
        :func:`~controller.manifests.earlier_source_dir`), or None when unknown."""
        path: str | None = manifest
        if self._source.files_at([(commit, manifest)])[(commit, manifest)] is None:
            path = self._earlier_path(commit, manifest)
        if path is None:
            return None
        if (commit, path) not in self._earlier:
            raw = self._source.files_at([(commit, path)])[(commit, path)]
            self._earlier[(commit, path)] = {} if raw is None else earlier_source_dirs(raw, path)
        return self._earlier[(commit, path)].get((key.kind, key.name))

    def _earlier_path(self, commit: str, manifest: str) -> str | None:
        """Where a manifest file that is new since ``commit`` was then, if it was moved
        unchanged: the one path that held the same blob then and is gone now."""
        blob = self._blob_now(manifest)
        now = self._source.blob_shas()
        then = [p for p, b in self._source.blob_shas(commit).items() if b == blob and p not in now]
        return then[0] if len(then) == 1 else None

    def _earlier_manifests(
        self,
        models: Iterable[tuple[DesiredModel, LiveModel | None]],
        jobs: Iterable[tuple[DesiredJob, LiveJob | None]],
    ) -> list[tuple[str, str]]:
        """``(recorded commit, manifest path)`` of the objects whose manifest changed since."""
        wanted = []
        for model, live in models:
            version = live.latest_version if live else None
            if version and version.git:
                wanted.append((version.git.main_branch_commit_sha, model.location.file))
        for job, live_job in jobs:
            stamp = read_stamp(str(live_job.fields.get("description") or "")) if live_job else None
            if stamp and stamp.commit:
                wanted.append((stamp.commit, job.location.file))
        return [
            (commit, path)
            for commit, path in wanted
            if (changed := self._changed_since(commit)) is not None and path in changed
        ]

    def _commit_gone(self, live: LiveModel) -> bool:
        """True when the model's own recorded commit is neither in this branch's history
        nor ahead of the checkout (a rewritten commit)."""
        git = live.git
        if git is None or git.pull_request_commit_sha:
            return False
        sha, head = git.main_branch_commit_sha, self._source.checkout.sha
        return not self._source.is_ancestor(sha) and not self._source.is_ancestor(head, sha)

    # --- content -------------------------------------------------------------------------

    def _desired_hashes(self, source: Source, live_items: Iterable[LiveItem]) -> dict[str, str]:
        common = {i.file_path for i in live_items}
        return {
            f.path: file_blob_sha1(self._root / f.repo_path)
            for f in source.files
            if f.path in common
        }

    def _model_by_content(
        self, model: DesiredModel, live: LiveModel, in_history: bool
    ) -> tuple[ResourceKey, ContentEvidence, bool]:
        version = live.latest_version
        assert version is not None
        assert model.version is not None
        try:
            with tempfile.TemporaryDirectory(prefix="dr-gitops-version-") as tmp:
                archive = self._remote.download_version(
                    live.id, version.id, Path(tmp) / "version.zip"
                )
                live_hashes = _zip_hashes(archive)
        except (DrGitopsError, zipfile.BadZipFile) as exc:
            log.warning("version_download_failed", model=str(model.key), error=str(exc))
            live_hashes = {}  # unknown contents: every common file counts as changed
        desired = self._desired_hashes(model.version.source, version.items)
        evidence = ContentEvidence(
            live_hashes=live_hashes, desired_hashes=desired, in_history=in_history
        )
        return model.key, evidence, True

    def _job_by_content(
        self, job: DesiredJob, live: LiveJob, in_history: bool
    ) -> tuple[ResourceKey, ContentEvidence, bool]:
        assert job.source is not None
        wanted = job.source.paths()
        live_hashes: dict[str, str] = {}
        for item in live.items:
            if item.file_path not in wanted:
                continue
            try:
                content = self._remote.get_job_item(live.id, item.id).content
            except DrGitopsError as exc:
                log.info(
                    "job_item_unreadable", job=str(job.key), path=item.file_path, error=str(exc)
                )
                continue
            live_hashes[item.file_path] = git_blob_sha1(content.encode("utf-8"))
        desired = self._desired_hashes(job.source, live.items)
        evidence = ContentEvidence(
            live_hashes=live_hashes, desired_hashes=desired, in_history=in_history
        )
        return job.key, evidence, False


def _zip_hashes(archive: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if not info.is_dir():
                hashes[info.filename] = git_blob_sha1(zf.read(info))
    return hashes


def _bind(
    check: Callable[[Any, Any, bool], tuple[ResourceKey, ContentEvidence, bool]],
    desired: Any,
    live: Any,
    in_history: bool,
) -> Callable[[], tuple[ResourceKey, ContentEvidence, bool]]:
    return lambda: check(desired, live, in_history)
