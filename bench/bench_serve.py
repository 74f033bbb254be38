"""Benchmark: the CPU of a `serve` tick when nothing changed in git or DataRobot (issue 20).

For each ``--models`` size: generates the repository `bench_engine.py` generates, starts the
emulator in its own process, and calls the service's real run function
(:class:`controller.service.engine_runs.EngineRunner`, the orchestrator inside) as the
service's worker thread does, one run per tick. The first tick applies every model; then
``--ticks`` ticks with nothing changed. Each tick prints its result, wall time, the
controller's CPU seconds (this process, every thread: ``time.process_time``), its git
processes', the emulator's, and the API requests by route. Then, as checks that drift is still seen: one
model changed by hand in DataRobot (the next tick heals it), and one file changed in git
(the next tick applies it). No assertion on time: the figures are printed.

    .venv/bin/python bench/bench_serve.py [--models 1000] [--files 5] [--ticks 3]
        [--concurrency 8] [--sharing] [--latency-ms 0] [--profile]

Compare the CPU seconds of the no-change ticks (the median is shown) at the sizes of one run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import (  # noqa: E402
    GIT_ENV,
    NAMESPACE,
    TOKEN,
    Emulator,
    change_models,
    make_repo,
    serve,
)

from controller import logs  # noqa: E402
from controller.service.engine_runs import EngineRunner  # noqa: E402
from controller.service.runs import RunOutcome, RunRequest  # noqa: E402
from controller.settings import ApiSettings, EngineSettings, GitSettings  # noqa: E402


class Ticks:
    """Calls the run function once per tick, as the service's worker does."""

    def __init__(self, runner: EngineRunner, emulator: Emulator) -> None:
        self.runner = runner
        self.emulator = emulator
        self.count = 0
        self.last_success: str | None = None
        self.reused: dict[str, int] = {}
        self.hits = self.misses = 0

    def tick(self, label: str, profile: cProfile.Profile | None = None) -> dict[str, Any]:
        self.count += 1
        routes: Counter[str] = Counter()

        def counted(method: str, route: str, _status: int) -> None:
            routes[f"{method} {route}"] += 1

        request = RunRequest(
            run_id=f"tick-{self.count}",
            trigger="schedule",
            last_success_revision=self.last_success,
            on_api_request=counted,
        )
        emulator_cpu = self.emulator.cpu_s()
        children = _children_cpu()
        cpu = time.process_time()
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        outcome: RunOutcome = self.runner(request)
        if profile is not None:
            profile.disable()
        wall = time.perf_counter() - started
        cpu_s = time.process_time() - cpu
        git_s = _children_cpu() - children
        emu = (self.emulator.cpu_s() or 0.0) - (emulator_cpu or 0.0)
        if outcome.result in ("success", "no-op"):
            self.last_success = outcome.revision
        requests = sum(routes.values())
        memory, pages = self.runner.memory.reused, self.runner.pages
        reused = ",".join(f"{k}" for k, v in memory.items() if v > self.reused.get(k, 0))
        self.reused = dict(memory)
        hits, misses = pages.hits - self.hits, pages.misses - self.misses
        self.hits, self.misses = pages.hits, pages.misses
        print(
            f"  {label:<28} {outcome.result:<8} wall {wall:6.2f} s  CPU controller {cpu_s:6.2f} s"
            f"  git {git_s:5.2f} s  emulator {emu:6.2f} s  requests {requests}"
            f"  load {os.getloadavg()[0]:.1f}"
        )
        print(f"    reused: {reused or 'nothing'}; list pages decoded {misses}, taken over {hits}")
        if outcome.errors:
            print(f"    errors: {list(outcome.errors)[:3]}")
        if label.startswith(("first", "drift", "git")) or requests > 200:
            for route, n in sorted(routes.items()):
                print(f"    {n:6d} {route}")
        return {"result": outcome.result, "wall": wall, "cpu": cpu_s, "requests": requests,
                "changes": outcome.changes}  # fmt: skip


