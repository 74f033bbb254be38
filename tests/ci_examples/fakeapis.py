"""Fake GitHub and GitLab comment APIs on 127.0.0.1, recording every request.

Each fake keeps the comments of one pull/merge request in memory, pages its lists with a
small page size (so pagination is always exercised), answers 401 to a wrong token, and can
be told to fail one method with a status (``fail``). Only what the plan comment poster
uses is served; anything else is a 404, so a request to the wrong route fails the test.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

Reply = tuple[int, dict[str, str], Any]


@dataclass(frozen=True)
class Recorded:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


@dataclass
class Stored:
    """A comment held by a fake."""

    id: int
    body: str
    author: str
    system: bool = False


@dataclass
class FakeForge:
    """State shared by a fake API and its HTTP handler."""

    token: str
    me: str = "ci-bot"
    page_size: int = 2
    comments: list[Stored] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    failures: dict[str, tuple[int, str]] = field(default_factory=dict)
    base_url: str = ""
    link_base: str = ""  # where next-page links point; base_url when empty
    _next_id: int = 1000

    def add(self, body: str, author: str | None = None, *, system: bool = False) -> Stored:
        """A comment already on the request, e.g. a human's."""
        self._next_id += 1
        stored = Stored(self._next_id, body, author or self.me, system)
        self.comments.append(stored)
        return stored

    def fail(self, method: str, status: int, message: str) -> None:
        """Answer every ``method`` request with ``status`` and ``message`` from now on."""
        self.failures[method] = (status, message)

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def bodies(self) -> list[str]:
        return [c.body for c in self.comments]

    # Subclasses map routes; these helpers build the replies.
    def handle(self, request: Recorded) -> Reply:
        raise NotImplementedError

    def _page(self, items: list[Any], request: Recorded, path: str) -> Reply:
        per_page = min(int(request.query.get("per_page", "20")), self.page_size)
        page = int(request.query.get("page", "1"))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(items):
            query = {**request.query, "page": str(page + 1)}
            headers = self._next_headers(
                f"{self.link_base or self.base_url}{path}?{urlencode(query)}", page + 1
            )
        return 200, headers, chunk

    def _next_headers(self, url: str, page: int) -> dict[str, str]:
        return {"Link": f'<{url}>; rel="next"'}

    def _create(self, body: Any) -> Stored:
        self._next_id += 1
        stored = Stored(self._next_id, str(body["body"]), self.me)
        self.comments.append(stored)
        return stored

    def _find(self, comment_id: str) -> Stored | None:
        return next((c for c in self.comments if str(c.id) == comment_id), None)


class FakeGitHub(FakeForge):
    """``/repos/{owner}/{repo}/issues/{n}/comments`` and ``/repos/.../issues/comments/{id}``."""

    def handle(self, request: Recorded) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Bad credentials"}
        if request.path == "/user":
            return 403, {}, {"message": "Resource not accessible by integration"}
        listing = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/\d+/comments", request.path)
        single = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", request.path)
        if listing and request.method == "GET":
            return self._page([self._json(c) for c in self.comments], request, request.path)
        if listing and request.method == "POST":
            return 201, {}, self._json(self._create(request.body))
        found = self._find(single.group(1)) if single else None
        if found and request.method == "PATCH":
            found.body = str(request.body["body"])
            return 200, {}, self._json(found)
        if found and request.method == "DELETE":
            self.comments.remove(found)
            return 204, {}, None
        return 404, {}, {"message": "Not Found"}

    @staticmethod
    def _json(comment: Stored) -> dict[str, Any]:
        return {"id": comment.id, "body": comment.body, "user": {"login": comment.author}}


class FakeGitLab(FakeForge):
    """``/api/v4/projects/{id}/merge_requests/{iid}/notes[/{note_id}]`` and ``/api/v4/user``."""

    def handle(self, request: Recorded) -> Reply:
        if request.headers.get("private-token") != self.token:
            return 401, {}, {"message": "401 Unauthorized"}
        if request.path == "/api/v4/user":
            return 200, {}, {"id": 7, "username": self.me}
        notes = re.fullmatch(r"/api/v4/projects/[^/]+/merge_requests/\d+/notes", request.path)
        single = re.fullmatch(
            r"/api/v4/projects/[^/]+/merge_requests/\d+/notes/(\d+)", request.path
        )
        if notes and request.method == "GET":
            ordered = sorted(self.comments, key=lambda c: c.id)
            if request.query.get("sort") != "asc":
                ordered.reverse()  # GitLab lists notes newest first unless told otherwise
            return self._page([self._json(c) for c in ordered], request, request.path)
        if notes and request.method == "POST":
            return 201, {}, self._json(self._create(request.body))
        found = self._find(single.group(1)) if single else None
        if found and request.method == "PUT":
            found.body = str(request.body["body"])
            return 200, {}, self._json(found)
        if found and request.method == "DELETE":
            self.comments.remove(found)
            return 204, {}, None
        return 404, {}, {"message": "404 Not found"}

    def _next_headers(self, url: str, page: int) -> dict[str, str]:
        # GitLab sends both; the script must cope with either, so alternate between them.
        if page % 2:
            return {"X-Next-Page": str(page)}
        return {"Link": f'<{url}>; rel="next"', "X-Next-Page": str(page)}

    @staticmethod
    def _json(note: Stored) -> dict[str, Any]:
        return {
            "id": note.id,
            "body": note.body,
            "author": {"username": note.author},
            "system": note.system,
        }


def _handler_for(forge: FakeForge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            request = Recorded(
                self.command,
                parts.path,
                dict(parse_qsl(parts.query)),
                json.loads(raw) if raw else None,
                {k.lower(): v for k, v in self.headers.items()},
            )
            forge.requests.append(request)
            if self.command in forge.failures:
                status, message = forge.failures[self.command]
                reply: Reply = (status, {}, {"message": message})
            else:
                reply = forge.handle(request)
            self._reply(*reply)

        def _reply(self, status: int, headers: dict[str, str], body: Any) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def serve(forge: FakeForge) -> Iterator[FakeForge]:
    """Run ``forge`` on a free loopback port until the generator is closed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(forge))
    forge.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield forge
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
