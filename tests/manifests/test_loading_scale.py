"""Loading manifests does work in proportion to their number: no quadratic step.

Counted in Python function calls (cProfile's total), not seconds, so it holds on a loaded
machine: twice the manifests (and source folders) must cost about twice the calls.
"""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path

from controller.manifests import load
from tests.fixtures.manifests import MODEL, MODEL_METADATA, ManifestRepo


def _calls(root: Path, count: int, cache: Path | None) -> int:
    repo = ManifestRepo(root)
    for n in range(count):
        name = f"model-{n:04d}"
        repo.write(
            {
                f"models/{name}.yaml": MODEL.replace("scorer", name),
                f"models/{name}/custom.py": "def score(data, model):\n    return data\n",
                f"models/{name}/model-metadata.yaml": MODEL_METADATA,
            }
        )
    load(root, cache_dir=cache)  # fills the cache, when there is one
    profile = cProfile.Profile()
    profile.enable()
    loaded = load(root, cache_dir=cache)
    profile.disable()
    assert len(loaded.state.models) == count
    assert not loaded.errors
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def test_twice_the_manifests_cost_about_twice_the_work(tmp_path: Path) -> None:
    for cache in (None, tmp_path / "cache"):
        small = _calls(tmp_path / f"small-{cache is None}", 150, cache)
        large = _calls(tmp_path / f"large-{cache is None}", 300, cache)
        assert 1.8 < large / small < 2.3, (cache, small, large)
