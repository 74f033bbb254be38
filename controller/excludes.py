"""Exclude patterns: one rule for a manifest's ``exclude`` and the repository settings file's.

Patterns are .gitignore-style, relative to a source folder, and matched with RE2 (linear
time): Python's backtracking ``re`` takes minutes on a pattern such as
``*a*a*a*a*a*a*a*a*a*a*a*a*b`` against a long name. A pattern is checked and compiled here
only, so that ``.dr-gitops.yaml`` accepts exactly the patterns listing can use (it lives
beside the settings, which the remote layer imports and so may not import the manifests).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec
import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

# RE2 matches in time linear in the name; pathspec would otherwise fall back silently to
# Python's backtracking engine, so the backend is named rather than left to chance.
_BACKEND = "re2"


@dataclass(frozen=True)
class PatternProblem:
    """Why a pattern cannot be used, and what to do."""

    message: str
    hint: str


def pattern_problem(pattern: str) -> PatternProblem | None:
    """What is wrong with one exclude pattern, or ``None`` when it can be used."""
    if ".." in Path(pattern.lstrip("!")).parts:
        return PatternProblem(
            f"exclude pattern {pattern!r} climbs out of the source folder",
            "patterns are relative to the source folder; remove '..'",
        )
    try:
        pathspec.GitIgnoreSpec.from_lines([pattern], backend=_BACKEND)
    except (ValueError, TypeError, re.error, re2.error) as exc:
        # pathspec turns patterns into regular expressions; a range like [z-a] is
        # refused by `re`, a class like [[:alpha:]] by RE2: neither error is a ValueError.
        return PatternProblem(f"exclude pattern {pattern!r} is not valid: {exc}", "fix the pattern")
    return None


def compile_patterns(patterns: Sequence[str]) -> pathspec.GitIgnoreSpec:
    """Patterns that :func:`pattern_problem` accepts, as one matcher."""
    return pathspec.GitIgnoreSpec.from_lines(list(patterns), backend=_BACKEND)
