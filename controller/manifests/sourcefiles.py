"""Listing the files of a source folder, as a model version or a job will hold them.

Policy (documented in the schemas):

- The folder is relative to the manifest's folder and must stay inside the repository,
  lexically (``..``) and once symbolic links are resolved.
- VCS folders and junk are always skipped (:data:`ALWAYS_SKIPPED`), as are files holding
  dr-gitops manifests (uploading them would make a new version at every manifest edit).
- ``exclude`` patterns are .gitignore-style, relative to the source folder, and matched
  with RE2 (see ``controller.excludes``, which the repository settings file shares): a
  backtracking pattern could stall ``plan`` and ``serve``. Listing one folder also has a
  time limit.
- A symbolic link to a file inside the repository is followed: the file is uploaded under
  the link's path with the target's content, and ``repo_path`` names the target so git
  diffs see its changes. A link that dangles, leaves the repository or points to a folder
  is an error, and so is one into a VCS folder (``.git``, or the folder a ``.git`` file
  names): ``m/notes.txt -> ../.git/config`` would upload the remote URL with its token.
  A source folder there is refused the same way. (With ``--ref`` the files are those of
  the commit, exported from git's objects, where no ``.git`` folder exists.)
- Too many files or files too large give a warning, then an error (see ``ManifestLimits``).
"""

from __future__ import annotations

import functools
import os
import re
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from pathlib import Path

import pathspec

from controller.excludes import compile_patterns, pattern_problem
from controller.manifests.limits import GIB, MIB, ManifestLimits
from controller.manifests.problems import Severity
from controller.model.desired import Source, SourceFile

_NAME = attrgetter("name")
_VCS_DIRS = frozenset({".git", ".hg", ".svn"})
ALWAYS_SKIPPED = _VCS_DIRS | {"__pycache__", ".DS_Store", "Thumbs.db"}
SKIPPED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class Finding:
    """Something wrong with a source folder; the caller says where the manifest names it."""

    message: str
    hint: str
    severity: Severity = "error"
    exclude_index: int | None = None


@dataclass
class Listing:
    source: Source | None
    findings: list[Finding] = field(default_factory=list)


def compile_excludes(
    patterns: Sequence[str],
) -> tuple[pathspec.GitIgnoreSpec | None, list[Finding]]:
    """The exclude patterns as one matcher, or the findings about bad patterns."""
    spec, findings = _compiled(tuple(patterns))
    return spec, list(findings)


@functools.lru_cache(maxsize=4096)
def _compiled(
    patterns: tuple[str, ...],
) -> tuple[pathspec.GitIgnoreSpec | None, tuple[Finding, ...]]:
    # Remembered by patterns: thousands of manifests repeat the same few exclude lists, and
    # checking and compiling one took a quarter of loading an unchanged repository. The
    # matcher is only read (RE2 sets), so sharing it between folders and runs is safe.
    findings = [
        Finding(problem.message, problem.hint, exclude_index=index)
        for index, pattern in enumerate(patterns)
        if (problem := pattern_problem(pattern)) is not None
    ]
    if findings:
        return None, tuple(findings)
    if not patterns:
        return None, ()
    return compile_patterns(patterns), ()


def _git_dirs(root: str) -> tuple[str, ...]:
    """The real git folder of the repository at ``root`` when a ``.git`` file names one
    (a linked worktree, a submodule, ``--separate-git-dir``); ``.git`` folders themselves are
    recognised by name."""
    marker = os.path.join(root, ".git")
    if not os.path.isfile(marker):
        return ()
    try:
        with open(marker, encoding="utf-8", errors="replace") as handle:
            first = handle.readline(4096).strip()
    except OSError:
        return ()
    if not first.startswith("gitdir:"):
        return ()
    named = os.path.join(root, first.removeprefix("gitdir:").strip())
    return (os.path.realpath(named),)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _posix(path: str, root: str) -> str:
    # Paths under the (real, normalised) root are cut, not recomputed: relpath made the
    # listing of 10,000 source folders spend a fifth of its time here.
    if path.startswith(root) and path[len(root) : len(root) + 1] == os.sep:
        return path[len(root) + 1 :].replace(os.sep, "/")
    return os.path.relpath(path, root).replace(os.sep, "/")


