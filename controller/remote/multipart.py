"""``multipart/form-data`` bodies for versions and jobs, streamed from disk.

The API wants, per file, a ``file`` part (filename = the basename, no part Content-Type)
followed by its ``filePath`` field; the n-th file pairs with the n-th path. Every other
field is a string: booleans as ``true``/``false``, numbers in decimal (``maximumMemory`` in
bytes), lists of plain values as repeated fields (``filesToDelete``), and objects or lists
of objects as JSON strings (``runtimeParameterValues``, ``requiredMetadataValues``,
``gitModelVersion``, ``resources``). requests-toolbelt's ``MultipartEncoder`` streams the
files, so a 500 MB model is never held in memory. A body can be opened again (its files
re-read from the start) when a request must be resent after a 429.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from requests_toolbelt import MultipartEncoder  # type: ignore[import-untyped,unused-ignore]

from controller.model.values import Json


@dataclass(frozen=True)
class FileUpload:
    """One file to send: read from ``source`` on disk, stored at ``path`` (relative, ``/``)."""

    source: Path
    path: str

    def __post_init__(self) -> None:
        clean = posixpath.normpath(self.path)
        if self.path.startswith("/") or clean.startswith("..") or clean in (".", ""):
            raise ValueError(f"upload path {self.path!r} must be relative and inside the source")


class MultipartBody:
    """A form made of :class:`FileUpload` parts and string fields, opened per attempt."""

    def __init__(self, files: Sequence[FileUpload], fields: Sequence[tuple[str, str]]) -> None:
        self.files = tuple(files)
        self.fields = tuple(fields)

    @contextmanager
    def open(self) -> Iterator[MultipartEncoder]:
        """An encoder over freshly opened files; the files are closed on exit."""
        with ExitStack() as stack:
            parts: list[tuple[str, Any]] = []
            for upload in self.files:
                handle = stack.enter_context(upload.source.open("rb"))
                parts.append(("file", (posixpath.basename(upload.path), handle)))
                parts.append(("filePath", upload.path))
            parts.extend(self.fields)
            yield MultipartEncoder(fields=parts)

    def field_values(self, name: str) -> list[str]:
        """The values of one field, in order (for tests and logs)."""
        return [v for k, v in self.fields if k == name]

    def __repr__(self) -> str:
        names = sorted({k for k, _ in self.fields})
        return f"MultipartBody(files={[f.path for f in self.files]}, fields={names})"


def form_fields(values: Mapping[str, Json]) -> list[tuple[str, str]]:
    """Encode API fields as form fields, in name order; ``None`` values are left out."""
    out: list[tuple[str, str]] = []
    for name, value in sorted(values.items()):
        if value is None:
            continue
        if isinstance(value, list) and all(_is_plain(v) for v in value):
            out.extend((name, _scalar(v)) for v in value if v is not None)
        elif isinstance(value, list | dict):
            out.append((name, json.dumps(value, separators=(",", ":"), sort_keys=True)))
        else:
            out.append((name, _scalar(value)))
    return out


def multipart_body(
    files: Sequence[FileUpload] = (), values: Mapping[str, Json] | None = None
) -> MultipartBody:
    """The body for a version or job create/update with these files and fields."""
    return MultipartBody(files, form_fields(values or {}))


def _is_plain(value: Json) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _scalar(value: Json) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
