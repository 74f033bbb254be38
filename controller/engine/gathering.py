"""Gather the evidence of what changed in each managed object's files (I/O; feeds the planner).

For a model, the newest version records the commit it was made from. When that commit is in
this branch's history, one ``git diff`` per distinct recorded commit (shared by every model
recorded there) says which files changed. Otherwise (force push, shallow history that cannot
be deepened, a version made by hand or from a pull request) the version's files are
downloaded and compared by content. Jobs work the same way from the commit in their stamp,
and are compared by content when the stamp is missing or their items changed by hand.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.engine.matching import Matches
from controller.errors import DrGitopsError
from controller.logs import get_logger
from controller.model.desired import DesiredJob, DesiredModel, DesiredState, ResourceKey, Source
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
        self._dirty = frozenset(source.checkout.dirty_paths)

    def gather(
        self, desired: DesiredState, models: Matches[LiveModel], jobs: Matches[LiveJob]
    ) -> Evidence:
        model_tasks = [(m, models.live_for(m.key)) for m in desired.models if m.version is not None]
        job_tasks = [(j, jobs.live_for(j.key)) for j in desired.jobs if j.source is not None]
        # Every recorded commit's diff in a few git processes, however many there are.
        self._source.changed_paths_many(self._recorded_commits(model_tasks, job_tasks))
        model_evidence: dict[ResourceKey, ContentEvidence] = {}
        job_evidence: dict[ResourceKey, ContentEvidence] = {}
        content_checks: list[Callable[[], tuple[ResourceKey, ContentEvidence, bool]]] = []
        for model, live in model_tasks:
            if live is None or live.latest_version is None:
                continue
            found = self._model_by_git(live)
            if found is not None:
                model_evidence[model.key] = found
            else:
                content_checks.append(_bind(self._model_by_content, model, live))
        for job, live_job in job_tasks:
            if live_job is None:
                continue
            found = self._job_by_git(live_job)
            if found is not None:
                job_evidence[job.key] = found
            else:
                content_checks.append(_bind(self._job_by_content, job, live_job))
        with ThreadPoolExecutor(
            max_workers=self._concurrency, thread_name_prefix="evidence"
        ) as pool:
            for key, evidence, is_model in pool.map(lambda check: check(), content_checks):
                (model_evidence if is_model else job_evidence)[key] = evidence
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

    def _model_by_git(self, live: LiveModel) -> ContentEvidence | None:
        version = live.latest_version
        # A version made in a pull request holds the PR's files but records the base commit.
        if version is None or version.git is None or version.git.pull_request_commit_sha:
            return None
        changed = self._changed_since(version.git.main_branch_commit_sha)
        return None if changed is None else ContentEvidence(changed_repo_paths=changed)

    def _job_by_git(self, live: LiveJob) -> ContentEvidence | None:
        stamp = read_stamp(str(live.fields.get("description") or ""))
        if (
            stamp is None
            or not stamp.commit
            or stamp.items != items_digest(i.id for i in live.items)
        ):
            return None  # made or changed by hand since the last sync: compare contents
        changed = self._changed_since(stamp.commit)
        return None if changed is None else ContentEvidence(changed_repo_paths=changed)

    # --- content -------------------------------------------------------------------------

    def _desired_hashes(self, source: Source, live_items: Iterable[LiveItem]) -> dict[str, str]:
        common = {i.file_path for i in live_items}
        return {
            f.path: file_blob_sha1(self._root / f.repo_path)
            for f in source.files
            if f.path in common
        }

    def _model_by_content(
        self, model: DesiredModel, live: LiveModel
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
        return model.key, ContentEvidence(live_hashes=live_hashes, desired_hashes=desired), True

    def _job_by_content(
        self, job: DesiredJob, live: LiveJob
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
        return job.key, ContentEvidence(live_hashes=live_hashes, desired_hashes=desired), False


def _zip_hashes(archive: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if not info.is_dir():
                hashes[info.filename] = git_blob_sha1(zf.read(info))
    return hashes


def _bind(
    check: Callable[[Any, Any], tuple[ResourceKey, ContentEvidence, bool]], desired: Any, live: Any
) -> Callable[[], tuple[ResourceKey, ContentEvidence, bool]]:
    return lambda: check(desired, live)
