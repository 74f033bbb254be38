"""The service's HTTP answers: a JSON body or an HTML page, with their headers.

Shared by the probe and webhook endpoints (:mod:`controller.service.endpoints`) and the
status page and control calls (:mod:`controller.service.operations`); nothing is cached.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from wsgiref.types import StartResponse

REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    503: "Service Unavailable",
}


def json_answer(
    start_response: StartResponse,
    status: int,
    body: Mapping[str, Any],
    extra_headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    """``body`` as compact JSON (one line), never cached."""
    payload = json.dumps(body, indent=None, separators=(",", ":")).encode() + b"\n"
    start_response(
        _status_line(status),
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
            *(extra_headers or []),
        ],
    )
    return [payload]


def html_answer(start_response: StartResponse, status: int, text: str) -> list[bytes]:
    """A page that runs and loads nothing from elsewhere (no script at all), never cached."""
    payload = text.encode("utf-8")  # (cheap next to rendering)
    start_response(
        _status_line(status),
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; "
                "img-src 'self'; frame-ancestors 'none'",
            ),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ],
    )
    return [payload]


def _status_line(status: int) -> str:
    return f"{status} {REASONS.get(status, 'Error')}"