class SourceLister:
    """Lists source folders of one repository; the same folder is listed once."""

    def __init__(
        self,
        repo_root: Path,
        limits: ManifestLimits,
        skip: frozenset[str],
        default_exclude: Sequence[str] = (),
    ) -> None:
        self.root = os.path.realpath(repo_root)
        self.limits = limits
        self.skip = skip  # repository paths of files holding manifests
        # The repository settings file's excludes (checked there), before each source's own
        # so that a source can re-include with '!'.
        self.default_exclude = tuple(default_exclude)
        self.git_dirs = _git_dirs(self.root)
        self._cache: dict[tuple[str, tuple[str, ...]], Listing] = {}

    def in_vcs(self, real: str) -> bool:
        """Whether the real path ``real`` (inside the repository) is, or is inside, a VCS
        folder: any ``.git``/``.hg``/``.svn`` on its way down from the top, or the git
        folder a ``.git`` file at the top names (``git init --separate-git-dir``)."""
        parts = os.path.relpath(real, self.root).split(os.sep)
        return bool(_VCS_DIRS.intersection(parts)) or any(
            _inside(real, git_dir) for git_dir in self.git_dirs
        )

    def resolve(self, base_dir: str, source: str) -> tuple[str | None, Finding | None]:
        """The real path of ``source`` (relative to ``base_dir``), or why it is unusable."""
        if os.path.isabs(source):
            return None, Finding(
                f"source {source!r} is an absolute path",
                "write it relative to this manifest's folder",
            )
        lexical = os.path.normpath(os.path.join(self.root, base_dir, source))
        if not _inside(lexical, self.root):
            return None, Finding(
                f"source {source!r} leaves the repository",
                "keep sources inside the repository; '..' may not climb above its top",
            )
        if not os.path.lexists(lexical):
            shown = _posix(lexical, self.root)
            return None, Finding(
                f"source folder {shown!r} does not exist",
                "create it, or fix the path, which is relative to this manifest's folder",
            )
        real = os.path.realpath(lexical)
        if not _inside(real, self.root):
            return None, Finding(
                f"source {source!r} is a symbolic link out of the repository",
                "replace the link with the files themselves",
            )
        if self.in_vcs(real):
            return None, Finding(
                f"source {source!r} is inside the repository's git folder",
                "point source at a folder of the model's own files",
            )
        if not os.path.isdir(real):
            return None, Finding(
                f"source {source!r} is not a folder", "point source at the folder of files"
            )
        return real, None

    def list_source(self, base_dir: str, source: str, exclude: Sequence[str]) -> Listing:
        real, finding = self.resolve(base_dir, source)
        if real is None:
            return Listing(None, [finding] if finding else [])
        key = (real, tuple(exclude))
        if key not in self._cache:
            self._cache[key] = self._list(real, exclude)
        return self._cache[key]

    def _list(self, real: str, exclude: Sequence[str]) -> Listing:
        offset = len(self.default_exclude)
        spec, findings = compile_excludes([*self.default_exclude, *exclude])
        if findings:
            return Listing(
                None,
                [replace(f, exclude_index=(f.exclude_index or offset) - offset) for f in findings],
            )
        walk = _Walk(self, real, spec)
        walk.run(real)
        findings = walk.findings + self._size_findings(real, walk.files, walk.count)
        if any(f.severity == "error" for f in findings):
            return Listing(None, findings)
        files = tuple(sorted(walk.files, key=lambda f: f.path))
        return Listing(Source(_posix(real, self.root), files), findings)

    def _size_findings(self, real: str, files: list[SourceFile], count: int) -> list[Finding]:
        limits, shown = self.limits, _posix(real, self.root)
        out: list[Finding] = []
        if count > limits.max_source_files:
            out.append(
                Finding(
                    f"source folder {shown!r} has {_at_least(count, limits)} files; "
                    f"at most {limits.max_source_files} are allowed",
                    "list what is not needed under exclude",
                )
            )
        elif count > limits.warn_source_files:
            out.append(
                Finding(
                    f"source folder {shown!r} has {count} files; uploads of more than "
                    f"{limits.warn_source_files} are slow",
                    "list what is not needed under exclude",
                    "warning",
                )
            )
        for file in files:
            if file.size > limits.max_file_bytes:
                out.append(
                    Finding(
                        f"{file.repo_path} is {_size(file.size)}; the API likely refuses files "
                        f"over {_size(limits.max_file_bytes)}",
                        "exclude it and load large artifacts at run time instead",
                    )
                )
            elif file.size > limits.warn_file_bytes:
                out.append(
                    Finding(
                        f"{file.repo_path} is {_size(file.size)}; uploads over "
                        f"{_size(limits.warn_file_bytes)} are slow",
                        "consider keeping large artifacts out of the source",
                        "warning",
                    )
                )
        total = sum(f.size for f in files)
        if total > limits.warn_source_bytes:
            out.append(
                Finding(
                    f"source folder {shown!r} holds {_size(total)} in all; uploads over "
                    f"{_size(limits.warn_source_bytes)} are slow",
                    "exclude what the model does not need",
                    "warning",
                )
            )
        return out


