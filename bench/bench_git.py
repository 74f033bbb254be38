"""Benchmark the git layer on a repository of 1,000 models x 5 files.

Prints wall time and git subprocess counts for: opening a local working tree, cloning and
re-opening a file:// URL, the changed-paths questions of a no-op plan and of a one-file
change (1,000 models recorded at one commit, then at 10 distinct commits), the blob SHA-1s
of the whole tree, and a shallow clone fetching a recorded commit.

    .venv/bin/python bench/bench_git.py
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from controller import logs
from controller.settings import GitSettings
from controller.sources import GitSource, open_source

MODELS = 1000
FILES = 5
T = TypeVar("T")
ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
    )
    return done.stdout.strip()


def commit(repo: Path, message: str, files: dict[str, str]) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def timed(label: str, source: GitSource | None, action: Callable[[], T]) -> T:
    calls = source.git_calls if source else 0
    started = time.perf_counter()
    result = action()
    elapsed = (time.perf_counter() - started) * 1000
    spent = (source.git_calls - calls) if source else "-"
    print(f"  {label:<58} {elapsed:8.1f} ms   git processes: {spent}")
    return result


def prefixes() -> list[str]:
    return [f"models/model-{i:04d}" for i in range(MODELS)]


def main() -> None:
    logs.configure(level="warning")
    root = Path(tempfile.mkdtemp(prefix="bench-git-"))
    bare, work = root / "remote.git", root / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    git(work, "remote", "add", "origin", bare.as_uri())
    files = {
        f"models/model-{i:04d}/{name}": f"# model {i} file {name}\n" * 20
        for i in range(MODELS)
        for name in ("custom.py", "model-metadata.yaml", "requirements.txt", "a.py", "b.py")[:FILES]
    }
    started = time.perf_counter()
    recorded = [commit(work, "all models", files)]
    for n in range(9):
        recorded.append(commit(work, f"touch {n}", {f"models/model-{n:04d}/a.py": f"v{n}\n"}))
    commit(work, "one-file change", {"models/model-0500/custom.py": "changed\n"})
    git(work, "push", "-q", "origin", "main")
    print(
        f"repository: {MODELS} models x {FILES} files, built in {time.perf_counter() - started:.1f} s"
    )
    cache = root / "cache"

    print("local working tree")
    source = timed(
        "open (no --ref)",
        None,
        lambda: open_source(GitSettings(repo=str(work)), environ=os.environ),
    )
    print(f"  {'  git processes to open':<58} {source.git_calls:>8}")
    base = recorded[-1]
    timed(
        "no-op plan: 1,000 models recorded at HEAD",
        source,
        lambda: [source.changed_paths(source.checkout.sha, prefixes=[p]) for p in prefixes()],
    )
    timed(
        "one-file change: 1,000 models recorded at HEAD~1",
        source,
        lambda: [source.changed_paths(base, prefixes=[p]) for p in prefixes()],
    )
    timed(
        "1,000 models at 10 distinct commits, batched (as the engine)",
        source,
        lambda: (
            source.changed_paths_many(recorded),
            [
                source.changed_paths(recorded[i % 10], prefixes=[p])  # answered from cache
                for i, p in enumerate(prefixes())
            ],
        ),
    )
    again = open_source(GitSettings(repo=str(work)), environ=os.environ)
    timed(
        "the same, one commit at a time (prefetch + 2 processes each)",
        again,
        lambda: (
            again.prefetch(recorded),
            [again.changed_paths(recorded[i % 10], prefixes=[p]) for i, p in enumerate(prefixes())],
        ),
    )
    timed("blob SHA-1s of the whole tree (5,000 files)", source, lambda: source.blob_shas())
    timed(
        "blob SHA-1s per model, 1,000 lookups (cached)",
        source,
        lambda: [source.blob_shas(prefixes=[p]) for p in prefixes()],
    )
    source.close()

    print("file:// URL")
    settings = GitSettings(repo=bare.as_uri(), cache_dir=cache)
    cold = timed(
        "cold open: clone + export", None, lambda: open_source(settings, environ=os.environ)
    )
    print(f"  {'  git processes':<58} {cold.git_calls:>8}")
    cold.close()
    warm = timed(
        "warm open: fetch + export", None, lambda: open_source(settings, environ=os.environ)
    )
    print(f"  {'  git processes':<58} {warm.git_calls:>8}")
    warm.close()

    print("shallow CI checkout (depth 1)")
    ci = root / "ci"
    subprocess.run(["git", "clone", "-q", "--depth", "1", bare.as_uri(), str(ci)], check=True)
    shallow = open_source(GitSettings(repo=str(ci)), environ=os.environ)
    timed(
        "recorded commit 10 back: deepen, then 1,000 answers",
        shallow,
        lambda: [shallow.changed_paths(recorded[0], prefixes=[p]) for p in prefixes()],
    )
    print(f"  {'  git commands':<58} {shallow.git_commands}")
    shallow.close()


if __name__ == "__main__":
    main()
