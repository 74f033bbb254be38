"""The limits manifest loading enforces, in one frozen value so tests and settings can
change them. The defaults are documented in schemas/README.md ("Limits")."""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


@dataclass(frozen=True)
class ManifestLimits:
    """Size and shape limits for manifests and the source folders they name."""

    # A YAML file (manifest or a source's metadata file) larger than this is not read.
    max_yaml_bytes: int = 1 * MIB
    # Values one YAML file may expand to, aliases included: stops "billion laughs".
    max_yaml_values: int = 100_000
    # Nesting depth of one YAML document.
    max_yaml_depth: int = 64
    # Files in one source folder: a warning above the first, an error above the second.
    warn_source_files: int = 1_000
    max_source_files: int = 10_000
    # One file of a source folder: a warning above the first, an error above the second
    # (uploads that large are likely refused by the API with 413).
    warn_file_bytes: int = 100 * MIB
    max_file_bytes: int = 1 * GIB
    # All files of one source folder together: a warning above this.
    warn_source_bytes: int = 1 * GIB
    # Folders nested deeper than this (below the manifest root or a source folder) are an
    # error: the walk stops there rather than search (or exhaust the stack) without end.
    max_folder_depth: int = 100
    # Listing one source folder (its files, excludes applied) may take at most this long:
    # a pull request must not be able to stall plan or serve with a tree or a pattern.
    max_listing_seconds: float = 60.0


DEFAULT_LIMITS = ManifestLimits()
