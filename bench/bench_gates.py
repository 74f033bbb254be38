"""Benchmark quality gates: N models, each a new version with a dependency build and a
custom model test that the emulator makes last ``--seconds`` together (half each).

Builds and tests of different models run in parallel, bounded by ``--concurrency``, so an
apply should take about ``(N / concurrency) x seconds`` plus the version uploads and the
polling slack (a poll waits a fifth of the time waited so far, at least 0.2 s, so a
step is seen ended up to ~20 % late). For each concurrency the script:

1. resets the emulator and applies the first version of every model with instant builds
   and tests (set-up, not timed);
2. commits a change to every model, makes builds and tests last ``--seconds``, and times
   ``apply``: wall time, the ideal ``(N / concurrency) x seconds`` and their ratio.

    .venv/bin/python bench/bench_gates.py [--models 100] [--seconds 2] [--concurrency 4,10]
                                          [--in-process]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script

from bench.bench_engine import Emulator, change_models, git, serve
from controller import logs
from controller.engine.reconciling import Engine
from controller.remote import DataRobotClient
from controller.settings import ApiSettings, EngineSettings, GitSettings
from controller.sources import open_source

TOKEN = "bench-token"
NAMESPACE = "bench/gates"
DATASET = "6600000000000000000000d3"  # house-prices.csv, seeded in the emulator
MANIFEST = """\
apiVersion: dr-gitops/v1
kind: CustomModel
metadata:
  name: model-{n:04d}
spec:
  name: Gated model {n}
  targetType: Regression
  targetName: y
  version:
    source: ./model-{n:04d}
    baseEnvironmentId: 64d2ba178dd3f0b1fa2162f0
    dependencyBuild: auto
    test:
      datasetId: {dataset}
      checks: {{errorCheck: fail, sideEffects: warn}}
      timeout: 10m
"""


def make_repo(root: Path, models: int) -> None:
    for n in range(models):
        folder = root / "models" / f"model-{n:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (root / "models" / f"model-{n:04d}.yaml").write_text(MANIFEST.format(n=n, dataset=DATASET))
        (folder / "custom.py").write_text(
            f"# model {n}\ndef score(data, model):\n    return data\n"
        )
        (folder / "requirements.txt").write_text("pandas>=2.0\n")
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "models")


def configure(emulator: Emulator, step_ms: int) -> None:
    answer = emulator.session.put(
        f"{emulator.admin_url}/__emulator__/config",
        json={"dependencyBuildMs": step_ms, "modelTestMs": step_ms, "trainingDataMs": 0},
        timeout=60,
    )
    answer.raise_for_status()


def apply(repo: Path, cache: Path, client: DataRobotClient, concurrency: int) -> tuple[float, int]:
    """One plan + apply; ``(seconds of the apply, failures)``."""
    settings = GitSettings(repo=str(repo), cache_dir=cache, namespace=NAMESPACE)
    with open_source(settings, environ={}) as source:
        engine = Engine(client, EngineSettings(concurrency=concurrency), environ={})
        planned = engine.plan(source)
        started = time.monotonic()
        result = engine.apply(planned)
        return time.monotonic() - started, len(result.failures)


def run(models: int, seconds: float, concurrencies: list[int], in_process: bool) -> None:
    logs.configure(level="warning")
    print(f"quality gates: {models} models, build + test lasting {seconds:g} s per version")
    print(f"{'concurrency':>11}  {'apply wall':>10}  {'ideal':>8}  {'ratio':>5}  failures")
    with serve(in_process) as emulator, tempfile.TemporaryDirectory() as tmp:
        client = DataRobotClient(ApiSettings(endpoint=emulator.api_url, token=TOKEN))
        for concurrency in concurrencies:
            emulator.reset()
            repo = Path(tmp) / f"repo-{concurrency}"
            make_repo(repo, models)
            configure(emulator, 0)
            apply(repo, Path(tmp) / "cache", client, concurrency)
            change_models(repo, range(models), "new version of every model")
            configure(emulator, int(seconds * 500))  # half the time each: build, then test
            wall, failures = apply(repo, Path(tmp) / "cache", client, concurrency)
            ideal = math.ceil(models / concurrency) * seconds
            print(
                f"{concurrency:>11}  {wall:>9.1f}s  {ideal:>7.1f}s  {wall / ideal:>5.2f}  {failures}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--concurrency", default="4,10")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    run(args.models, args.seconds, concurrencies, args.in_process)


if __name__ == "__main__":
    main()
