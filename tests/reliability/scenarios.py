"""The two long scenarios, shared by the tests and ``bench/bench_soak.py``.

* :func:`soak`: generate a repository, then for each round (the first creates everything,
  later ones are follow-up commits) apply under :class:`Chaos` until a run succeeds, turn
  the faults off, and check that the next plan is empty and that the verifier finds
  nothing wrong.
* :func:`crash_trial`: the same repository shape, but each apply is a subprocess killed
  with SIGKILL at a seeded random point (after a random number of the writes the plan
  needs, or before any), re-run (and maybe killed again), then finished; checked the same
  way after every commit.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from emulator.server import EmulatorServer
from tests.fixtures.gitrepos import GitRepo
from tests.reliability.bystanders import Bystander, plant_bystanders
from tests.reliability.repos import Shape, evolve, generate, remove
from tests.reliability.soaking import (
    ROOT,
    Chaos,
    Controller,
    Convergence,
    Ledger,
    check_converged,
    converge,
    soak_faults,
    wait_until_quiet,
)
from tests.reliability.verifying import Verdict

NAMESPACE = "reliability/soak"


@dataclass
class Round:
    commit: str
    edits: int
    convergence: Convergence
    requests: dict[str, Any]
    verdict: Verdict
    leftovers: list[str]
    pruned: bool = False

    @property
    def clean(self) -> bool:
        return self.convergence.converged and not self.verdict.problems and not self.leftovers


@dataclass
class SoakReport:
    shape: Shape
    rounds: list[Round] = field(default_factory=list)
    spikes: int = 0

    def figures(self) -> str:
        lines = [
            f"soak: {self.shape.models} generated models + {self.shape.jobs} jobs"
            f"{' + manifests-example' if self.shape.example else ''}, seed {self.shape.seed}"
        ]
        for number, r in enumerate(self.rounds, 1):
            req = r.requests
            lines.append(
                f"round {number} ({r.edits} {'deletions' if r.pruned else 'edits'}, commit "
                f"{r.commit[:8]}): converged in "
                f"{r.convergence.describe()}; {req['total']} requests ({req['writes']} writes, "
                f"{req['injected']} error answers, {req['dropped']} dropped, {req['delayed']} "
                f"delayed); next plan: {len(r.leftovers)} actions; verified: {r.verdict.summary()}"
            )
            busiest = sorted(req["routes"].items(), key=lambda kv: -kv[1])[:6]
            lines.append("  busiest routes: " + ", ".join(f"{n} {route}" for route, n in busiest))
        lines.append(f"latency spikes: {self.spikes}")
        return "\n".join(lines)


def stats_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Counters of the requests between two emulator stats snapshots."""
    routes: dict[str, int] = {}
    for route, entry in after["routes"].items():
        count = entry["count"] - before["routes"].get(route, {}).get("count", 0)
        if count:
            routes[route] = count
    return {
        "total": after["total"] - before["total"],
        "writes": after["writes"] - before["writes"],
        **{k: after["faults"][k] - before["faults"][k] for k in after["faults"]},
        "routes": routes,
    }


def prepare(
    emulator: EmulatorServer, repo: GitRepo, cache: Path, shape: Shape, *, concurrency: int = 4
) -> tuple[Controller, list[Bystander]]:
    """Bystanders planted in the emulator, the repository generated (not yet committed)."""
    controller = Controller(
        repo.path, emulator.api_url, emulator.token, NAMESPACE, cache, concurrency
    )
    bystanders = plant_bystanders(emulator.api_url, emulator.token, NAMESPACE)
    generate(repo, shape)
    return controller, bystanders


def soak(
    emulator: EmulatorServer,
    repo: GitRepo,
    cache: Path,
    shape: Shape,
    *,
    rounds: int = 2,
    max_runs: int = 12,
    share: float = 0.25,
    rate: float = 0.2,
    retry_after: int = 1,
    spike_ms: tuple[int, int] = (300, 1500),
    modes: Sequence[str] = ("cli", "engine"),
    prune: int = 0,
) -> SoakReport:
    """The fault soak (see the module docstring); the emulator must be freshly reset.

    With ``prune``, one more round deletes the manifests of ``prune`` models and one job
    and applies with ``--prune``: exactly those objects must go, and nothing else."""
    controller, bystanders = prepare(emulator, repo, cache, shape)
    ledger, report = Ledger(), SoakReport(shape)
    for number in range(rounds + (1 if prune else 0)):
        if number == rounds:
            edits = len(remove(repo, shape, models=prune, jobs=1, round_=number))
            controller = replace(controller, prune=True)
        else:
            edits = len(evolve(repo, shape, round_=number, share=share)) if number else 0
        commit = repo.commit(f"soak round {number + 1}")
        before = emulator.stats()
        chaos = Chaos(
            emulator,
            shape.seed * 100 + number,
            spike_ms=spike_ms,
            rate=rate,
            retry_after=retry_after,
        )
        with chaos:
            convergence = converge(controller, max_runs=max_runs, modes=modes)
        report.spikes += chaos.spikes
        requests = stats_delta(before, emulator.stats())
        ledger.applied(commit, controller.desired(), repo.path)
        verdict, leftovers = check_converged(
            controller, emulator, ledger.expectations(NAMESPACE, bystanders)
        )
        report.rounds.append(
            Round(commit, edits, convergence, requests, verdict, leftovers, controller.prune)
        )
    return report


