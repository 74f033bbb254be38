"""What the CI system says about the commit being built (GitHub Actions, GitLab CI).

:func:`read_ci` is pure: it takes the environment as a mapping and, for GitHub, the event
payload (read at the edge with :func:`load_github_event`). The facts it returns are turned
into a ``gitModelVersion`` by :mod:`controller.sources.git_model_versions`.

GitHub Actions (``GITHUB_ACTIONS=true``)
  - ``pull_request`` (and ``pull_request_review[_comment]``): ``GITHUB_SHA`` is the merge
    commit GitHub made on ``refs/pull/N/merge``. Main-branch commit: its first parent (the
    base branch tip it was merged onto), else the payload's ``pull_request.base.sha``.
    Pull-request commit: the payload's ``pull_request.head.sha``, else the merge commit's
    second parent.
  - ``pull_request_target``: ``GITHUB_SHA`` is the base branch tip; it is the main-branch
    commit, the payload's head SHA the pull-request commit.
  - any other event (push, workflow_dispatch, schedule, merge_group, ...): ``GITHUB_SHA``.
  - refName: ``GITHUB_REF_NAME`` (``main``, ``v1.2``, ``42/merge``).
  - web URL: ``GITHUB_SERVER_URL/GITHUB_REPOSITORY``.

GitLab CI (``GITLAB_CI=true``)
  - branch and tag pipelines: ``CI_COMMIT_SHA``.
  - merged results and merge train pipelines (``CI_MERGE_REQUEST_SOURCE_BRANCH_SHA`` set
    and different from ``CI_COMMIT_SHA``, the merge GitLab made): main-branch commit
    ``CI_MERGE_REQUEST_TARGET_BRANCH_SHA`` (else the merge's first parent); pull-request
    commit ``CI_MERGE_REQUEST_SOURCE_BRANCH_SHA``.
  - merge request pipelines on the source branch ("detached"): pull-request commit
    ``CI_COMMIT_SHA``; main-branch commit ``CI_MERGE_REQUEST_DIFF_BASE_SHA``.
  - external pull request pipelines: the ``CI_EXTERNAL_PULL_REQUEST_*_BRANCH_SHA`` pair.
  - refName: ``CI_COMMIT_REF_NAME``; web URL: ``CI_PROJECT_URL``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from controller import logs

log = logs.get_logger(__name__)

CiSystem = Literal["github-actions", "gitlab-ci"]
_GITHUB_PR_EVENTS = frozenset(
    {"pull_request", "pull_request_review", "pull_request_review_comment"}
)


@dataclass(frozen=True)
class CiFacts:
    """The commit a CI job builds and what it stands for.

    ``commit_sha`` is what the CI checked out. When ``merge_commit`` is true it is a merge
    the CI made, whose first parent is the main-branch commit unless ``main_branch_sha``
    says otherwise. ``base_sha`` is the fallback main-branch commit from the event when
    neither is known. ``repo_path`` is ``owner/repo`` (``group/sub/project``).
    """

    system: CiSystem
    event: str
    commit_sha: str
    ref_name: str
    web_url: str | None
    repo_path: str | None
    main_branch_sha: str | None = None
    pull_request_sha: str | None = None
    base_sha: str | None = None
    merge_commit: bool = False
    pull_request: bool = False
    """The pipeline runs for a pull/merge request, whatever is checked out."""


def read_ci(env: Mapping[str, str], event: Mapping[str, Any] | None = None) -> CiFacts | None:
    """The CI facts in ``env`` (and the GitHub ``event`` payload), or None outside CI."""
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_SHA"):
        return _github(env, event or {})
    if env.get("GITLAB_CI") == "true" and env.get("CI_COMMIT_SHA"):
        return _gitlab(env)
    return None


def load_github_event(env: Mapping[str, str]) -> dict[str, Any] | None:
    """The event payload GitHub Actions wrote to ``GITHUB_EVENT_PATH`` (None when absent
    or unreadable: the facts then come from the environment and git alone)."""
    path = env.get("GITHUB_EVENT_PATH")
    if env.get("GITHUB_ACTIONS") != "true" or not path:
        return None
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("github_event_unreadable", path=path, error=type(exc).__name__)
        return None
    return payload if isinstance(payload, dict) else None


def _github(env: Mapping[str, str], event: Mapping[str, Any]) -> CiFacts:
    sha = env["GITHUB_SHA"]
    name = env.get("GITHUB_EVENT_NAME", "")
    repository = env.get("GITHUB_REPOSITORY") or None
    server = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    common = CiFacts(
        system="github-actions",
        event=name,
        commit_sha=sha,
        ref_name=env.get("GITHUB_REF_NAME") or _short_ref(env.get("GITHUB_REF", "")),
        web_url=f"{server}/{repository}" if repository else None,
        repo_path=repository,
    )
    head_sha = _sha(_dig(event, "pull_request", "head", "sha"))
    base_sha = _sha(_dig(event, "pull_request", "base", "sha"))
    if name in _GITHUB_PR_EVENTS:
        return replace(
            common,
            pull_request_sha=head_sha,
            base_sha=base_sha,
            merge_commit=True,
            pull_request=True,
        )
    if name == "pull_request_target":
        return replace(common, main_branch_sha=sha, pull_request_sha=head_sha, pull_request=True)
    if name == "issue_comment" and _dig(event, "issue", "pull_request"):
        # A comment on a pull request ("/apply" ChatOps): whatever the job checks out, it
        # is the pull request's, not the main branch's.
        return replace(common, main_branch_sha=sha, pull_request=True)
    return replace(common, main_branch_sha=sha)


def _gitlab(env: Mapping[str, str]) -> CiFacts:
    sha = env["CI_COMMIT_SHA"]
    project_path = env.get("CI_PROJECT_PATH") or None
    web = env.get("CI_PROJECT_URL") or (
        f"{env['CI_SERVER_URL'].rstrip('/')}/{project_path}"
        if env.get("CI_SERVER_URL") and project_path
        else None
    )
    common = CiFacts(
        system="gitlab-ci",
        event=env.get("CI_PIPELINE_SOURCE", ""),
        commit_sha=sha,
        ref_name=env.get("CI_COMMIT_REF_NAME") or env.get("CI_COMMIT_BRANCH") or "",
        web_url=web.rstrip("/") if web else None,
        repo_path=project_path,
    )
    if env.get("CI_MERGE_REQUEST_IID") or env.get("CI_EXTERNAL_PULL_REQUEST_IID"):
        common = replace(common, pull_request=True)
    if env.get("CI_MERGE_REQUEST_IID"):
        source_sha = _sha(env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"))
        if source_sha and source_sha != sha:  # merged results / merge train
            return replace(
                common,
                main_branch_sha=_sha(env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA")),
                pull_request_sha=source_sha,
                base_sha=_sha(env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA")),
                merge_commit=True,
            )
        return replace(
            common,
            main_branch_sha=_sha(env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA")),
            pull_request_sha=sha,
        )
    if env.get("CI_EXTERNAL_PULL_REQUEST_IID"):
        return replace(
            common,
            main_branch_sha=_sha(env.get("CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_SHA")),
            pull_request_sha=_sha(env.get("CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_SHA")) or sha,
        )
    return replace(common, main_branch_sha=sha)


def _short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/", "refs/pull/", "refs/"):
        if ref.startswith(prefix):
            return ref.removeprefix(prefix)
    return ref


def _dig(data: Mapping[str, Any], *keys: str) -> Any:
    value: Any = data
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _sha(value: object) -> str | None:
    text = str(value).strip().lower() if value else ""
    return text if len(text) == 40 and all(c in "0123456789abcdef" for c in text) else None
