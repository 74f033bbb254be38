"""``gitModelVersion``: the git facts stamped on every model and version dr-gitops writes.

Pure: from a checkout, the CI facts (or None) and the commit URL template.

- CI facts are used only when they describe what is checked out: the checkout's commit is
  the CI's commit (``GITHUB_SHA`` / ``CI_COMMIT_SHA``) or the pull-request head itself
  (a job that checked out ``pull_request.head.sha``). Otherwise, e.g. ``--ref`` names
  another commit, the facts come from plain git, so a stamp never names a commit whose
  files were not the ones uploaded.
- Plain git: ``mainBranchCommitSha`` is the checked-out commit, ``pullRequestCommitSha``
  is null, ``refName`` the branch or tag checked out (``HEAD`` when detached on a commit).
- ``commitUrl`` points at the pull-request commit when there is one (as DataRobot's
  custom-models action does), else at the main-branch commit. In order: the
  ``--commit-url-template``; the CI's project URL (``<server>/<owner>/<repo>/commit/<sha>``
  on GitHub, ``<project url>/-/commit/<sha>`` on GitLab); a link derived from the remote
  (see :mod:`controller.sources.remotes`); else a ``file://localhost/`` URI of the
  repository with the SHA as fragment (``file://localhost/srv/repo#<sha>``): the API wants
  a URI with a host.
"""

from __future__ import annotations

from pathlib import Path

from controller import logs
from controller.errors import ConfigError
from controller.model.values import GitModelVersion
from controller.sources.checkouts import Checkout
from controller.sources.ci import CiFacts
from controller.sources.remotes import parse_remote

log = logs.get_logger(__name__)


def git_model_version(
    checkout: Checkout, ci: CiFacts | None, *, commit_url_template: str | None = None
) -> GitModelVersion:
    """The ``gitModelVersion`` value for what ``checkout`` holds."""
    head = checkout.commit
    main, pull, ref = head.sha, None, checkout.ref_name or "HEAD"
    if ci is not None and head.sha == ci.commit_sha:
        ref = ci.ref_name or ref
        pull = ci.pull_request_sha
        if ci.merge_commit and head.parents:
            main = ci.main_branch_sha or head.parents[0]
            if pull is None and len(head.parents) > 1:
                pull = head.parents[1]
        else:
            main = ci.main_branch_sha or ci.base_sha or head.sha
    elif ci is not None and ci.pull_request_sha and head.sha == ci.pull_request_sha:
        ref = ci.ref_name or ref
        pull = head.sha
        main = ci.base_sha or ci.main_branch_sha or head.sha
    elif ci is not None:
        log.info(
            "ci_commit_not_checked_out",
            ci=ci.system,
            ci_commit=ci.commit_sha,
            checkout=head.sha,
        )
    if pull == main:
        pull = None
    url_sha = pull or main
    return GitModelVersion(
        commit_url=commit_url(url_sha, checkout, ci, template=commit_url_template, ref=ref),
        main_branch_commit_sha=main,
        pull_request_commit_sha=pull,
        ref_name=ref,
    )


def commit_url(
    sha: str,
    checkout: Checkout,
    ci: CiFacts | None,
    *,
    template: str | None = None,
    ref: str | None = None,
) -> str:
    """The web link of commit ``sha`` (see the module docstring for the order)."""
    remote = parse_remote(checkout.remote_url) if checkout.remote_url else None
    web_url = (ci.web_url if ci else None) or (remote.web_url if remote else None)
    if template:
        return _fill(template, sha, checkout, ci, web_url=web_url, ref=ref)
    if ci is not None and ci.web_url:
        separator = "/-/commit/" if ci.system == "gitlab-ci" else "/commit/"
        return f"{ci.web_url}{separator}{sha}"
    derived = remote.commit_url(sha) if remote else None
    if derived:
        return derived
    if remote is not None and remote.scheme == "file":
        return _file_uri(Path(remote.path), sha)
    return _file_uri(checkout.toplevel.resolve(), sha)


def _file_uri(path: Path, sha: str) -> str:
    # ``file://localhost/...``: URI validators (DataRobot's among them) want a host.
    return f"file://localhost{path.as_uri()[len('file://') :]}#{sha}"


def _fill(
    template: str,
    sha: str,
    checkout: Checkout,
    ci: CiFacts | None,
    *,
    web_url: str | None,
    ref: str | None,
) -> str:
    remote = parse_remote(checkout.remote_url) if checkout.remote_url else None
    host = remote.canonical_host if remote else ""
    path = (ci.repo_path if ci else None) or (remote.project_path if remote else "")
    if "{web_url}" in template and not web_url:
        raise ConfigError(
            "the commit URL template uses {web_url} but this repository has no remote to "
            "derive it from; write the host into the template instead"
        )
    url = template.format(
        sha=sha,
        short_sha=sha[:12],
        ref=ref or checkout.ref_name or "HEAD",
        web_url=web_url or "",
        host=host,
        path=path,
    )
    if "://" not in url:
        raise ConfigError(f"the commit URL template produced {url!r}, which is not a URL")
    return url
