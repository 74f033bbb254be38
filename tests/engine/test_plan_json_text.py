"""`plan --output json` and `plan --out` write the plan's JSON in pieces; the bytes must be
those of ``json.dumps(plan_to_json(plan), indent=2)``, which saved plans and golden files
were written with."""

from __future__ import annotations

import dataclasses
import json

import pytest

from controller.engine.ownership import match
from controller.engine.plan import PlanInputs, make_plan
from controller.model.diffs import ContentEvidence
from controller.model.live import LiveSnapshot
from controller.model.plan_json import plan_json_text, plan_to_json
from controller.model.plans import Plan
from tests.engine import builders as b


def _plan(live_count: int, count: int = 4) -> Plan:
    desired = [b.desired_model(f"mödel-{n}", runtime={"T": n / 3}) for n in range(count)]
    live = tuple(
        b.live_model(m, model_id=f"m{n}", fields={**m.fields.to_dict(), "targetName": "z"})
        for n, m in enumerate(desired[:live_count])
    )
    state, snapshot = b.state(*desired), LiveSnapshot(models=live)
    inputs = PlanInputs(
        desired=state,
        live=snapshot,
        namespace=b.NS,
        revision=b.revision(),
        model_evidence={m.key: ContentEvidence(changed_repo_paths=frozenset()) for m in desired},
    )
    return make_plan(inputs, match(state, snapshot, b.NS))


@pytest.mark.parametrize("live_count", [0, 2, 4])
def test_the_pieces_are_the_document_json_dumps_writes(live_count: int) -> None:
    plan = _plan(live_count)
    assert plan.actions
    assert "".join(plan_json_text(plan)) == json.dumps(plan_to_json(plan), indent=2)


def test_a_plan_without_actions_or_basis_and_with_warnings() -> None:
    plan = dataclasses.replace(_plan(0, 0), warnings=("one\nline", "two"))
    assert not plan.actions
    assert not plan.basis
    assert "".join(plan_json_text(plan)) == json.dumps(plan_to_json(plan), indent=2)
