"""What building one manifest needs besides the document: the repository, the source
lister, the limits, and which parts of the document already failed the schema."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from controller.manifests.limits import ManifestLimits
from controller.manifests.problems import FieldPath, Problem, dotted
from controller.manifests.sourcefiles import Finding, SourceLister
from controller.manifests.yamlcache import YamlCache
from controller.manifests.yamlparser import Document


@dataclass(frozen=True)
class BuildContext:
    repo_root: Path
    lister: SourceLister
    limits: ManifestLimits
    parsed: YamlCache  # the metadata files of sources are parsed through it too
    # The metadata files the manifest search read already, by repository path (each file
    # is read once); others are read from the disk.
    metadata: Mapping[str, bytes] = field(default_factory=dict)


class SchemaVerdict:
    """Which fields of a document failed the schema, so later checks skip those parts
    (their values may have any type) while still checking the rest."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.paths = [p.path for p in problems if p.is_error]

    def clean(self, path: FieldPath, *, but: Sequence[FieldPath] = ()) -> bool:
        """No schema error at or under ``path``, except under the ``but`` paths."""
        if not self.paths:
            return True  # the usual case: a valid document (no paths to spell out)
        prefix = dotted(path)
        skipped = [dotted(b) for b in but]
        return not any(
            _under(p, prefix) and not any(_under(p, s) for s in skipped) for p in self.paths
        )


def _under(path: str, prefix: str) -> bool:
    if not prefix:
        return True
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


STAMP_MARK = "[dr-gitops "


def stamp_problems(document: Document, spec: dict[str, object]) -> list[Problem]:
    """A description must not carry text that reads as an ownership stamp: dr-gitops writes
    those itself, and one written by hand could claim another namespace's object."""
    description = spec.get("description")
    if isinstance(description, str) and STAMP_MARK in description:
        return [
            document.problem(
                ("spec", "description"),
                f"the description contains {STAMP_MARK.strip()!r}, which dr-gitops keeps for "
                "the ownership stamp it writes itself",
                f"remove the {STAMP_MARK.strip()}...] text",
            )
        ]
    return []


def finding_problems(
    document: Document, path: FieldPath, findings: Sequence[Finding]
) -> list[Problem]:
    """Source-folder findings as problems on the manifest field that names the folder."""
    out = []
    for finding in findings:
        where = path
        if finding.exclude_index is not None:
            where = (*path[:-1], "exclude", finding.exclude_index)
        out.append(document.problem(where, finding.message, finding.hint, finding.severity))
    return out
