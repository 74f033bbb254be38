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
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

MARKER = "<!-- dr-gitops-plan -->"
PART_BREAK = "<!-- dr-gitops: part break -->"
KEY_LINE = "<!-- dr-gitops-plan-key: {key} -->"
_KEY_LINE_RE = re.compile(r"^<!-- dr-gitops-plan-key: (?P<key>[^>]*) -->$")
_NEXT_LINK_RE = re.compile(r'<(?P<url>[^>]+)>\s*;\s*rel="next"')
USER_AGENT = "dr-gitops-post-plan-comment"
TIMEOUT_SECONDS = 30


class CommentError(Exception):
    """A problem the user can fix; the message says how. Never holds the token."""


@dataclass(frozen=True)
class Comment:
    """A comment (GitHub) or note (GitLab) on the pull or merge request."""

    id: int
    body: str
    author: str


@dataclass(frozen=True)
class Outcome:
    """What one run did, for the closing summary line."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0


# --- The plan parts -------------------------------------------------------------------------


def split_parts(markdown: str, key: str | None = None) -> list[str]:
    """The comment bodies in ``markdown``: its parts, each starting with the marker."""
    chunks: list[list[str]] = [[]]
    for line in markdown.splitlines():
        if line.strip() == PART_BREAK:
            chunks.append([])
        else:
            chunks[-1].append(line)
    bodies = ["\n".join(chunk).strip("\n") for chunk in chunks]
    return [_marked(body, key) for body in bodies if body.strip()]


def _marked(body: str, key: str | None) -> str:
    lines = body.splitlines()
    if lines and lines[0].strip() == MARKER:
        lines = lines[1:]
    head = [MARKER] + ([KEY_LINE.format(key=key)] if key else [])
    return "\n".join(head + lines) + "\n"


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
    return _marked("\n".join(lines), key)


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


def is_ours(comment: Comment, key: str | None, author: str | None) -> bool:
    """True when ``comment`` is a plan comment this script posted for ``key``."""
    if author is not None and comment.author != author:
        return False
    lines = comment.body.lstrip().splitlines()
    if not lines or lines[0].strip() != MARKER:
        return False
    found = _KEY_LINE_RE.match(lines[1].strip()) if len(lines) > 1 else None
    return (found.group("key") if found else None) == key


# --- HTTP -----------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would resend the token to wherever a redirect points; an API never needs one.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Api:
    """JSON over HTTP(S) to one API root, the token in a header, errors as CommentError."""

    def __init__(self, base_url: str, headers: Mapping[str, str], token: str, forge: str) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise CommentError(f"the {forge} API URL {base_url!r} is not an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self._origin = (parsed.scheme, parsed.netloc)
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **headers}
        self._token = token
        self._forge = forge
        self._opener = urllib.request.build_opener(_NoRedirects)

    def call(
        self, method: str, path_or_url: str, body: Any = None
    ) -> tuple[Any, Mapping[str, str]]:
        """Send one request; return the decoded JSON body (or None) and the headers."""
        url = path_or_url if "://" in path_or_url else self.base_url + path_or_url
        parsed = urllib.parse.urlsplit(url)
        if (parsed.scheme, parsed.netloc) != self._origin:
            raise CommentError(
                f"the {self._forge} API pointed to {parsed.scheme}://{parsed.netloc}, outside "
                f"{self.base_url}; refusing to send the token there"
            )
        data = None if body is None else json.dumps(body).encode()
        # The scheme was checked above (http or https only), so S310's file:// risk is absent.
        request = urllib.request.Request(url, data=data, method=method, headers=self._headers)  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                raw = response.read()
                return (json.loads(raw) if raw.strip() else None), dict(response.headers)
        except urllib.error.HTTPError as exc:
            raise CommentError(self._http_error(method, parsed.path, exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CommentError(
                f"could not reach the {self._forge} API at {self.base_url} ({reason}); check "
                "the API URL and the network"
            ) from None
        except ValueError as exc:
            raise CommentError(
                f"the {self._forge} API answered {method} {parsed.path} with "
                f"something that is not JSON ({exc})"
            ) from None

    def pages(self, path: str) -> Iterator[Any]:
        """Every item of a paginated list, following ``Link: rel="next"`` / ``X-Next-Page``."""
        url: str | None = path
        while url:
            items, headers = self.call("GET", url)
            if not isinstance(items, list):
                raise CommentError(f"the {self._forge} API did not answer {path} with a list")
            yield from items
            url = _next_page(url, headers)

    def _http_error(self, method: str, path: str, exc: urllib.error.HTTPError) -> str:
        try:
            detail = json.loads(exc.read() or b"null")
        except ValueError:
            detail = None
        message = detail.get("message", detail) if isinstance(detail, dict) else detail
        text = f"{self._forge} API {method} {path} answered {exc.code}"
        if message:
            text += f": {message}"
        hint = _HINTS.get((self._forge, exc.code)) or _HINTS.get(("*", exc.code))
        if "rate limit" in str(message).lower():  # GitHub's secondary limits are 403s
            hint = _HINTS[("*", 429)]
        if 300 <= exc.code < 400:
            hint = f"it redirects to {exc.headers.get('Location')}; give the right API URL"
        text = f"{text} ({hint})" if hint else text
        return text.replace(self._token, "***") if self._token else text


def _next_page(url: str, headers: Mapping[str, str]) -> str | None:
    lower = {name.lower(): value for name, value in headers.items()}
    found = _NEXT_LINK_RE.search(lower.get("link", ""))
    if found:
        return found.group("url")
    next_page = lower.get("x-next-page", "").strip()
    if not next_page:
        return None
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query["page"] = next_page
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


_HINTS: dict[tuple[str, int], str] = {
    ("*", 401): "the token is wrong, expired or revoked: make a new one and store it again",
    ("GitHub", 403): (
        "the token may not write pull request comments: give the job "
        "`permissions: pull-requests: write`; pull requests from forks only get a read-only "
        "token, see examples/ci/README.md"
    ),
    ("GitLab", 403): (
        "the token may not write merge request notes: use a project access token with the "
        "`api` scope and the Reporter role or above in GITLAB_TOKEN (CI_JOB_TOKEN cannot "
        "write notes)"
    ),
    ("*", 404): (
        "check the repository or project and the pull/merge request number; a token that "
        "cannot see a private project also gets 404"
    ),
    ("*", 413): "the comment is too large for the server",
    ("*", 422): "the server refused the comment; is a part over the size limit?",
    ("*", 429): "rate limited: re-run the job later",
}


# --- Forges ---------------------------------------------------------------------------------


class Forge(Protocol):
    """The comments of one pull or merge request."""

    name: str
    limit: int

    def whoami(self) -> str | None: ...
    def comments(self) -> list[Comment]: ...
    def create(self, body: str) -> Comment: ...
    def update(self, comment_id: int, body: str) -> None: ...
    def delete(self, comment_id: int) -> None: ...


class GitHub:
    """Issue comments of a GitHub pull request (REST API v3)."""

    name = "GitHub"
    limit = 65_536

    def __init__(self, api: Api, repository: str, number: int) -> None:
        self.api = api
        self._issue = f"/repos/{repository}/issues/{number}"
        self._comments = f"/repos/{repository}/issues/comments"

    def whoami(self) -> str | None:
        try:
            user, _ = self.api.call("GET", "/user")
        except CommentError:
            # The Actions token is an app installation token: GET /user is a 403 for it.
            return None
        return str(user["login"]) if isinstance(user, dict) and "login" in user else None

    def comments(self) -> list[Comment]:
        return [_github_comment(c) for c in self.api.pages(f"{self._issue}/comments?per_page=100")]

    def create(self, body: str) -> Comment:
        created, _ = self.api.call("POST", f"{self._issue}/comments", {"body": body})
        return _github_comment(created)

    def update(self, comment_id: int, body: str) -> None:
        self.api.call("PATCH", f"{self._comments}/{comment_id}", {"body": body})

    def delete(self, comment_id: int) -> None:
        self.api.call("DELETE", f"{self._comments}/{comment_id}")


def _github_comment(raw: Any) -> Comment:
    user = raw.get("user") or {}
    return Comment(int(raw["id"]), str(raw.get("body") or ""), str(user.get("login", "")))


class GitLab:
    """Notes of a GitLab merge request (REST API v4)."""

    name = "GitLab"
    limit = 1_000_000

    def __init__(self, api: Api, project: str, iid: int) -> None:
        self.api = api
        self._notes = f"/projects/{urllib.parse.quote(project, safe='')}/merge_requests/{iid}/notes"

    def whoami(self) -> str | None:
        user, _ = self.api.call("GET", "/user")
        return str(user["username"]) if isinstance(user, dict) and "username" in user else None

    def comments(self) -> list[Comment]:
        notes = self.api.pages(f"{self._notes}?sort=asc&order_by=created_at&per_page=100")
        return [_gitlab_note(n) for n in notes if not n.get("system")]

    def create(self, body: str) -> Comment:
        created, _ = self.api.call("POST", self._notes, {"body": body})
        return _gitlab_note(created)

    def update(self, comment_id: int, body: str) -> None:
        self.api.call("PUT", f"{self._notes}/{comment_id}", {"body": body})

    def delete(self, comment_id: int) -> None:
        self.api.call("DELETE", f"{self._notes}/{comment_id}")


def _gitlab_note(raw: Any) -> Comment:
    author = raw.get("author") or {}
    return Comment(int(raw["id"]), str(raw.get("body") or ""), str(author.get("username", "")))


# --- Syncing --------------------------------------------------------------------------------


def check_sizes(forge: Forge, parts: Sequence[str]) -> None:
    """Refuse, before any request, a part the server would refuse."""
    for index, part in enumerate(parts, start=1):
        if len(part) > forge.limit:
            raise CommentError(
                f"part {index} has {len(part):,} characters, over {forge.name}'s limit of "
                f"{forge.limit:,}: post the output of `dr-gitops plan --output markdown`, "
                "which splits long plans"
            )


def sync(forge: Forge, parts: Sequence[str], key: str | None, author: str | None) -> Outcome:
    """Make the plan comments on the request exactly ``parts``, in order."""
    ours = [c for c in forge.comments() if is_ours(c, key, author)]
    created = updated = unchanged = 0
    for index, comment in enumerate(ours[: len(parts)]):
        part = parts[index]
        if comment.body.strip() == part.strip():
            unchanged += 1
        else:
            forge.update(comment.id, part)
            updated += 1
    for part in parts[len(ours) :]:
        forge.create(part)
        created += 1
    surplus = ours[len(parts) :]
    for comment in reversed(surplus):
        forge.delete(comment.id)
    return Outcome(created, updated, unchanged, len(surplus))


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
