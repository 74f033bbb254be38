"""Where a manifest, as it was at an earlier commit, put its source folder.

A model's newest version (a job's stamp) records the commit it was made from. When the
manifest has changed since, its source folder may have moved, and the version's files must
then be compared with the folder the manifest named *at that commit*, by path inside the
folder. This reads that one value from the manifest file's text at the commit; anything
it cannot be sure of is answered with ``None`` (the engine then compares by content).
"""

from __future__ import annotations

import posixpath
from typing import Any

from controller.manifests.limits import DEFAULT_LIMITS
from controller.manifests.loading import API_VERSION
from controller.manifests.yamlreading import YamlProblem, decode, parse_documents
from controller.model.desired import KIND_MODEL, Kind


def earlier_source_dir(raw: bytes, file: str, kind: Kind, name: str) -> str | None:
    """The repository path of the source folder that the ``kind``/``name`` manifest in
    ``raw`` (the text of ``file``, a path from the repository root) names; ``None`` when the
    file does not declare it, cannot be read, or the folder would leave the repository."""
    try:
        documents = parse_documents(decode(raw, file), file, DEFAULT_LIMITS)
    except YamlProblem:
        return None
    found = [d.data for d in documents if _declares(d.data, kind, name)]
    if len(found) != 1:
        return None
    spec = found[0].get("spec")
    holder = spec.get("version") if kind == KIND_MODEL and isinstance(spec, dict) else spec
    source = holder.get("source") if isinstance(holder, dict) else None
    if not isinstance(source, str) or not source or posixpath.isabs(source):
        return None
    folder = posixpath.normpath(posixpath.join(posixpath.dirname(file), source))
    if folder == ".." or folder.startswith("../"):
        return None
    return "" if folder == "." else folder


def _declares(data: Any, kind: str, name: str) -> bool:
    if not isinstance(data, dict) or data.get("apiVersion") != API_VERSION:
        return False
    metadata = data.get("metadata")
    return data.get("kind") == kind and isinstance(metadata, dict) and metadata.get("name") == name
