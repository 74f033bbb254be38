"""Opening a source: a local repository or a URL, at a ref, as a checkout.

- Local path, no ``--ref``: the working tree as it is, never modified; ``dirty_paths``
  says what differs from ``HEAD`` (the engine refuses ``apply`` on a dirty tree).
- Local path with ``--ref``: the commit is exported into the cache with a private index;
  the repository is only read (fetching a missing recorded commit later adds objects).
- URL (https, ssh, scp-like, file://): a bare clone in ``<cache>/<hash of the URL>/``,
  fetched on every open, the ref (default: the remote's default branch) exported next to
  it. The cache entry is locked while the source is open.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from controller import logs
from controller.errors import ConfigError, SourceError
from controller.repository_settings import read_repository_settings
from controller.settings import GitSettings
from controller.sources.checkouts import (
    Checkout,
    ResolvedRef,
    check_ref,
    export_commit,
    read_commits,
    resolve_ref,
    unknown_ref_error,
)
from controller.sources.commits import is_full_sha
from controller.sources.credentials import credentials_for
from controller.sources.gitrunner import ALLOWED_PROTOCOLS, GitRunner
from controller.sources.remotes import RemoteUrl, display_url, looks_like_url, parse_remote
from controller.sources.source import GitSource

log = logs.get_logger(__name__)
# git's `<transport>::<address>` syntax runs a remote helper (git-remote-<transport>).
_TRANSPORT = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")
_SCHEMES = (*ALLOWED_PROTOCOLS, "http")
_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


def open_source(
    settings: GitSettings,
    *,
    environ: Mapping[str, str],
    git: str = "git",
    manifests_path: str | None = None,
) -> GitSource:
    """Open ``settings.repo`` at ``settings.ref``. ``environ`` is the environment git runs
    with (the edge passes the process's, which git would inherit anyway). With ``manifests_path``
    (the manifest root, ``--path``), the repository settings file there, as the checkout
    holds it, completes ``settings`` (see :class:`~controller.repository_settings.RepositorySettings`).
    """
    env = dict(environ)
    if settings.ref is not None:
        check_ref(settings.ref)
    repo = settings.repo
    if _TRANSPORT.match(repo) and not Path(repo).exists():
        raise SourceError(
            f"--repo {display_url(repo)!r} names a git remote helper ('<transport>::'); only "
            "https, ssh and file URLs are allowed (fd::, ext:: and others could run "
            "commands or wait forever)"
        )
    if looks_like_url(repo) and not Path(repo).exists():
        remote = parse_remote(repo)
        if remote is None:
            raise SourceError(f"--repo {display_url(repo)!r} is not a git URL git understands")
        _check_scheme(remote, "--repo")
        source = _open_url(remote, settings, env, git)
    else:
        source = _open_local(Path(repo).expanduser(), settings, env, git)
    if manifests_path is not None:
        try:
            repository = read_repository_settings(source.checkout.root, manifests_path)
        except BaseException:
            source.close()
            raise
        source.use_repository_settings(repository, manifests_path)
    return source


# -- local repositories ----------------------------------------------------------------


@dataclass(frozen=True)
class _LocalRepository:
    toplevel: Path
    git_dir: Path
    common_dir: Path
    shallow: bool
    head_ref: str
    remote_name: str | None
    remote_url: str | None


def _open_local(path: Path, settings: GitSettings, env: dict[str, str], git: str) -> GitSource:
    if not path.is_dir():
        raise SourceError(f"--repo {path}: no such directory; give a git repository or a URL")
    runner = GitRunner(env, executable=git, timeout=settings.network_timeout_seconds)
    repo = _read_local(runner, path, settings.remote_name)
    remote = parse_remote(repo.remote_url) if repo.remote_url else None
    if remote is not None and remote.scheme == "http":
        runner.allow_protocols("http")
    credentials = credentials_for(remote, settings, env)
    runner.authenticate(
        credentials.env, (*credentials.secrets, remote.password if remote else None)
    )
    shown = display_url(repo.remote_url) if repo.remote_url else None
    lock = None
    if settings.ref is None:
        checkout = _working_tree(runner, repo, shown)
    else:
        resolved = _resolve(
            runner,
            repo.git_dir,
            settings.ref,
            where=str(repo.toplevel),
            local_remote=repo.remote_name,
            fetch_remote=repo.remote_name if settings.fetch_missing_commits else None,
        )
        entry = _cache_entry(settings, f"local:{repo.toplevel}")
        lock = _lock(entry, settings.lock_timeout_seconds)
        try:
            export_commit(
                runner, repo.git_dir, resolved.commit.sha, entry / "tree", entry / "index"
            )
        except BaseException:
            lock.close()
            raise
        checkout = _exported(resolved, entry / "tree", shown, repo.shallow)
        checkout = replace(checkout, toplevel=repo.toplevel)
    log.info("git_source_opened", **_describe(checkout))
    return GitSource(
        runner=runner,
        git_dir=repo.git_dir,
        common_dir=repo.common_dir,
        checkout=checkout,
        remote=repo.remote_name,
        settings=settings,
        lock=lock,
    )


def _read_local(runner: GitRunner, path: Path, remote_name: str) -> _LocalRepository:
    facts = runner.run(
        "-C",
        str(path),
        "rev-parse",
        "--path-format=absolute",
        "--show-toplevel",
        "--git-dir",
        "--git-common-dir",
        "--is-shallow-repository",
        "--symbolic-full-name",
        "HEAD",
        what=f"reading the repository at {path}",
        hint="give a folder inside a git working tree with at least one commit "
        "(a bare repository is opened as a file:// URL)",
    ).text.splitlines()
    toplevel, git_dir, common_dir, shallow, head_ref = facts[:5]
    name, url = _local_remote(runner, Path(git_dir), remote_name)
    return _LocalRepository(
        toplevel=Path(toplevel),
        git_dir=Path(git_dir),
        common_dir=Path(common_dir),
        shallow=shallow == "true",
        head_ref=head_ref,
        remote_name=name,
        remote_url=url,
    )


def _local_remote(runner: GitRunner, git_dir: Path, name: str) -> tuple[str | None, str | None]:
    result = runner.run(f"--git-dir={git_dir}", "config", "--get", f"remote.{name}.url", ok=(0, 1))
    return (name, result.text) if result.returncode == 0 and result.text else (None, None)


def _working_tree(runner: GitRunner, repo: _LocalRepository, remote_url: str | None) -> Checkout:
    toplevel, head_ref = repo.toplevel, repo.head_ref
    commit = read_commits(runner, repo.git_dir, ["HEAD"])[0]
    if commit is None:
        raise SourceError(f"the repository at {toplevel} has no commits yet; commit first")
    status = runner.run(
        "-C",
        str(toplevel),
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=normal",
        "--ignore-submodules=dirty",
        what="reading the working tree status",
    )
    dirty = tuple(
        sorted({p.decode("utf-8", "surrogateescape") for p in _status_paths(status.stdout)})
    )
    branch = head_ref.removeprefix("refs/heads/") if head_ref.startswith("refs/heads/") else None
    return Checkout(
        root=toplevel,
        toplevel=toplevel,
        commit=commit,
        ref_name=branch,
        ref_kind="branch" if branch else "detached",
        remote_url=remote_url,
        working_tree=True,
        dirty_paths=dirty,
        shallow=repo.shallow,
    )


def _status_paths(output: bytes) -> list[bytes]:
    # A rename is followed by its source path as an extra NUL-separated field: the source is
    # gone from the working tree, so it differs from HEAD too. A copy's source is unchanged.
    paths, fields, index = [], output.split(b"\0"), 0
    while index < len(fields):
        entry = fields[index]
        index += 1
        if len(entry) > 3:
            paths.append(entry[3:])
            if entry[:1] in (b"R", b"C"):
                if entry[:1] == b"R" and index < len(fields) and fields[index]:
                    paths.append(fields[index])
                index += 1
    return paths


# -- URLs ------------------------------------------------------------------------------


def _check_scheme(remote: RemoteUrl, what: str) -> None:
    if remote.scheme not in _SCHEMES:
        raise SourceError(
            f"{what} {remote.display()!r} uses the {remote.scheme}:// protocol; only https, "
            "ssh and file URLs are allowed (and http, not recommended)"
        )


def _open_url(remote: RemoteUrl, settings: GitSettings, env: dict[str, str], git: str) -> GitSource:
    url = remote.display()
    credentials = credentials_for(remote, settings, env)
    runner = GitRunner(
        env,
        extra_env=credentials.env,
        secrets=(*credentials.secrets, remote.password),
        executable=git,
        timeout=settings.network_timeout_seconds,
        protocols=(*ALLOWED_PROTOCOLS, *(["http"] if remote.scheme == "http" else [])),
    )
    entry = _cache_entry(settings, url)
    lock = _lock(entry, settings.lock_timeout_seconds)
    try:
        git_dir = entry / "repo.git"
        if (git_dir / "HEAD").exists():
            _fetch_all(runner, git_dir, url)
        else:
            _clone(runner, url, git_dir, settings.clone_depth)
        resolved = _resolve_url_ref(runner, git_dir, settings.ref, url)
        export_commit(runner, git_dir, resolved.commit.sha, entry / "tree", entry / "index")
    except BaseException:
        lock.close()
        raise
    checkout = _exported(resolved, entry / "tree", url, (git_dir / "shallow").exists())
    log.info("git_source_opened", **_describe(checkout))
    return GitSource(
        runner=runner,
        git_dir=git_dir,
        common_dir=git_dir,
        checkout=checkout,
        remote="origin",
        settings=settings,
        lock=lock,
    )


def _clone(runner: GitRunner, url: str, git_dir: Path, depth: int | None) -> None:
    partial = git_dir.with_name(f"{git_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    shallow = ("--depth", str(depth), "--no-single-branch") if depth else ()
    try:
        runner.run(
            "clone",
            "--bare",
            "--quiet",
            *shallow,
            "--",
            url,
            str(partial),
            what=f"cloning {url}",
            hint="check the URL and the git credentials (token or ssh key) in the settings",
        )
        partial.rename(git_dir)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _fetch_all(runner: GitRunner, git_dir: Path, url: str) -> None:
    _remove_stale_locks(git_dir)
    runner.run(
        f"--git-dir={git_dir}",
        "fetch",
        "--quiet",
        "--prune",
        "--no-auto-gc",
        "--no-write-fetch-head",
        "origin",
        *_REFSPECS,
        what=f"fetching {url}",
        hint="check the network, the URL and the git credentials (token or ssh key)",
    )


def _resolve_url_ref(runner: GitRunner, git_dir: Path, ref: str | None, url: str) -> ResolvedRef:
    if ref is not None:
        return _resolve(
            runner,
            git_dir,
            ref,
            where=url,
            fetch_remote="origin",
            default_branch=_default_branch(git_dir),
        )
    resolved = resolve_ref(runner, git_dir, "HEAD", remote=None)
    if resolved is None:  # the default branch was renamed or deleted since the clone
        _refresh_default_branch(runner, git_dir, url)
        resolved = resolve_ref(runner, git_dir, "HEAD", remote=None)
    if resolved is None:
        raise SourceError(f"{url} has no default branch (an empty repository?); pass --ref")
    branch = _default_branch(git_dir)
    return ResolvedRef(resolved.commit, branch, "branch" if branch else "detached")


def _default_branch(git_dir: Path) -> str | None:
    head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
    return head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else None


def _refresh_default_branch(runner: GitRunner, git_dir: Path, url: str) -> None:
    listing = runner.run(
        f"--git-dir={git_dir}", "ls-remote", "--symref", "origin", "HEAD", what=f"asking {url}"
    )
    for line in listing.text.splitlines():
        if line.startswith("ref: ") and line.endswith("\tHEAD"):
            target = line[len("ref: ") : -len("\tHEAD")]
            runner.run(f"--git-dir={git_dir}", "symbolic-ref", "HEAD", target)


def _remove_stale_locks(git_dir: Path) -> None:
    """Lock files left by a dr-gitops process that was killed mid-fetch. Safe to remove:
    only dr-gitops uses this clone, and this process holds the cache entry's lock."""
    for pattern in ("*.lock", "refs/**/*.lock"):
        for stale in git_dir.glob(pattern):
            log.warning("git_stale_lock_removed", path=str(stale))
            stale.unlink(missing_ok=True)


# -- shared ----------------------------------------------------------------------------


def _resolve(
    runner: GitRunner,
    git_dir: Path,
    ref: str,
    *,
    where: str,
    local_remote: str | None = None,
    fetch_remote: str | None = None,
    default_branch: str | None = None,
) -> ResolvedRef:
    """Resolve ``ref``; a full SHA that is not here is fetched from ``fetch_remote``.
    ``local_remote`` adds ``refs/remotes/<remote>/<ref>`` to the places looked at."""
    resolved = resolve_ref(runner, git_dir, ref, remote=local_remote)
    if resolved is None and is_full_sha(ref.lower()) and fetch_remote:
        # A commit no branch points at any more (or not yet fetched): ask for it by SHA.
        fetched = runner.run(
            f"--git-dir={git_dir}",
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            fetch_remote,
            ref.lower(),
            ok=(0, 1, 128),
        )
        if fetched.returncode == 0:
            resolved = resolve_ref(runner, git_dir, ref, remote=local_remote)
    if resolved is None:
        raise unknown_ref_error(ref, display_url(where), default_branch)
    return resolved


def _exported(resolved: ResolvedRef, tree: Path, url: str | None, shallow: bool) -> Checkout:
    return Checkout(
        root=tree,
        toplevel=tree,
        commit=resolved.commit,
        ref_name=resolved.ref_name,
        ref_kind=resolved.ref_kind,
        remote_url=url,
        working_tree=False,
        shallow=shallow,
    )


def _cache_entry(settings: GitSettings, key: str) -> Path:
    if settings.cache_dir is None:
        raise ConfigError(
            "no git cache folder is configured; set DR_GITOPS_CACHE_DIR or XDG_CACHE_HOME"
        )
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    entry = settings.cache_dir / digest
    entry.mkdir(parents=True, exist_ok=True)
    return entry


def _lock(entry: Path, timeout: float) -> IO[bytes]:
    """Hold an exclusive lock on a cache entry so two processes never export at once."""
    handle = (entry / "lock").open("ab")
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise SourceError(
                    f"the git cache {entry} is in use by another dr-gitops process; "
                    "wait for it to finish or give this one its own cache folder"
                ) from None
            time.sleep(0.1)


def _describe(checkout: Checkout) -> dict[str, object]:
    return {
        "commit": checkout.sha,
        "ref": checkout.ref_name,
        "remote": checkout.remote_url,
        "working_tree": checkout.working_tree,
        "dirty": checkout.dirty,
    }
