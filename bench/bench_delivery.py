"""Benchmark delivery: what a no-op plan costs with registries and deployments.

Generates N models, each with ``spec.registry``, and D ``Deployment`` manifests (on
``latest``, in the seeded staging environment, every tenth with declared settings), applies
them once against the emulator, then makes no-op plans and prints the API requests they
make, by route. The registry and deployments are read as list pages (registered models,
model packages, deployments): a handful of requests, not one per object; only deployments
that declare settings cost one settings read each.

    .venv/bin/python bench/bench_delivery.py [--models 1000] [--deployments 200] [--in-process]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import bench_engine  # type: ignore[import-not-found]
from bench_engine import Bench, PeakMemory, Served, git, make_repo, serve

STAGING = "6600000000000000000000c1"
DEPLOYMENT = """\
apiVersion: dr-gitops/v1
kind: Deployment
metadata:
  name: deployment-{n:04d}
spec:
  label: Deployment {n}
  model: model-{n:04d}
  version: latest
  predictionEnvironmentId: {env}
"""
SETTINGS = """\
  settings:
    targetDrift: true
    predictionsDataCollection: true
"""


def add_delivery(root: Path, models: int, deployments: int) -> None:
    for n in range(models):
        path = root / "models" / f"model-{n:04d}.yaml"
        path.write_text(path.read_text() + "  registry:\n    name: Registered " + str(n) + "\n")
    (root / "deployments").mkdir()
    for n in range(deployments):
        text = DEPLOYMENT.format(n=n, env=STAGING) + (SETTINGS if n % 10 == 0 else "")
        (root / "deployments" / f"deployment-{n:04d}.yaml").write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "registries and deployments")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--deployments", type=int, default=200)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args(argv)
    if args.deployments > args.models:
        parser.error("--deployments must not exceed --models (one deployment per model)")
    with tempfile.TemporaryDirectory() as tmp, serve(args.in_process) as emulator:
        emulator.set_latency(0)
        repo = Path(tmp) / "repo"
        make_repo(repo, args.models, args.files)
        add_delivery(repo, args.models, args.deployments)
        bench = Bench(repo, Path(tmp) / "cache", emulator, PeakMemory(trace=False))
        started = time.perf_counter()
        first = bench.run(apply=True, concurrency=8)
        print(
            f"first apply: {args.models} models (versions registered), {args.deployments} "
            f"deployments in {time.perf_counter() - started:.1f} s; failures {first.failures}; "
            f"{first.apply_served.total} requests while applying"
        )
        noop = bench.run(apply=False)
        if noop.actions:
            print(f"not converged: {dict(noop.actions)}", file=sys.stderr)
            return 1
        print(
            f"no-op plan: {noop.plan_served.total} API requests, {noop.plan_served.writes} "
            f"writes, {noop.wall_s:.2f} s wall"
        )
        delivery = {
            r: c
            for r, c in noop.plan_served.routes.items()
            if any(w in r for w in ("modelPackages", "registeredModels", "deployments"))
        }
        bench_engine.show_routes(Served(delivery, 0))
        print(
            f"delivery share: {sum(delivery.values())} requests for {args.models} registered "
            f"models and {args.deployments} deployments "
            f"({sum(1 for n in range(args.deployments) if n % 10 == 0)} declare settings)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
