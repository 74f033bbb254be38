"""The reliability soak and crash trials on demand, with figures.

Soak: a generated repository (``--models`` models and ``--jobs`` jobs with runtime values
and sharing on some, plus manifests-example) is applied against an in-process emulator
with ``--rate`` injected faults (429 with Retry-After, 502/503/504 before and after the
write, 3% dropped connections, latency jitter and spikes), alternating the CLI as a
subprocess and the engine in-process, until a run succeeds; then, with faults off, the
next plan must be empty and DataRobot must hold exactly the manifests (checked through
the API by an independent verifier). ``--rounds`` follow-up commits edit a quarter of the
objects each; a last round deletes ``--prune`` models and a job from the manifests and
applies with ``--prune`` (exactly those must go). Crash trials: ``--trials`` repositories whose applies are killed with
SIGKILL at seeded random points, re-run, and verified the same way.

    .venv/bin/python bench/bench_soak.py [--models 200] [--jobs 50] [--rounds 2]
        [--rate 0.2] [--seed 1] [--trials 20] [--skip-soak] [--skip-crash]

Exits 1 when any check fails. The harness lives in tests/reliability/ (shared with the
pytest versions: ``make test`` runs quick ones, ``make test-slow`` long ones).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# The harness is test code (tests/reliability); make the repository importable from here.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from controller import logs
from emulator.server import EmulatorServer
from tests.fixtures.gitrepos import GitRepo
from tests.reliability.repos import Shape
from tests.reliability.scenarios import crash_figures, crash_trial, soak
from tests.reliability.soaking import request_figures

for _name, _value in {
    "GIT_AUTHOR_NAME": "dr-gitops bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "dr-gitops bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}.items():
    os.environ.setdefault(_name, _value)


def run_soak(args: argparse.Namespace, top: Path) -> bool:
    shape = Shape(models=args.models, jobs=args.jobs, example=True, seed=args.seed)
    with EmulatorServer(port=0, threads=8) as emulator:
        began = time.monotonic()
        report = soak(
            emulator,
            GitRepo(top / "soak-repo"),
            top / "soak-cache",
            shape,
            rounds=args.rounds + 1,
            max_runs=args.max_runs,
            rate=args.rate,
            retry_after=args.retry_after,
            prune=args.prune,
        )
        print(report.figures())
        print(f"soak wall time: {time.monotonic() - began:.1f}s")
        print("emulator totals, the verifier's reads included:")
        print(request_figures(emulator.stats()))
    clean = True
    for number, round_ in enumerate(report.rounds, 1):
        for problem in [*round_.verdict.problems, *round_.leftovers][:20]:
            print(f"  round {number}: {problem}")
        clean &= round_.clean
    return clean


def run_crashes(args: argparse.Namespace, top: Path) -> bool:
    trials = []
    with EmulatorServer(port=0, threads=8) as emulator:
        began = time.monotonic()
        for seed in range(args.seed, args.seed + args.trials):
            emulator.reset()
            shape = Shape(models=args.crash_models, jobs=args.crash_jobs, example=False, seed=seed)
            trial = crash_trial(
                emulator,
                GitRepo(top / f"crash-repo-{seed}"),
                top / f"crash-cache-{seed}",
                shape,
                finish=("cli",) if seed % 2 else ("engine",),
                faulty=seed % 4 < 2,
            )
            trials.append(trial)
            marks = " ".join(
                f"[{len(p.kills)} kill(s) after {[k.after_writes for k in p.kills]} writes: "
                f"{'ok' if p.clean else 'PROBLEMS'}]"
                for p in trial
            )
            print(f"trial {seed}: {marks}")
        print(crash_figures(trials))
        print(f"crash wall time: {time.monotonic() - began:.1f}s")
    clean = True
    for trial in trials:
        for phase in trial:
            for problem in [*phase.verdict.problems, *phase.leftovers][:20]:
                print(f"  {phase.commit[:8]}: {problem}")
            clean &= phase.clean
    return clean


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1, help="follow-up commits (default: 1)")
    parser.add_argument(
        "--prune", type=int, default=4, help="models removed in a last --prune round (default: 4)"
    )
    parser.add_argument("--rate", type=float, default=0.2, help="fault rate (default: 0.2)")
    parser.add_argument("--retry-after", type=int, default=1, help="429 Retry-After seconds")
    parser.add_argument("--max-runs", type=int, default=15, help="applies per round at most")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trials", type=int, default=20, help="crash trials (default: 20)")
    parser.add_argument("--crash-models", type=int, default=6)
    parser.add_argument("--crash-jobs", type=int, default=2)
    parser.add_argument("--skip-soak", action="store_true")
    parser.add_argument("--skip-crash", action="store_true")
    args = parser.parse_args()
    logs.configure(level="error", json=True)
    with tempfile.TemporaryDirectory(prefix="dr-gitops-soak-") as folder:
        top = Path(folder)
        clean = True
        if not args.skip_soak:
            clean &= run_soak(args, top)
        if not args.skip_crash:
            clean &= run_crashes(args, top)
    print("result: " + ("no duplicates, nothing lost, nothing missing" if clean else "PROBLEMS"))
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
