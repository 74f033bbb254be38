"""Manifest names for live objects: ``metadata.name`` from a display name (pure).

A ``metadata.name`` is ``[a-z0-9]([a-z0-9-]*[a-z0-9])?``, at most 63 characters, unique per
kind. Display names are free text ("Fraud detector (v2)", "Prévision ventes"), so they are
folded to ASCII, lower-cased, and every run of other characters becomes one dash. Names
taken already (by owned objects, or by an earlier object with the same slug) get ``-2``,
``-3``... so every object keeps a name of its own.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 63
_OTHER = re.compile(r"[^a-z0-9]+")
NAME_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def slugify(display_name: str, fallback: str) -> str:
    """``display_name`` as a valid ``metadata.name`` (``fallback`` when nothing is left)."""
    ascii_text = (
        unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode("ascii")
    )
    slug = _OTHER.sub("-", ascii_text.lower()).strip("-")
    slug = slug[:MAX_NAME].rstrip("-")
    return slug or fallback


class NameAllocator:
    """Hands out unique names of one kind, in the order they are asked for."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self._taken: set[str] = set(taken or ())

    def reserve(self, name: str) -> bool:
        """Take ``name`` as it is; False when it was taken already."""
        if name in self._taken:
            return False
        self._taken.add(name)
        return True

    def allocate(self, wanted: str) -> str:
        """``wanted``, or ``wanted-2``, ``wanted-3``... whichever is free first."""
        if self.reserve(wanted):
            return wanted
        number = 2
        while True:
            suffix = f"-{number}"
            candidate = wanted[: MAX_NAME - len(suffix)].rstrip("-") + suffix
            if self.reserve(candidate):
                return candidate
            number += 1
