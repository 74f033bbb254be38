"""Golden plans: `dr-gitops plan --output json`, byte for byte, before and after a refactor.

For each repository it runs the real CLI in this process against an emulator served from a
thread, through three phases, and keeps exactly what ``plan --output json`` printed:

1. ``1-first-plan``: every manifest against an empty DataRobot (creations, sharing);
2. ``2-after-apply``: after ``apply --concurrency 1``, the plan of an unchanged
   repository (no actions, but the basis: a digest of every live object read);
3. ``3-changed-and-pruned``: after a commit that edits files, settings and runtime values,
   and removes manifests, the plan with ``--prune`` (new versions, patches, deletions).

Repositories: ``example`` is ``manifests-example/`` at the repository root; ``bench`` is
the one ``bench/bench_engine.py`` generates (``--models`` x ``--files``).

Nothing may vary between two runs of the same code, so the inputs are pinned: git commits
carry fixed authors and dates (so their SHAs are fixed), the repository has a fixed
``origin`` URL (so commit links are), CI variables are cleared, the apply runs one object
at a time with a lock lease too long for a heartbeat to fall inside it (each heartbeat is
a write, so it would move every later timestamp), and the emulator's IDs and timestamps
come from counters instead of the clock (:func:`deterministic`) -- the only part of this
script that reaches into the emulator.

    .venv/bin/python bench/plan_golden.py                      # check every golden file
    .venv/bin/python bench/plan_golden.py --write              # record them anew
    .venv/bin/python bench/plan_golden.py --repo bench --models 1000 --files 5 --write

Golden files live in ``bench/golden/``: ``<name>.sha256`` (a SHA-256 per phase) always, and
``<name>/<phase>.json`` (the plans themselves, for a readable diff) when the repository has
at most :data:`FULL_UP_TO` models. ``--check`` (the default) exits 1 and prints the start
of a diff when a plan differs.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import io
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the repository's packages come first

from bench.bench_engine import change_models, make_repo  # noqa: E402
from controller.cli import main  # noqa: E402
from emulator.server import EmulatorServer  # noqa: E402
from emulator.store import iso  # noqa: E402

GOLDEN = ROOT / "bench" / "golden"
EXAMPLE = ROOT / "manifests-example"
TOKEN = "golden-token"
NAMESPACE = "github.com/acme/golden"
ORIGIN = "https://github.com/acme/golden.git"
FULL_UP_TO = 50
LOCK_TTL = 86_400  # seconds: a heartbeat every 8 hours, i.e. none during an apply
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: the emulator's clock starts here
PHASES = ("1-first-plan", "2-after-apply", "3-changed-and-pruned")
FIXED_GIT = {
    "GIT_AUTHOR_NAME": "dr-gitops golden",
    "GIT_AUTHOR_EMAIL": "golden@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T12:00:00+00:00",
    "GIT_COMMITTER_NAME": "dr-gitops golden",
    "GIT_COMMITTER_EMAIL": "golden@example.invalid",
    "GIT_COMMITTER_DATE": "2026-01-01T12:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}
CI_PREFIXES = ("GITHUB_", "GITLAB_", "CI_", "DR_GITOPS_", "DATAROBOT_")


# --- pinned inputs ----------------------------------------------------------------------


@contextlib.contextmanager
def pinned_environment() -> Iterator[None]:
    """Fixed git identity and dates; no CI, dr-gitops or DataRobot variables."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(CI_PREFIXES) or name == "CI":
            del os.environ[name]
    os.environ.update(FIXED_GIT)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def deterministic(server: EmulatorServer) -> None:
    """Make the emulator's IDs and timestamps counters, so two runs serve the same bytes.

    The store makes IDs from the clock and a random part, and timestamps from the clock;
    both end up in plans (target IDs, item IDs, the basis digests). Replacing its two
    helpers on this one instance keeps the emulator's code as it is.
    """
    store = server.emulator.store
    ids = itertools.count(1)

    def new_id() -> str:
        return f"{next(ids):024x}"

    def stamp() -> tuple[str, int]:
        store._seq += 1
        return iso(EPOCH + store._seq), store._seq

    store.new_id = new_id  # type: ignore[method-assign]
    store.stamp = stamp  # type: ignore[method-assign]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)


# --- the repositories -------------------------------------------------------------------


@dataclass(frozen=True)
class Repository:
    """A way to make a repository, and the change phase 3 commits to it."""

    name: str
    make: Callable[[Path], None]
    change: Callable[[Path], None]