# --- crashes -----------------------------------------------------------------------------


@dataclass
class Kill:
    after_writes: int  # writes the killed run had made (by the emulator's count)
    aimed_at: int  # writes it was to be killed after (0: during planning)
    seconds: float


@dataclass
class CrashPhase:
    commit: str
    kills: list[Kill]
    reruns: int
    verdict: Verdict
    leftovers: list[str]

    @property
    def clean(self) -> bool:
        return not self.verdict.problems and not self.leftovers


def crash_trial(
    emulator: EmulatorServer,
    repo: GitRepo,
    cache: Path,
    shape: Shape,
    *,
    phases: int = 2,
    killed: Sequence[int] | None = None,
    finish: Sequence[str] = ("cli",),
    faulty: bool = False,
) -> list[CrashPhase]:
    """One trial: for each of ``phases`` commits, killed applies (in the phases listed in
    ``killed``, default all; under 15% random faults too when ``faulty``) then finishing
    runs (``finish``: modes as for :func:`converge`), then the checks. The emulator must be
    freshly reset."""
    rng = random.Random(shape.seed)
    controller, bystanders = prepare(emulator, repo, cache, shape, concurrency=2)
    ledger, results = Ledger(), []
    for number in range(phases):
        if number:
            evolve(repo, shape, round_=number, share=0.5)
        commit = repo.commit(f"crash phase {number + 1}")
        # A little latency stretches an apply so that a kill can land anywhere in it.
        slow = {"latencyMs": 5, "latencyJitterMs": 20, "seed": shape.seed}
        if faulty:
            slow = soak_faults(shape.seed, rate=0.15, retry_after=0) | {"latencyMs": 5}
        emulator.set_faults(slow)
        kills: list[Kill] = []
        if killed is None or number in killed:
            kills.append(_killed_apply(emulator, controller, rng))
            while rng.random() < 0.4 and len(kills) < 3:
                kills.append(_killed_apply(emulator, controller, rng))
        emulator.set_faults({})
        finished = converge(controller, max_runs=3, modes=finish)
        ledger.applied(commit, controller.desired(), repo.path)
        verdict, leftovers = check_converged(
            controller, emulator, ledger.expectations(NAMESPACE, bystanders)
        )
        if not finished.converged:
            leftovers.append(f"the run after the kills failed: {finished.runs[-1].detail}")
        results.append(CrashPhase(commit, kills, finished.runs_to_converge, verdict, leftovers))
    return results


def _killed_apply(emulator: EmulatorServer, controller: Controller, rng: random.Random) -> Kill:
    planned = controller.plan().plan
    aim = rng.randint(0, max(1, len(planned.actions)))
    began, before = time.monotonic(), emulator.stats()
    start_writes, start_total = before["writes"], before["total"]
    process = subprocess.Popen(
        controller.apply_command(),
        env=controller.environ(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if aim == 0:  # while it reads: after its first request, before any write
            while emulator.stats()["total"] == start_total and process.poll() is None:
                time.sleep(0.003)
            time.sleep(rng.uniform(0.0, 0.05))
        else:
            while emulator.stats()["writes"] - start_writes < aim and process.poll() is None:
                time.sleep(0.003)
            time.sleep(rng.uniform(0.0, 0.02))  # and maybe in the middle of the next request
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    wait_until_quiet(emulator)
    return Kill(emulator.stats()["writes"] - start_writes, aim, time.monotonic() - began)


def crash_figures(trials: list[list[CrashPhase]]) -> str:
    phases = [p for t in trials for p in t]
    kills = [k for p in phases for k in p.kills]
    dirty = [p for p in phases if not p.clean]
    during_plan = sum(k.aimed_at == 0 for k in kills)
    return (
        f"crash trials: {len(trials)} trials, {len(phases)} commits, {len(kills)} SIGKILLs "
        f"({during_plan} while reading, before any write, the others after 1-{max((k.aimed_at for k in kills), default=0)} "
        f"writes; {sum(k.after_writes for k in kills)} writes landed from killed runs), "
        f"{sum(p.reruns for p in phases)} finishing runs; "
        f"verified {sum(p.verdict.counts['models'] for p in phases)} models, "
        f"{sum(p.verdict.counts['jobs'] for p in phases)} jobs, "
        f"{sum(p.verdict.counts['versions'] for p in phases)} versions, "
        f"{sum(p.verdict.counts['files'] for p in phases)} files; "
        f"{len(dirty)} phases with problems"
    )
