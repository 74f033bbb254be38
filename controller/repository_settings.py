"""The settings a repository commits beside its manifests (``.dr-gitops.yaml``).

Whoever can open a pull request writes this file, and ``plan`` runs on pull requests with the
API token, so it holds three harmless settings (the namespace, the commit URL template and
default excludes) and refuses every other key. It is read from a checkout by
``controller.sources`` and by ``validate``; flags and environment variables win over it.
"""

from __future__ import annotations

import difflib
import re
import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from controller.errors import ConfigError
from controller.excludes import pattern_problem
from controller.model.identity import valid_namespace

# Placeholders a --commit-url-template may use (documented in the README).
COMMIT_URL_PLACEHOLDERS = frozenset({"sha", "short_sha", "ref", "web_url", "host", "path"})


def check_commit_url_template(template: str) -> None:
    """Raise ``ConfigError`` unless ``template`` is a URL template with known placeholders."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise ConfigError(f"the commit URL template is malformed: {exc}") from None
    unknown = names - COMMIT_URL_PLACEHOLDERS
    if unknown:
        raise ConfigError(
            f"the commit URL template uses unknown placeholders {sorted(unknown)}; "
            f"known ones are {sorted(COMMIT_URL_PLACEHOLDERS)}"
        )
    if "sha" not in names and "short_sha" not in names:
        raise ConfigError("the commit URL template must contain {sha} (or {short_sha})")
    if "://" not in template and not template.startswith("{web_url}"):
        raise ConfigError(
            "the commit URL template must be an absolute URL, e.g. "
            "https://git.example.com/{path}/commit/{sha}"
        )


REPOSITORY_SETTINGS_FILE = ".dr-gitops.yaml"
_REPOSITORY_SETTINGS_MAX_BYTES = 64 * 1024
_REPOSITORY_KEYS = ("namespace", "commitUrlTemplate", "exclude")
# Keys someone might expect here but which this file may never set: `plan` runs on pull
# requests with the API token, and whoever opens one writes this file, so nothing in it may
# say where data or the token goes. (Every other unknown key is refused too.)
_FORBIDDEN_WORDS = (
    "endpoint", "token", "credential", "password", "secret", "proxy", "proxies", "ssl",
    "verify", "ca", "cert", "drconfig", "url", "host", "key", "auth",
)  # fmt: skip


@dataclass(frozen=True)
class RepositorySettings:
    """The settings a repository commits next to its manifests (``.dr-gitops.yaml`` at the
    manifest root): the namespace, the commit URL template and excludes every source folder
    gets. Flags and environment variables win over them. ``file`` is the file's path inside
    the repository (empty when there is none)."""

    file: str = ""
    namespace: str | None = None
    commit_url_template: str | None = None
    exclude: tuple[str, ...] = ()


class RepositorySettingsError(ConfigError):
    """Something is wrong in the repository settings file: ``file`` (its path inside the
    repository), ``key`` (empty for the file as a whole) and ``detail`` (what is wrong and
    what to do), so that ``validate`` can list it as one problem among the manifests'."""

    def __init__(self, file: str, key: str, detail: str, message: str | None = None) -> None:
        super().__init__(message or (f"{file}: {key} {detail}" if key else f"{file} {detail}"))
        self.file = file
        self.key = key
        self.detail = detail


def repository_settings_path(manifests_path: str) -> str:
    """The settings file's path inside the repository for a manifest root (``--path``)."""
    folder = manifests_path.strip("/")
    if folder in ("", "."):
        return REPOSITORY_SETTINGS_FILE
    return f"{folder}/{REPOSITORY_SETTINGS_FILE}"


