"""Plan comments on a pull request (GitHub) or merge request (GitLab): the parts of a
plan as comment bodies, which comments are ours, the two forges' APIs, and syncing the
comments to the parts. Standard library only (see :mod:`controller.post_plan_comment`, the
command that uses it); nothing here reads the environment.
"""

from __future__ import annotations

import json
import re
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
    return [marked(body, key) for body in bodies if body.strip()]


def marked(body: str, key: str | None) -> str:
    """``body`` as a plan comment: the marker (and the key line) first."""
    lines = body.splitlines()
    if lines and lines[0].strip() == MARKER:
        lines = lines[1:]
    head = [MARKER] + ([KEY_LINE.format(key=key)] if key else [])
    return "\n".join(head + lines) + "\n"


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