# A pointer is "version https://git-lfs.github.com/spec/v1", "oid sha256:<64 hex>" and
# "size <n>", one a line: at least 126 bytes. Smaller files are not opened to look.
_LFS_POINTER_MIN = 120
_LFS_POINTER_MAX = 200
_LFS_SIGNATURE = b"version https://git-lfs.github.com/spec/"


def _is_lfs_pointer(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(_LFS_SIGNATURE)) == _LFS_SIGNATURE
    except OSError:
        return False


def _fit_name(name: str) -> bool:
    """A file name the API and the plans can carry: UTF-8 (no undecodable bytes, which
    Python holds as surrogates) without control characters."""
    return _UNFIT.search(name) is None


# Control characters, and the lone surrogates undecodable bytes become (not UTF-8).
_UNFIT = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def _too_deep(folder: str, limits: ManifestLimits) -> Finding:
    return Finding(
        f"{folder} is nested more than {limits.max_folder_depth} folders deep",
        "flatten the folders, or exclude the deep part",
    )


def _too_slow(folder: str, limits: ManifestLimits) -> Finding:
    return Finding(
        f"listing the source folder {folder!r} took longer than {limits.max_listing_seconds:.0f} s",
        "exclude what the model does not need (a large folder, generated files), or use "
        "fewer and simpler exclude patterns",
    )


def _at_least(count: int, limits: ManifestLimits) -> str:
    return f"more than {count - 1}" if count > limits.max_source_files * 10 else str(count)


def _size(size: int) -> str:
    if size >= GIB:
        return f"{size / GIB:.1f} GiB"
    return f"{size / MIB:.1f} MiB"


