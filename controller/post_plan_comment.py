"""Post a dr-gitops plan on a pull request (GitHub) or merge request (GitLab).

Reads the output of ``dr-gitops plan --output markdown`` (a file, or ``-`` for stdin), splits
it into its parts (separated by a line ``<!-- dr-gitops: part break -->``) and makes the
plan comments on the pull request exactly those parts, in order: it updates the comments it
posted before in place, creates the missing ones and deletes the surplus. Its comments are
the ones whose first line is ``<!-- dr-gitops-plan -->`` (and, with ``--key``, whose second
line names the same key), written by the same author when that is known. Every other
comment is left alone. A re-run with the same plan writes nothing.

GitHub Actions
    ``GITHUB_TOKEN`` (the job's token with ``permissions: pull-requests: write``),
    ``GITHUB_API_URL``, ``GITHUB_REPOSITORY``; the pull request number comes from the event
    payload at ``GITHUB_EVENT_PATH`` (or ``--number``).
GitLab CI
    ``GITLAB_TOKEN`` (a project access token, role Reporter or above, scope ``api``;
    ``CI_JOB_TOKEN`` cannot write notes), ``CI_API_V4_URL``, ``CI_PROJECT_ID``,
    ``CI_MERGE_REQUEST_IID`` (merge request pipelines only, or ``--number``).

With ``--plan-exit-code N`` (the exit code of ``dr-gitops plan --detailed-exitcode``), any
code other than 0 (no changes) and 2 (changes) replaces the comments with one notice that
the plan failed, linking the CI job, so that an outdated plan is never left on show; except
that a plan printed in full is posted whatever the code (dr-gitops prints the plan and exits 1
when an action in it is blocked: the reviewer must see why).

It ships inside dr-gitops, standard library only, and runs as
``python -P -m controller.post_plan_comment`` with the Python of the dr-gitops installation
(the GitHub Action, the image, or the venv the CI examples make outside the checkout), never
from the pull request's own files: a script taken from the checkout would run the pull
request's code with a token that can write comments.
Exit codes: 0 comments in place, 1 error (the message says what to do), 2 wrong arguments.
The token is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from controller.plancomments import (
    MARKER,
    PART_BREAK,
    Api,
    CommentError,
    Forge,
    GitHub,
    GitLab,
    check_sizes,
    marked,
    split_parts,
    sync,
)

__all__ = ["MARKER", "PART_BREAK", "build_parser", "failure_body", "main", "split_parts"]


def failure_body(env: Mapping[str, str], exit_code: int, key: str | None) -> str:
    """The one comment that replaces the plan when ``dr-gitops plan`` failed."""
    sha = _head_sha(env)
    at = f" for `{sha[:12]}`" if sha else ""
    lines = [
        "### ⚠️ dr-gitops plan failed",
        "",
        f"dr-gitops could not make a plan{at} (exit code {exit_code}): the manifests may be "
        "invalid, or DataRobot or git could not be reached. Any plan shown here before is "
        "out of date.",
    ]
    job_url = _job_url(env)
    if job_url:
        lines += ["", f"The reasons are in the [CI job log]({job_url})."]
    return marked("\n".join(lines), key)


def _head_sha(env: Mapping[str, str]) -> str:
    event = _github_event(env)
    head = event.get("pull_request", {}).get("head", {}).get("sha")
    if isinstance(head, str):
        return head
    return env.get("CI_COMMIT_SHA") or env.get("GITHUB_SHA") or ""


def _job_url(env: Mapping[str, str]) -> str | None:
    if env.get("CI_JOB_URL"):
        return env["CI_JOB_URL"]
    server, repo, run = (
        env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


# --- Command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -P -m controller.post_plan_comment",
        description="Post `dr-gitops plan --output markdown` on a pull or merge request, "
        "updating the comments posted before instead of adding new ones.",
    )
    parser.add_argument(
        "plan", nargs="?", default="-", help="Markdown plan file, - for stdin (default)"
    )
    parser.add_argument(
        "--platform",
        choices=["auto", "github", "gitlab"],
        default="auto",
        help="where to post (default: auto, from GITHUB_ACTIONS / GITLAB_CI)",
    )
    parser.add_argument(
        "--number",
        type=int,
        help="pull request number / merge request IID (default: from the CI environment)",
    )
    parser.add_argument(
        "--repository",
        help="GitHub owner/name or GitLab project ID or path "
        "(default: GITHUB_REPOSITORY / CI_PROJECT_ID)",
    )
    parser.add_argument(
        "--api-url",
        help="API root (default: GITHUB_API_URL or https://api.github.com / CI_API_V4_URL)",
    )
    parser.add_argument(
        "--token-env",
        help="environment variable holding the token (default: GITHUB_TOKEN / GITLAB_TOKEN)",
    )
    parser.add_argument(
        "--key",
        help="keep a separate set of plan comments under this key, e.g. one per manifest folder",
    )
    parser.add_argument(
        "--author",
        help="only comments by this login are ours (default: the "
        "token's user when the API tells it)",
    )
    parser.add_argument(
        "--plan-exit-code",
        type=int,
        default=0,
        metavar="N",
        help="exit code of `dr-gitops plan --detailed-exitcode`; other than 0 "
        "or 2 posts a 'plan failed' notice instead of the plan, unless the file holds a "
        "whole plan (exit 1 for a blocked action), which is posted",
    )
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = os.environ if env is None else env
    try:
        forge, where = _forge(args, env)
        if args.plan_exit_code in (0, 2):
            parts = split_parts(_read_plan(args.plan), args.key)
            if not parts:
                raise CommentError(
                    f"no plan in {args.plan}: `dr-gitops plan --output markdown` "
                    "printed nothing; look at its log"
                )
        else:
            parts = _whole_plan(args.plan, args.key) or [
                failure_body(env, args.plan_exit_code, args.key)
            ]
        check_sizes(forge, parts)
        author = args.author or forge.whoami()
        outcome = sync(forge, parts, args.key, author)
    except CommentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"dr-gitops plan on {where}: {len(parts)} comment(s); {outcome.created} created, "
        f"{outcome.updated} updated, {outcome.unchanged} unchanged, {outcome.deleted} deleted"
    )
    return 0


def _whole_plan(path: str, key: str | None) -> list[str]:
    """The plan's parts when ``dr-gitops plan`` failed yet printed a whole plan (it does when
    an action is blocked), else nothing: a failed plan prints nothing on stdout."""
    try:
        text = _read_plan(path)
    except CommentError:
        return []
    return split_parts(text, key) if text.lstrip().startswith(MARKER) else []


def _read_plan(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise CommentError(f"cannot read the plan {path}: {exc.strerror}") from None


def _forge(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[Forge, str]:
    platform = args.platform
    if platform == "auto":
        platform = _detect(env)
    token_env = args.token_env or ("GITHUB_TOKEN" if platform == "github" else "GITLAB_TOKEN")
    token = env.get(token_env, "")
    if not token:
        raise CommentError(f"{token_env} is empty: " + _TOKEN_HELP[platform])
    if platform == "github":
        return _github(args, env, token)
    return _gitlab(args, env, token)


_TOKEN_HELP = {
    "github": "pass the job's token with `env: GITHUB_TOKEN: ${{ github.token }}`",
    "gitlab": "create a project access token (role Reporter, scope api) and store it as a "
    "masked CI/CD variable GITLAB_TOKEN",
}


def _detect(env: Mapping[str, str]) -> str:
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    raise CommentError("not running in GitHub Actions or GitLab CI: pass --platform")


def _github(args: argparse.Namespace, env: Mapping[str, str], token: str) -> tuple[Forge, str]:
    repository = args.repository or env.get("GITHUB_REPOSITORY")
    if not repository:
        raise CommentError("GITHUB_REPOSITORY is not set: pass --repository owner/name")
    number = args.number or _github_number(env)
    api_url = args.api_url or env.get("GITHUB_API_URL") or "https://api.github.com"
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    forge = GitHub(Api(api_url, headers, token, "GitHub"), repository, number)
    return forge, f"{repository}#{number}"


def _github_number(env: Mapping[str, str]) -> int:
    event = _github_event(env)
    for holder in ("pull_request", "issue"):
        number = event.get(holder, {}).get("number")
        if isinstance(number, int):
            return number
    found = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", env.get("GITHUB_REF", ""))
    if found:
        return int(found.group(1))
    raise CommentError(
        "no pull request in this run (the event is not a pull_request): run it "
        "`on: pull_request`, or pass --number"
    )


def _github_event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError):
        return {}
    return event if isinstance(event, dict) else {}


def _gitlab(args: argparse.Namespace, env: Mapping[str, str], token: str) -> tuple[Forge, str]:
    project = args.repository or env.get("CI_PROJECT_ID")
    if not project:
        raise CommentError("CI_PROJECT_ID is not set: pass --repository with the project ID")
    iid = args.number or _int(env.get("CI_MERGE_REQUEST_IID"))
    if not iid:
        raise CommentError(
            "CI_MERGE_REQUEST_IID is not set: run the job in merge request pipelines "
            '(`rules: - if: $CI_PIPELINE_SOURCE == "merge_request_event"`), or pass --number'
        )
    api_url = args.api_url or env.get("CI_API_V4_URL")
    if not api_url:
        raise CommentError("CI_API_V4_URL is not set: pass --api-url https://HOST/api/v4")
    forge = GitLab(Api(api_url, {"PRIVATE-TOKEN": token}, token, "GitLab"), project, iid)
    return forge, f"merge request !{iid}"


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


if __name__ == "__main__":
    sys.exit(main())
