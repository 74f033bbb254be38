"""``dependencies`` of a model version, parsed from its ``requirements.txt``.

DataRobot lists each requirement as ``{packageName, extras, constraints, line,
lineNumber}`` and supports only the constraint types ``<, <=, ==, >=, >``. A line it
cannot read (pip options, URLs, markers, other operators) makes the version a 422 with
``invalidDependencies``; blank lines and ``#`` comments are skipped.
"""

from __future__ import annotations

from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

SUPPORTED = ("<", "<=", "==", ">=", ">")


class InvalidDependencies(ValueError):
    """Lines of requirements.txt the emulated API refuses; ``lines`` says which and why."""

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        super().__init__("invalid requirements.txt")
        self.lines = lines


def _parse_line(line: str) -> tuple[dict[str, Any] | None, str | None]:
    """(dependency, None) or (None, why the line is refused)."""
    if line.startswith("-"):
        return None, "pip options are not supported"
    try:
        req = Requirement(line)
    except InvalidRequirement as exc:
        return None, str(exc)
    if req.url or req.marker:
        return None, "URLs and environment markers are not supported"
    constraints = []
    for spec in sorted(req.specifier, key=str):
        if spec.operator not in SUPPORTED:
            return (
                None,
                f"constraint type {spec.operator} is not supported (use one of {', '.join(SUPPORTED)})",
            )
        constraints.append({"constraintType": spec.operator, "version": spec.version})
    return {
        "packageName": req.name,
        "extras": ",".join(sorted(req.extras)),
        "constraints": constraints,
        "line": line,
    }, None


def parse_requirements(content: bytes) -> list[dict[str, Any]]:
    """The dependencies listed in ``content``; raises :class:`InvalidDependencies`."""
    text = content.decode("utf-8", errors="replace")
    dependencies: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        dependency, reason = _parse_line(line)
        if dependency is None:
            invalid.append({"line": line, "lineNumber": number, "message": reason})
        else:
            dependencies.append({**dependency, "lineNumber": number})
    if invalid:
        raise InvalidDependencies(invalid)
    return dependencies
