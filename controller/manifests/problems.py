"""Problems found in manifests, and the error that carries them.

A :class:`Problem` is one finding (an error or a warning) with where it is and what to do
about it. Loading collects every problem it can find before giving up, so a user fixes
them all in one go; :class:`ManifestError` carries them when any is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from controller.errors import DrGitopsError

Severity = Literal["error", "warning"]
PathPart = str | int
FieldPath = tuple[PathPart, ...]


def dotted(path: Sequence[PathPart]) -> str:
    """``("spec", "sharing", 0, "role")`` → ``"spec.sharing[0].role"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, order=True)
class Problem:
    """One finding in the manifests or the files they point to.

    ``file`` is relative to the repository root; ``line`` and ``document`` are 1-based, 0
    when not known (a file that cannot be decoded has no documents). ``path`` is the dotted
    field path (``spec.version.replicas``), empty for the whole document or file.
    """

    file: str
    line: int
    document: int
    path: str
    message: str
    hint: str = ""
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        if self.document:
            parts.append(f"document {self.document}")
        if self.path:
            parts.append(self.path)
        text = ": ".join(parts) + ": "
        if self.severity == "warning":
            text += "warning: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_json(self) -> dict[str, str | int]:
        return asdict(self)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in a stable order: by file, document, line, field, message; no duplicates."""
    return sorted(set(problems))


class ManifestError(DrGitopsError):
    """Manifests failed to load or validate. ``problems`` lists every problem found
    (warnings included); at least one is an error."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sort_problems(problems))
        errors = [p for p in self.problems if p.is_error]
        head = f"{len(errors)} problem{'s' if len(errors) != 1 else ''} in the manifests"
        super().__init__("\n".join([head + ":", *(str(p) for p in self.problems)]))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)
