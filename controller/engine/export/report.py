"""What an export wrote, left out and could not write (values for the CLI and the README)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.engine.export.selection import Skipped


@dataclass(frozen=True)
class ExportedObject:
    """One manifest written. ``files`` counts the source files written with it."""

    kind: str
    name: str
    display_name: str
    object_id: str
    manifest: str
    files: int
    adopt: bool
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class ExportFailure:
    """A file (or a source folder, when ``path`` ends in ``/``) that could not be written."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class ExportReport:
    """The outcome of one export; ``ok`` when every object was written whole and the
    folder validates."""

    out: Path
    endpoint: str
    namespace: str | None
    exported: tuple[ExportedObject, ...] = ()
    failures: tuple[ExportFailure, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    filtered_out: int = 0
    warnings: tuple[str, ...] = ()
    check_errors: tuple[str, ...] = ()
    check_warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures and not self.check_errors

    def count(self, kind: str) -> int:
        return sum(o.kind == kind for o in self.exported)

    def with_check(self, errors: tuple[str, ...], warnings: tuple[str, ...]) -> ExportReport:
        return dataclasses.replace(self, check_errors=errors, check_warnings=warnings)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (``dr-gitops export --output json``)."""
        return {
            "ok": self.ok,
            "out": str(self.out),
            "namespace": self.namespace,
            "exported": [
                {
                    "kind": o.kind,
                    "name": o.name,
                    "displayName": o.display_name,
                    "id": o.object_id,
                    "manifest": o.manifest,
                    "files": o.files,
                    "adopt": o.adopt,
                    "notes": list(o.notes),
                }
                for o in self.exported
            ],
            "failures": [{"path": f.path, "reason": f.reason} for f in self.failures],
            "skipped": [
                {
                    "kind": s.kind,
                    "displayName": s.display_name,
                    "id": s.object_id,
                    "reason": s.reason,
                }
                for s in self.skipped
            ],
            "filteredOut": self.filtered_out,
            "warnings": list(self.warnings),
            "validation": {
                "errors": list(self.check_errors),
                "warnings": list(self.check_warnings),
            },
        }