class _Walk:
    """One walk of a source folder (kept small: the state of one scan)."""

    def __init__(
        self, lister: SourceLister, real: str, spec: pathspec.GitIgnoreSpec | None
    ) -> None:
        self.lister = lister
        self.spec = spec
        self.files: list[SourceFile] = []
        self.findings: list[Finding] = []
        self.count = 0
        self.stop_at = lister.limits.max_source_files * 10

    def run(self, folder: str) -> None:
        """Visit every entry under ``folder`` in path order, without recursion (a folder
        nested a thousand levels deep must not exhaust Python's stack), stopping at the
        depth and time limits with a finding."""
        limits = self.lister.limits
        deadline = time.monotonic() + limits.max_listing_seconds
        stack: list[tuple[str, str, int]] = [(folder, "", 0)]
        while stack:
            path, prefix, depth = stack.pop()
            if depth > limits.max_folder_depth:
                self.findings.append(_too_deep(_posix(path, self.lister.root), limits))
                return
            with os.scandir(path) as listing:
                entries = sorted(listing, key=_NAME)
            subfolders = []
            for entry in entries:
                if self.count >= self.stop_at:
                    return
                if time.monotonic() > deadline:
                    self.findings.append(_too_slow(_posix(folder, self.lister.root), limits))
                    return
                if self._visit(entry, prefix + entry.name):
                    subfolders.append((entry.path, prefix + entry.name + "/", depth + 1))
            stack.extend(reversed(subfolders))

    def _visit(self, entry: os.DirEntry[str], rel: str) -> bool:
        """Take in one entry; True when it is a folder to list next."""
        name = entry.name
        if name in ALWAYS_SKIPPED or name.endswith(SKIPPED_SUFFIXES):
            return False
        is_dir = entry.is_dir(follow_symlinks=False)
        if is_dir and self.lister.git_dirs and self.lister.in_vcs(entry.path):
            return False  # a git folder kept under another name (--separate-git-dir)
        if self.spec is not None and self.spec.match_file(rel + "/" if is_dir else rel):
            return False
        if not _fit_name(name):
            self.findings.append(
                Finding(
                    f"{_posix(entry.path, self.lister.root)!r} has a name that is not UTF-8 or "
                    "holds a control character (a newline, a tab...); the API cannot take it, "
                    "and it would garble plans",
                    "rename it, or exclude it",
                )
            )
            return False
        if is_dir and os.path.lexists(os.path.join(entry.path, ".git")):
            self.findings.append(
                Finding(
                    f"{_posix(entry.path, self.lister.root)} is a git submodule; its files are "
                    "not in this repository's commits, so no version could be made from them",
                    "copy the files in, or install the code as a package (requirements.txt)",
                )
            )
            return False
        if entry.is_symlink():
            self._link(entry, rel)
        elif is_dir:
            return True
        elif entry.is_file(follow_symlinks=False):
            repo_path = _posix(entry.path, self.lister.root)
            self._add(rel, repo_path, entry.stat(follow_symlinks=False).st_size)
        return False

    def _link(self, entry: os.DirEntry[str], rel: str) -> None:
        root = self.lister.root
        target = os.path.realpath(entry.path)
        shown = _posix(entry.path, root)
        if not os.path.exists(target):
            self.findings.append(
                Finding(f"{shown} is a broken symbolic link", "remove it or fix its target")
            )
        elif not _inside(target, root):
            self.findings.append(
                Finding(
                    f"{shown} is a symbolic link out of the repository",
                    "copy the file into the repository instead",
                )
            )
        elif self.lister.in_vcs(target):
            self.findings.append(
                Finding(
                    f"{shown} is a symbolic link into the repository's git folder; its files "
                    "(the config with the remote's URL and any token in it, hooks, objects) "
                    "are never uploaded",
                    "remove the link, or replace it with the file it should be",
                )
            )
        elif os.path.isdir(target):
            self.findings.append(
                Finding(
                    f"{shown} is a symbolic link to a folder; linked folders are not followed",
                    "use a real folder, or exclude the link",
                )
            )
        elif not stat.S_ISREG((info := os.stat(target)).st_mode):
            self.findings.append(
                Finding(
                    f"{shown} is a symbolic link to something that is not a file (a pipe, "
                    "socket or device)",
                    "remove the link, or exclude it",
                )
            )
        else:
            self._add(rel, _posix(target, root), info.st_size)

    def _add(self, rel: str, repo_path: str, size: int) -> None:
        if repo_path in self.lister.skip:
            return
        if _LFS_POINTER_MIN <= size <= _LFS_POINTER_MAX and _is_lfs_pointer(
            os.path.join(self.lister.root, repo_path)
        ):
            self.findings.append(
                Finding(
                    f"{repo_path} is a Git LFS pointer, not the file it stands for; it would "
                    "be uploaded as it is",
                    "fetch the LFS objects first (git lfs pull; actions/checkout with lfs: true)",
                    "warning",
                )
            )
        self.count += 1
        if self.count <= self.lister.limits.max_source_files:
            self.files.append(SourceFile(path=rel, repo_path=repo_path, size=size))
