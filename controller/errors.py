"""The error tree every part of the controller raises from.

    DrGitopsError
    ├── ConfigError          bad or missing settings (flags, env, drconfig.yaml)
    ├── ManifestError        manifests failed to load or validate (carries the problems)
    ├── SourceError          git: clone, fetch, checkout, unknown ref
    ├── ApiError             DataRobot answered with an error (see controller.remote.errors)
    ├── PlanError            a plan cannot be made or applied (stale plan, forbidden change)
    └── LockError            another controller holds the namespace

Every error a user can cause says what to do next; the CLI prints ``str(error)`` and never
a stack trace for these. This module imports nothing of ours so every layer may use it.
"""

from __future__ import annotations


class DrGitopsError(Exception):
    """Base of every error dr-gitops raises on purpose."""

    exit_code = 1


class ConfigError(DrGitopsError):
    """Settings are missing or malformed."""


class SourceError(DrGitopsError):
    """A git operation failed (clone, fetch, checkout, a ref or commit that is unknown)."""

    def __init__(self, message: str, *, ref: str | None = None) -> None:
        super().__init__(message)
        self.ref = ref


class PlanError(DrGitopsError):
    """A plan cannot be built or applied as asked."""


class LockError(DrGitopsError):
    """Another controller holds the namespace lock."""