def read_repository_settings(root: Path, manifests_path: str = "") -> RepositorySettings:
    """The settings file under ``root`` (a checkout) for the manifest root
    ``manifests_path``; empty settings when there is none. Raises ``RepositorySettingsError`` naming
    the file and the key for anything wrong in it."""
    shown = repository_settings_path(manifests_path)
    path = root / shown
    if path.is_symlink():
        raise RepositorySettingsError(
            shown, "", "is a symbolic link; commit the settings file itself, not a link"
        )
    if not path.exists():
        return RepositorySettings()
    if not path.is_file():
        raise RepositorySettingsError(shown, "", "is not a file; remove it or make it a YAML file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = f"cannot read {shown}: {exc.strerror}"
        raise RepositorySettingsError(shown, "", message, message) from None
    return parse_repository_settings(raw, shown)


def parse_repository_settings(raw: bytes, shown: str) -> RepositorySettings:
    """The settings file's content (``shown`` names it in errors); see
    :func:`read_repository_settings`."""
    if len(raw) > _REPOSITORY_SETTINGS_MAX_BYTES:
        raise RepositorySettingsError(
            shown, "", "is larger than 64 KiB; it holds three settings at most"
        )
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RepositorySettingsError(
            shown, "", f"is not valid YAML ({type(exc).__name__}); fix it"
        ) from None
    if data is None:
        return RepositorySettings(file=shown)
    if not isinstance(data, dict):
        raise RepositorySettingsError(
            shown, "", f"must be a YAML mapping of {', '.join(_REPOSITORY_KEYS)}"
        )
    for key in data:
        _check_repository_key(shown, key)
    namespace = data.get("namespace")
    if namespace is not None and not (isinstance(namespace, str) and valid_namespace(namespace)):
        raise RepositorySettingsError(
            shown,
            "namespace",
            "must be a string of letters, digits and . _ / : @ - "
            "(at most 200 characters), e.g. github.com/acme/ml-models",
        )
    template = data.get("commitUrlTemplate")
    if template is not None:
        if not isinstance(template, str):
            raise RepositorySettingsError(shown, "commitUrlTemplate", "must be a string")
        try:
            check_commit_url_template(template)
        except ConfigError as exc:
            raise RepositorySettingsError(
                shown, "commitUrlTemplate", str(exc), f"{shown}: commitUrlTemplate: {exc}"
            ) from None
    exclude = data.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(p, str) and p for p in exclude):
        raise RepositorySettingsError(
            shown, "exclude", "must be a list of patterns, e.g. ['tests/**']"
        )
    for pattern in exclude:
        _check_exclude(shown, pattern)
    return RepositorySettings(shown, namespace, template, tuple(exclude))


def _check_exclude(shown: str, pattern: str) -> None:
    # The rules of a manifest's own exclude: listing compiles these patterns the same way.
    problem = pattern_problem(pattern)
    if problem is not None:
        # problem.message begins "exclude pattern ...": the key, then what is wrong.
        detail = f"{problem.message.removeprefix('exclude ')} ({problem.hint})"
        raise RepositorySettingsError(shown, "exclude", detail)


def _check_repository_key(shown: str, key: object) -> None:
    if key in _REPOSITORY_KEYS:
        return
    name = str(key)
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)  # camelCase → camel Case
    words = {w.lower() for w in re.split(r"[^A-Za-z0-9]+", spaced) if w}
    if any(w in _FORBIDDEN_WORDS or w.rstrip("s") in _FORBIDDEN_WORDS for w in words):
        detail = (
            f"{name!r} cannot be set in the repository settings file: whoever can "
            "open a pull request writes this file, and `plan` runs on pull requests with the "
            "DataRobot token, so nothing in it may say where data or the token go. Set the "
            "endpoint, credentials and proxies in the CI's secrets, the environment or "
            "drconfig.yaml"
        )
        raise RepositorySettingsError(shown, name, detail, f"{shown}: {detail}")
    close = difflib.get_close_matches(name, _REPOSITORY_KEYS, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(_REPOSITORY_KEYS)}"
    detail = f"unknown key {name!r}; {hint}"
    raise RepositorySettingsError(shown, name, detail, f"{shown}: {detail}")
