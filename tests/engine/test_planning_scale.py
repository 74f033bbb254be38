"""Matching and planning do work in proportion to the number of models: no quadratic step.

Work is counted in Python function calls (cProfile's total), not in seconds, so the check
holds on a loaded machine: twice the models must cost about twice the calls, where a step
that compares every model with every other would cost four times as many.
"""

from __future__ import annotations

import cProfile
import pstats
from typing import Any

import pytest

from controller.engine.ownership import match
from controller.engine.plan import PlanInputs, canonical, make_plan
from controller.model.diffs import ContentEvidence
from controller.model.live import LiveSnapshot
from tests.engine import builders as b

UNCHANGED_FILES = ContentEvidence(changed_repo_paths=frozenset())


def _calls(count: int) -> int:
    """Calls made matching and planning ``count`` models: half unchanged, a quarter with a
    changed field, a quarter not in DataRobot yet."""
    desired = [b.desired_model(f"model-{n:05d}") for n in range(count)]
    live = tuple(
        b.live_model(
            model,
            model_id=f"m{n:05d}",
            fields={**model.fields.to_dict(), "targetName": "z"} if n % 4 == 1 else None,
        )
        for n, model in enumerate(desired)
        if n % 4 != 3
    )
    state, snapshot = b.state(*desired), LiveSnapshot(models=live)
    profile = cProfile.Profile()
    profile.enable()
    plan = make_plan(
        PlanInputs(
            desired=state,
            live=snapshot,
            namespace=b.NS,
            revision=b.revision(),
            model_evidence={m.key: UNCHANGED_FILES for m in desired},
        ),
        match(state, snapshot, b.NS),
    )
    profile.disable()
    assert len(plan.actions) == count // 4 * 3  # a patch; a model and its first version
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def test_twice_the_models_cost_about_twice_the_work() -> None:
    small, large = _calls(2000), _calls(4000)
    assert 1.8 < large / small < 2.3, (small, large)


def test_basis_digests_look_up_each_dataclass_type_once(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[type] = []
    original = canonical.fields

    def counted(value: Any) -> Any:
        looked_up.append(value if isinstance(value, type) else type(value))
        return original(value)

    monkeypatch.setattr(canonical, "fields", counted)
    monkeypatch.setattr(canonical, "_SHAPES", {})
    desired = [b.desired_model(f"model-{n:03d}") for n in range(50)]
    state = b.state(*desired)
    snapshot = LiveSnapshot(
        models=tuple(b.live_model(m, model_id=f"m{n:03d}") for n, m in enumerate(desired))
    )
    make_plan(
        PlanInputs(
            desired=state,
            live=snapshot,
            namespace=b.NS,
            revision=b.revision(),
            model_evidence={m.key: UNCHANGED_FILES for m in desired},
        ),
        match(state, snapshot, b.NS),
    )
    assert looked_up  # the digests do read dataclasses...
    assert len(looked_up) == len(set(looked_up))  # ...each type's fields once
