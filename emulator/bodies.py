"""Reading a request body: JSON or multipart, coerced and validated against the reference.

:func:`read_body` is the only way handlers see a body. It looks up the route's body schema
in the reference, parses JSON or form data (multipart file parts ``file`` are kept apart,
in order, for pairing with ``filePath``), coerces form strings to the schema's types, and
validates. An empty body is ``{}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask import g, request

from emulator.errors import ApiError, invalid
from emulator.routing import emulator

_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class Upload:
    """One uploaded file part: the part's filename and its bytes."""

    filename: str
    content: bytes


@dataclass
class Body:
    """A validated request body and the files that came with it."""

    data: dict[str, Any]
    files: list[Upload] = field(default_factory=list)
    multipart: bool = False

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __contains__(self, key: str) -> bool:
        return key in self.data


def read_body(*, files: bool = False) -> Body:
    """The current request's body, validated against its route's schema in the reference.

    ``files``: whether the route takes file uploads; other routes refuse them.
    """
    method, path = g.route.method, g.route.path
    reference = emulator().reference
    schema = reference.body_schema(method, path) if g.route.in_reference else None
    mimetype = request.mimetype
    if mimetype in _FORM_TYPES:
        body = _read_form(schema, files)
    elif mimetype == "application/json" or (not mimetype and not request.content_length):
        body = Body(_read_json())
        if schema:
            body.data = reference.coerce_json(schema, body.data)
    else:
        raise ApiError(
            415, f"Unsupported content type {request.mimetype!r}; send JSON or multipart/form-data"
        )
    if schema:
        reference.validate(schema, body.data)
    return body


def _read_json() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(400, "Malformed JSON body") from None
    if not isinstance(data, dict):
        raise invalid({"body": "must be a JSON object"})
    return data


def _read_form(schema: str | None, files_allowed: bool) -> Body:
    uploads: list[Upload] = []
    for key, storages in request.files.lists():
        if key != "file" or not files_allowed:
            raise invalid({key: f"{key} is not allowed key (file uploads are not accepted here)"})
        uploads.extend(Upload(s.filename or "", s.read()) for s in storages)
    fields = list(request.form.lists())
    if any(key == "file" for key, _ in fields):
        raise invalid({"file": "must be a file part (with a filename)"})
    reference = emulator().reference
    data = (
        reference.coerce_form(schema, fields)
        if schema
        else {k: v[0] if len(v) == 1 else v for k, v in fields}
    )
    return Body(data, uploads, multipart=request.mimetype == "multipart/form-data")


def parse_json_field(body: Body, key: str) -> Any:
    """A field that holds a JSON-encoded string (``runtimeParameterValues`` and the like)."""
    raw = body.get(key)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid({key: "must be a JSON-encoded string"}) from None
