"""The error tree every part of the controller raises from.

    DrGitopsError
    ├── ConfigError          bad or missing settings (flags, env, drconfig.yaml)
    │   └── SettingError     one setting's value is impossible (the CLI names its flag)
    ├── ManifestError        manifests failed to load or validate (carries the problems)
    ├── SourceError          git: clone, fetch, checkout, unknown ref
    ├── ApiError             DataRobot answered with an error (see controller.remote.apierrors)
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


class SettingError(ConfigError):
    """One setting's value is impossible. ``setting`` is the settings field, ``detail``
    what is wrong; ``{name}`` in ``detail`` stands for each other setting named in
    ``refers``. The message calls settings by their fields; the command line calls them by
    its flags instead (:meth:`naming`), since only it knows them."""

    def __init__(self, setting: str, detail: str, *, refers: tuple[str, ...] = ()) -> None:
        self.setting = setting
        self.detail = detail
        self.refers = refers
        super().__init__(self.naming({}))

    def naming(self, names: dict[str, str]) -> str:
        """The message with each setting called what ``names`` calls it (else its field)."""
        detail = self.detail
        for other in self.refers:
            detail = detail.replace("{" + other + "}", names.get(other, other))
        return f"{names.get(self.setting, self.setting)} {detail}"


class SourceError(DrGitopsError):
    """A git operation failed (clone, fetch, checkout, a ref or commit that is unknown)."""

    def __init__(self, message: str, *, ref: str | None = None) -> None:
        super().__init__(message)
        self.ref = ref


class PlanError(DrGitopsError):
    """A plan cannot be built or applied as asked."""


class LockError(DrGitopsError):
    """Another controller holds the namespace lock."""
