"""Benchmark delivery: what a no-op plan costs with registries and deployments.

Generates N models, each with ``spec.registry``, and D ``Deployment`` manifests (on
``latest``, in the seeded staging environment, every tenth with declared settings), applies
them once against the emulator, then makes no-op plans and prints the API requests they
make, by route. The registry and deployments are read as list pages (registered models,
model packages, deployments): a handful of requests, not one per object; only deployments
that declare settings cost one settings read each.

    .venv/bin/python bench/bench_delivery.py [--models 1000] [--deployments 200] [--in-process]
        [--export]

``--export`` then exports the account (``dr-gitops export --namespace``) and prints the
requests by route and the CPU seconds (this process, the emulator), and whether the export
wrote the registry blocks and Deployment manifests.
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
    parser.add_argument("--export", action="store_true", help="then export the account")
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
        if args.export:
            export(bench, Path(tmp) / "exported", args.models, args.deployments)
    return 0


def export(bench: Bench, out: Path, models: int, deployments: int) -> None:
    """Export the account with the bench's namespace; print requests and CPU seconds."""
    from controller.engine.export import Exporter, ExportSettings

    before = bench.emulator.stats()
    emulator_cpu = bench.emulator.cpu_s()
    cpu, started = time.process_time(), time.perf_counter()
    report = Exporter(
        bench.client, ExportSettings(out=out, namespace=bench_engine.NAMESPACE, concurrency=8)
    ).run()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - started
    served = Served.between(before, bench.emulator.stats())
    written = sum(1 for o in report.exported if o.kind == "Deployment")
    registries = sum("registry:" in p.read_text() for p in (out / "models").glob("*.yaml"))
    other = bench.emulator.cpu_s()
    emulator = f", emulator {other - emulator_cpu:.1f} CPU s" if other and emulator_cpu else ""
    print(
        f"export: {models} models ({registries} with spec.registry), {written} of "
        f"{deployments} deployments written, ok={report.ok}; {served.total} requests, "
        f"{served.writes} writes; {wall:.1f} s wall, {cpu:.1f} CPU s here{emulator}"
    )
    delivery = {
        r: c
        for r, c in served.routes.items()
        if any(w in r for w in ("modelPackages", "registeredModels", "deployments"))
    }
    bench_engine.show_routes(Served(delivery, 0))


if __name__ == "__main__":
    sys.exit(main())
