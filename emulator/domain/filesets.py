"""File items of model versions and custom jobs: pairing uploads, replacing, deleting, zipping.

Multipart uploads send, per file, a ``file`` part (its filename is only the basename) and a
``filePath`` field (the relative path); the n-th file pairs with the n-th filePath. A
PATCH-made set starts from the previous items, replaces those whose ``filePath`` was
uploaded again (new item id, same position), appends new paths, then drops the items
whose ids are in ``filesToDelete``. Untouched items keep their ids.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

Pair = tuple[str, bytes]  # (filePath, content)


class InvalidFiles(ValueError):
    """Uploads the API refuses; ``errors`` maps fields to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid files")
        self.errors = errors


def normalize_path(path: str) -> str | None:
    """A clean relative POSIX path, or ``None`` when it escapes the root or is empty."""
    path = path.replace("\\", "/").strip()
    if not path or path.startswith("/"):
        return None
    clean = posixpath.normpath(path)
    if clean in (".", "") or clean == ".." or clean.startswith("../"):
        return None
    return clean


def pair_uploads(
    uploads: Sequence[tuple[str, bytes]], file_paths: str | list[str] | None
) -> list[Pair]:
    """Pair the n-th uploaded file with the n-th ``filePath``."""
    paths = [file_paths] if isinstance(file_paths, str) else list(file_paths or [])
    if len(paths) != len(uploads):
        raise InvalidFiles(
            {
                "filePath": f"{len(uploads)} file(s) but {len(paths)} filePath value(s): give one filePath per file, in the same order"
            }
        )
    pairs: list[Pair] = []
    seen: set[str] = set()
    for (_, content), raw in zip(uploads, paths, strict=True):
        clean = normalize_path(raw)
        if clean is None:
            raise InvalidFiles({"filePath": f"{raw!r} is not a relative path inside the model"})
        if clean in seen:
            raise InvalidFiles({"filePath": f"{clean} is given more than once"})
        seen.add(clean)
        pairs.append((clean, content))
    return pairs


def ids_to_delete(raw: str | list[str] | None) -> list[str]:
    if raw is None:
        return []
    return [raw] if isinstance(raw, str) else list(raw)


def apply_changes(
    previous: Sequence[dict[str, Any]],
    new_items: Sequence[dict[str, Any]],
    delete_ids: Sequence[str],
) -> list[dict[str, Any]]:
    """Previous items, replaced/extended by ``new_items`` (by filePath), minus ``delete_ids``.

    ``delete_ids`` must all be ids of ``previous`` items (else :class:`InvalidFiles`); an id
    whose file was also re-uploaded is already gone and is ignored.
    """
    known = {item["id"] for item in previous}
    unknown = [i for i in delete_ids if i not in known]
    if unknown:
        raise InvalidFiles(
            {"filesToDelete": f"not file items of the latest version: {', '.join(unknown)}"}
        )
    incoming = {item["filePath"]: item for item in new_items}
    result = [incoming.pop(item["filePath"], item) for item in previous]
    result.extend(incoming.values())
    dropped = set(delete_ids)
    return [item for item in result if item["id"] not in dropped]


def make_item(
    item_id: str, path: str, sha: str, created: str, storage_prefix: str, workspace_id: str
) -> dict[str, Any]:
    """A file item as DataRobot describes it (``_sha`` points at the content blob)."""
    return {
        "id": item_id,
        "fileName": posixpath.basename(path),
        "filePath": path,
        "fileSource": "local",
        "created": created,
        "storagePath": f"{storage_prefix}/{item_id}",
        "workspaceId": workspace_id,
        "commitSha": None,
        "ref": None,
        "repositoryFilePath": None,
        "repositoryLocation": None,
        "repositoryName": None,
        "_sha": sha,
    }


def content_of(
    items: Sequence[dict[str, Any]], path: str, blob: Callable[[str], bytes]
) -> bytes | None:
    """The content of the item at ``path`` (``None`` when there is none)."""
    for item in items:
        if item["filePath"] == path:
            return blob(item["_sha"])
    return None


def zip_items(items: Sequence[dict[str, Any]], blob: Callable[[str], bytes]) -> bytes:
    """A zip archive of the items at their file paths."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in sorted(items, key=lambda i: i["filePath"]):
            archive.writestr(item["filePath"], blob(item["_sha"]))
    return buffer.getvalue()