def _children_cpu() -> float:
    """CPU seconds of the child processes waited for so far (git; not the emulator)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def change_by_hand(emulator: Emulator, api: ApiSettings) -> str:
    """Change one managed model's description in DataRobot, as a person would."""
    session = emulator.session
    headers = {"Authorization": f"Bearer {TOKEN}"}
    page = session.get(f"{api.endpoint}/customModels/", params={"offset": 0, "limit": 1},
                       headers=headers, timeout=60)  # fmt: skip
    page.raise_for_status()
    model = page.json()["data"][0]
    session.patch(
        f"{api.endpoint}/customModels/{model['id']}/",
        json={"description": "changed by hand"}, headers=headers, timeout=60,
    ).raise_for_status()  # fmt: skip
    return str(model["id"])


def one_size(models: int, args: argparse.Namespace) -> dict[str, Any]:
    print(f"\n== {models} models x {args.files} files{' with sharing' if args.sharing else ''}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp, serve(False) as emu:
        repo, cache = Path(tmp) / "repo", Path(tmp) / "cache"
        repo.mkdir()
        make_repo(repo, models, args.files, sharing=args.sharing)
        print(f"  repository generated in {time.perf_counter() - started:.1f} s")
        api = ApiSettings(endpoint=emu.api_url, token=TOKEN)
        runner = EngineRunner(
            GitSettings(repo=str(repo), cache_dir=cache, namespace=NAMESPACE),
            api,
            EngineSettings(concurrency=args.concurrency),
            {**os.environ, **GIT_ENV},
            namespace=NAMESPACE,
        )
        ticks = Ticks(runner, emu)
        ticks.tick("first tick (applies all)")
        emu.set_latency(args.latency_ms)
        quiet = [ticks.tick(f"no change {n + 1}") for n in range(args.ticks)]
        profile_text = ""
        if args.profile:
            profile = cProfile.Profile()
            ticks.tick("no change (profiled)", profile)
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(35)
            profile_text = out.getvalue()
        change_by_hand(emu, api)
        drift = ticks.tick("drift: one model by hand")
        healed = ticks.tick("after the heal")
        change_models(repo, range(1), "one file")
        changed = ticks.tick("git: one file committed")
        after = ticks.tick("after the git change")
    if profile_text:
        print(profile_text)
    cpus = [t["cpu"] for t in quiet]
    return {
        "models": models,
        "cpu": statistics.median(cpus),
        "cpus": cpus,
        "wall": statistics.median(t["wall"] for t in quiet),
        "requests": quiet[-1]["requests"],
        "quiet": all(t["result"] == "no-op" for t in quiet),
        "drift_healed": drift["result"] == "success" and healed["result"] == "no-op",
        "git_applied": changed["result"] == "success" and after["result"] == "no-op",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        default="1000",
        type=lambda s: [int(n) for n in s.split(",")],
        help="sizes, one after the other (issue 20: 1000,10000)",
    )
    parser.add_argument("--files", type=int, default=5, help="files per model source folder")
    parser.add_argument("--ticks", type=int, default=3, help="no-change ticks to measure")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sharing", action="store_true", help="manifests declare sharing")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="added to every API request after tick 1"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one no-change tick")
    args = parser.parse_args(argv)
    logs.configure(level="warning")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    results = [one_size(n, args) for n in args.models]
    print("\n| models | no-change tick: controller CPU (median) | wall | requests | "
          "only no-ops | drift healed | git change applied |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for r in results:
        each = ", ".join(f"{c:.2f}" for c in r["cpus"])
        print(
            f"| {r['models']:,} | {r['cpu']:.2f} s [{each}] | {r['wall']:.2f} s | {r['requests']} "
            f"| {r['quiet']} | {r['drift_healed']} | {r['git_applied']} |"
        )
    print(f"\nload average now {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
