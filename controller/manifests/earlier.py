"""Where a manifest, as it was at an earlier commit, put its source folder; and which
keys of a Deployment manifest changed since an earlier commit (``heal: false``).

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
from controller.manifests.loader import API_VERSION
from controller.manifests.yamlparser import YamlProblem, decode, parse_documents
from controller.model.delivery import KIND_DEPLOYMENT
from controller.model.desired import KIND_MODEL, Kind


def earlier_source_dir(raw: bytes, file: str, kind: Kind, name: str) -> str | None:
    """The repository path of the source folder that the ``kind``/``name`` manifest in
    ``raw`` (the text of ``file``, a path from the repository root) names; ``None`` when the
    file does not declare it, cannot be read, or the folder would leave the repository."""
    return earlier_source_dirs(raw, file).get((kind, name))


def earlier_source_dirs(raw: bytes, file: str) -> dict[tuple[str, str], str | None]:
    """:func:`earlier_source_dir` for every manifest of the file at once (one parse), keyed
    by ``(kind, metadata.name)``."""
    try:
        documents = parse_documents(decode(raw, file), file, DEFAULT_LIMITS)
    except YamlProblem:
        return {}
    found: dict[tuple[str, str], str | None] = {}
    for document in documents:
        data = document.data
        key = _key(data)
        if key is None:
            continue
        # Declared twice: which one made the version cannot be told.
        found[key] = None if key in found else _folder(data, key[0], file)
    return found


def _key(data: Any) -> tuple[str, str] | None:
    if not isinstance(data, dict) or data.get("apiVersion") != API_VERSION:
        return None
    kind, metadata = data.get("kind"), data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return (kind, name) if isinstance(kind, str) and isinstance(name, str) else None


def _folder(data: dict[str, Any], kind: str, file: str) -> str | None:
    spec = data.get("spec")
    holder = spec.get("version") if kind == KIND_MODEL and isinstance(spec, dict) else spec
    source = holder.get("source") if isinstance(holder, dict) else None
    if not isinstance(source, str) or not source or posixpath.isabs(source):
        return None
    folder = posixpath.normpath(posixpath.join(posixpath.dirname(file), source))
    if folder == ".." or folder.startswith("../"):
        return None
    return "" if folder == "." else folder


def deployment_changes(
    then: bytes | None, now: bytes, file: str
) -> dict[str, frozenset[str] | None]:
    """For each ``Deployment`` manifest of ``now`` (the text of ``file``), the keys of its
    ``spec`` that differ from ``then`` (the file at an earlier commit): ``label``,
    ``version``, ``sharing``..., and ``settings.<key>`` per setting; ``None`` when ``then``
    does not declare it (or cannot be read): all of it is new."""
    before = _deployment_specs(then, file) if then is not None else {}
    after = _deployment_specs(now, file)
    found: dict[str, frozenset[str] | None] = {}
    for name, spec in after.items():
        old = before.get(name)
        found[name] = None if old is None or spec is None else _spec_changes(old, spec)
    return found


def _deployment_specs(raw: bytes, file: str) -> dict[str, dict[str, Any] | None]:
    try:
        documents = parse_documents(decode(raw, file), file, DEFAULT_LIMITS)
    except YamlProblem:
        return {}
    found: dict[str, dict[str, Any] | None] = {}
    for document in documents:
        key = _key(document.data)
        if key is None or key[0] != KIND_DEPLOYMENT:
            continue
        spec = document.data.get("spec")
        # Declared twice: which one was meant cannot be told.
        found[key[1]] = None if key[1] in found or not isinstance(spec, dict) else spec
    return found


def _spec_changes(old: dict[str, Any], new: dict[str, Any]) -> frozenset[str]:
    changed = {k for k in old.keys() | new.keys() if k != "settings" and old.get(k) != new.get(k)}
    before, after = old.get("settings"), new.get("settings")
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    changed |= {
        f"settings.{k}" for k in before.keys() | after.keys() if before.get(k) != after.get(k)
    }
    return frozenset(changed)
