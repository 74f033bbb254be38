"""Benchmark: validate 1,000 model manifests with 5 files each.

Generates a repository in a temp dir (each model: a manifest with runtime parameters and
sharing, and a source folder with custom.py, model-metadata.yaml, requirements.txt and two
data files), then times loading the desired state (find, parse, schema, rules, source
listing, runtime parameter definitions). Target on the reference machine: under 2 s.
Timed twice: without a cache folder (as ``dr-gitops validate``) and with a warm one (as
every ``plan`` after the first and every ``serve`` tick), wall and CPU seconds.

    .venv/bin/python bench/bench_validate.py [--models N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

from controller.manifests import load

MANIFEST = """# yaml-language-server: $schema=../../schemas/custom-model.schema.json
apiVersion: dr-gitops/v1
kind: CustomModel
metadata:
  name: model-{n:04d}
spec:
  name: Model {n}
  description: Benchmark model number {n}.
  targetType: Binary
  targetName: target
  positiveClassLabel: "yes"
  negativeClassLabel: "no"
  predictionThreshold: 0.5
  language: python
  version:
    source: ./model-{n:04d}
    exclude: ["tests/"]
    baseEnvironmentId: 64d2ba178dd3f0b1fa2162f0
    maximumMemory: 512Mi
    replicas: 2
    networkEgressPolicy: NONE
    runtimeParameters:
      THRESHOLD: 0.7
      LABEL: "model {n}"
      CREDS: {{credentialId: 65a1f0c2e4b0a1b2c3d4e5f6}}
  sharing:
    - {{username: gitops-bot@example.com, role: OWNER, canShare: true}}
    - {{username: bob@example.com, role: USER}}
"""
METADATA = """name: model
type: inference
targetType: binary
runtimeParameterDefinitions:
  - {fieldName: THRESHOLD, type: numeric, defaultValue: 0.5, minValue: 0, maxValue: 1}
  - {fieldName: LABEL, type: string}
  - {fieldName: CREDS, type: credential, credentialType: s3}
"""


def generate(root: Path, models: int) -> None:
    (root / ".git").mkdir()  # the repository top, as a real checkout has
    base = root / "models"
    for n in range(models):
        source = base / f"model-{n:04d}"
        source.mkdir(parents=True)
        (base / f"model-{n:04d}.yaml").write_text(MANIFEST.format(n=n), encoding="utf-8")
        (source / "custom.py").write_text(f"def score(data, model):\n    return {n}\n")
        (source / "model-metadata.yaml").write_text(METADATA)
        (source / "requirements.txt").write_text("pandas>=2\n")
        (source / "weights.json").write_text('{"w": [0.1, 0.2, 0.3]}\n' * 20)
        (source / "README.md").write_text(f"# Model {n}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        generate(root, args.models)
        cache = Path(folder) / "cache"
        load(root)  # warm: imports and the compiled schemas, as a long-running service has
        load(root, cache_dir=cache)  # fills the cache folder
        generate_check = sum(1 for _ in (root / "models").rglob("*") if _.is_file())
        for label, cached in (("no cache", None), ("warm cache", cache)):
            runs, cpu = [], []
            for _ in range(3):
                started, started_cpu = time.perf_counter(), time.process_time()
                loaded = load(root, cache_dir=cached)
                runs.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            assert not loaded.errors, loaded.errors[:3]
            assert len(loaded.state.models) == args.models
            files = sum(len(m.version.source.files) for m in loaded.state.models if m.version)
            print(
                f"validate ({label}): {args.models} models, {files} source files "
                f"({generate_check} files on disk)"
            )
            print(
                f"validate ({label}): wall best {min(runs):.3f} s, median {sorted(runs)[1]:.3f} s;"
                f" CPU median {sorted(cpu)[1]:.3f} s of 3 runs (target < 2 s)"
            )
        if args.profile:
            profiler = cProfile.Profile()
            profiler.runcall(load, root, cache_dir=cache)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
