"""List envelopes: ``{"count", "totalCount", "next", "previous", "data"}``.

The reference marks ``offset``/``limit`` required, yet the official client sends neither on
its first request, so both default (offset 0, limit :data:`DEFAULT_LIMIT`). A limit above
:data:`MAX_LIMIT` is clamped; ``limit=0`` means the default. ``next``/``previous`` are
absolute URLs carrying every other query parameter plus the new ``offset``/``limit``.
Bad values are a 400, as the reference's list routes answer for invalid query parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import request

from emulator.errors import bad_query, invalid
from emulator.routing import dumps

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
T = TypeVar("T")


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_query({name: "must be an integer"}) from None
    if value < 0:
        raise bad_query({name: "must not be negative"})
    return value


BOOL_STRINGS = ("false", "False", "true", "True")


def enum_arg(name: str, choices: tuple[str, ...]) -> str | None:
    """A query parameter limited to the reference's enum: a 422 otherwise, as DataRobot."""
    value = request.args.get(name)
    if value is not None and value not in choices:
        raise invalid({name: "must be one of: " + ", ".join(choices)})
    return value


def window() -> tuple[int, int]:
    """The requested ``(offset, limit)``, defaulted and clamped."""
    offset = _int_arg("offset", 0)
    limit = _int_arg("limit", DEFAULT_LIMIT) or DEFAULT_LIMIT
    return offset, min(limit, MAX_LIMIT)


def _link(offset: int, limit: int) -> str:
    params = [(k, v) for k, vs in request.args.lists() if k not in ("offset", "limit") for v in vs]
    params += [("offset", str(offset)), ("limit", str(limit))]
    return f"{request.base_url}?{urlencode(params)}"


def page(items: Sequence[T], *, total: bool = True) -> tuple[Sequence[T], dict[str, Any]]:
    """Cut the requested page out of ``items``; return it and the envelope's other keys."""
    offset, limit = window()
    chunk = items[offset : offset + limit]
    meta: dict[str, Any] = {
        "count": len(chunk),
        "next": _link(offset + limit, limit) if offset + limit < len(items) else None,
        "previous": _link(max(offset - limit, 0), limit) if offset > 0 else None,
    }
    if total:
        meta["totalCount"] = len(items)
    return chunk, meta


def envelope(meta: dict[str, Any], data: list[Any]) -> dict[str, Any]:
    return {**meta, "data": data}


def envelope_bytes(meta: dict[str, Any], parts: Sequence[bytes]) -> bytes:
    """The envelope from already-serialised items (the fast path for big pages)."""
    head = dumps(meta)[:-1]
    return head + b',"data":[' + b",".join(parts) + b"]}"
