"""The route registry and the helpers every handler uses (JSON answers, the caller, URLs).

Handlers register with :func:`api` using the reference's own method and path template
(``@api("GET", "/api/v2/customModels/{customModelId}/")``); the app turns the templates
into Flask rules, runs each handler under the store's lock, and uses the template as the
route's name in stats. :func:`extra` registers routes the reference does not list (real
DataRobot routes the official client calls, such as ``/api/v2/version/``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from flask import Response, current_app, g, request

if TYPE_CHECKING:
    from emulator.core import Emulator

Handler = Callable[..., Response]


class Route:
    """One registered route: method, path template, handler, and whether the reference lists it."""

    def __init__(self, method: str, path: str, handler: Handler, in_reference: bool) -> None:
        self.method = method
        self.path = path
        self.handler = handler
        self.in_reference = in_reference

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


ROUTES: list[Route] = []


def api(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register a handler for a route of the reference (method and path exactly as listed)."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, path, handler, in_reference=True))
        return handler

    return register


def extra(method: str, path: str) -> Callable[[Handler], Handler]:
    """Register a handler for a real DataRobot route that the reference does not list."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, path, handler, in_reference=False))
        return handler

    return register


# -- per-request context ----------------------------------------------------------------


def emulator() -> Emulator:
    """The emulator behind the current request."""
    return cast("Emulator", current_app.extensions["emulator"])


def caller() -> dict[str, Any]:
    """The user the request's token belongs to."""
    return cast(dict[str, Any], g.user)


def absolute(path: str) -> str:
    """An absolute URL on this server for ``path`` (which starts with ``/``)."""
    return request.host_url.rstrip("/") + path


# -- answers ----------------------------------------------------------------------------


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


def respond(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer (``Content-Type: application/json`` exactly, as clients compare it)."""
    return respond_raw(dumps(data), status, headers)


def respond_raw(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer from already-serialised bytes."""
    return Response(body, status=status, headers=headers, content_type="application/json")


def no_content() -> Response:
    return Response(b"", status=204)


def accepted(status_id: str, body: dict[str, Any] | None = None) -> Response:
    """202 with ``Location`` of the status to poll (absolute, trailing slash)."""
    location = absolute(f"/api/v2/status/{status_id}/")
    return respond(
        body if body is not None else {"statusId": status_id}, 202, {"Location": location}
    )


def text(body: str, filename: str | None = None, status: int = 200) -> Response:
    headers = {"Content-Disposition": f"attachment;filename={filename}"} if filename else None
    return Response(
        body.encode("utf-8"),
        status=status,
        headers=headers,
        content_type="text/plain; charset=utf-8",
    )