def make_example(repo: Path) -> None:
    shutil.copytree(EXAMPLE, repo, dirs_exist_ok=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    commit(repo, "the example")


def change_example(repo: Path) -> None:
    """A file edited, a runtime value and a setting changed, a job file edited, a job gone."""
    custom = repo / "models" / "fraud-detector" / "custom.py"
    custom.write_text(custom.read_text() + "\n# golden: a changed line\n")
    fraud = repo / "models" / "fraud-detector.yaml"
    fraud.write_text(fraud.read_text().replace("AMOUNT_CAP: 25000", "AMOUNT_CAP: 30000"))
    fraud.write_text(fraud.read_text().replace("replicas: 2", "replicas: 3"))
    run = repo / "jobs" / "nightly-retrain" / "run.sh"
    run.write_text(run.read_text() + "# golden: a changed line\n")
    (repo / "jobs" / "drift-alert.yaml").unlink()
    shutil.rmtree(repo / "jobs" / "drift-alert")
    commit(repo, "golden: change the example")


def bench_repository(models: int, files: int) -> Repository:
    def make(repo: Path) -> None:
        make_repo(repo, models, files)

    def change(repo: Path) -> None:
        change_models(repo, range(min(10, models)), "golden")
        last = f"model-{models - 1:04d}"
        (repo / "models" / f"{last}.yaml").unlink()
        shutil.rmtree(repo / "models" / last)
        settings = repo / "models" / "model-0000.yaml"
        settings.write_text(settings.read_text().replace("THRESHOLD: 0.7", "THRESHOLD: 0.9"))
        commit(repo, "golden: change the bench repository")

    return Repository(f"bench-{models}x{files}", make, change)


EXAMPLE_REPOSITORY = Repository("example", make_example, change_example)


# --- running ----------------------------------------------------------------------------


def cli(*args: str) -> str:
    """Run ``dr-gitops`` in this process; its standard output (raises on a failure)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    if code not in (0, 2):  # 2: --detailed-exitcode's "changes"; not passed, but harmless
        raise RuntimeError(f"dr-gitops {' '.join(args)} exited {code}:\n{err.getvalue()}")
    return out.getvalue()


def plans(repository: Repository, work: Path) -> dict[str, bytes]:
    """The ``plan --output json`` of each phase, as printed."""
    repo, cache = work / "repo", work / "cache"
    repo.mkdir()
    with pinned_environment(), EmulatorServer(token=TOKEN, threads=4) as server:
        deterministic(server)
        token = work / "token"
        token.write_text(TOKEN)
        common = [
            f"--repo={repo}",
            f"--namespace={NAMESPACE}",
            f"--endpoint={server.api_url}",
            f"--token-file={token}",
            f"--cache-dir={cache}",
            "--log-level=error",
            "--log-format=json",
        ]
        repository.make(repo)
        git(repo, "remote", "add", "origin", ORIGIN)
        found = {PHASES[0]: cli("plan", "--output=json", *common)}
        # One object at a time, so IDs come in one order; a lease long enough that no
        # heartbeat (a write, at a time that depends on the machine) happens during the apply.
        cli("apply", "--concurrency=1", f"--lock-ttl={LOCK_TTL}", *common)
        found[PHASES[1]] = cli("plan", "--output=json", *common)
        repository.change(repo)
        found[PHASES[2]] = cli("plan", "--output=json", "--prune", *common)
    return {phase: text.encode("utf-8") for phase, text in found.items()}


def digests(found: dict[str, bytes]) -> str:
    return "".join(f"{hashlib.sha256(found[p]).hexdigest()}  {p}\n" for p in PHASES)


def write(name: str, found: dict[str, bytes], golden: Path, *, full: bool) -> None:
    golden.mkdir(parents=True, exist_ok=True)
    (golden / f"{name}.sha256").write_text(digests(found))
    if full:
        (golden / name).mkdir(exist_ok=True)
        for phase, data in found.items():
            (golden / name / f"{phase}.json").write_bytes(data)


def differences(name: str, found: dict[str, bytes], golden: Path) -> list[str]:
    """What differs from the golden files, in words and the start of a diff."""
    recorded = golden / f"{name}.sha256"
    if not recorded.is_file():
        return [f"{name}: no golden file {recorded}; run with --write first"]
    if recorded.read_text() == digests(found):
        return []
    problems = [f"{name}: the plans differ from {recorded.name}:"]
    wanted = dict(line.split("  ")[::-1] for line in recorded.read_text().splitlines())
    for phase in PHASES:
        if wanted.get(phase) == hashlib.sha256(found[phase]).hexdigest():
            continue
        problems.append(f"  {phase}: differs")
        saved = golden / name / f"{phase}.json"
        if saved.is_file():
            diff = difflib.unified_diff(
                saved.read_text().splitlines(),
                found[phase].decode().splitlines(),
                f"golden/{name}/{phase}.json",
                "now",
                lineterm="",
                n=2,
            )
            problems += [f"    {line}" for line in itertools.islice(diff, 60)]
    return problems


def run(repository: Repository, models: int, *, write_golden: bool, golden: Path) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="dr-gitops-golden-") as tmp:
        found = plans(repository, Path(tmp))
    if write_golden:
        write(repository.name, found, golden, full=models <= FULL_UP_TO)
        return []
    return differences(repository.name, found, golden)


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", choices=("example", "bench", "all"), default="all")
    parser.add_argument("--models", type=int, default=1000, help="bench repository size")
    parser.add_argument("--files", type=int, default=5, help="files per bench model")
    parser.add_argument("--write", action="store_true", help="record the golden files anew")
    parser.add_argument("--golden", type=Path, default=GOLDEN, help="golden folder")
    args = parser.parse_args(argv)
    chosen = []
    if args.repo in ("example", "all"):
        chosen.append((EXAMPLE_REPOSITORY, len(list(EXAMPLE.rglob("*.yaml")))))
    if args.repo in ("bench", "all"):
        chosen.append((bench_repository(args.models, args.files), args.models))
    problems = []
    for repository, size in chosen:
        found = run(repository, size, write_golden=args.write, golden=args.golden)
        print(
            f"{repository.name}: " + ("written" if args.write else "differs" if found else "same")
        )
        problems += found
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main_())
