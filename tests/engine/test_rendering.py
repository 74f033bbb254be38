"""Plans rendered for people (text, Markdown) and machines (JSON, checked by its schema)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from controller.engine.outcomes import ActionResult, ApplyResult, Outcome
from controller.engine.plan import PlanInputs
from controller.engine.render import (
    markdown_parts,
    render_markdown,
    render_result,
    render_text,
    write_result,
    write_text,
)
from controller.model.desired import SharingGrant
from controller.model.diffs import ContentEvidence
from controller.model.live import LiveSnapshot
from controller.model.plan_json import plan_to_json
from controller.model.plans import MARKDOWN_MARKER
from controller.model.values import Location
from tests.engine import builders as b

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "plan.schema.json").read_text())


def sample_plan(models: int = 1, runtime=None):
    desired = [
        b.desired_model(
            f"model-{i}",
            runtime=runtime or {"THRESHOLD": 0.9},
            sharing=(
                SharingGrant("user", "OWNER", name="alice@example.com"),
                SharingGrant("user", "USER", name="bob@example.com"),
            ),
        )
        for i in range(models)
    ]
    live = b.live_model(desired[0], runtime={"THRESHOLD": 0.7})
    evidence = {
        desired[0].key: ContentEvidence(changed_repo_paths=frozenset({"model-0/custom.py"}))
    }
    return b.plan(
        PlanInputs(
            b.state(*desired, b.desired_job()),
            LiveSnapshot(models=(live,)),
            b.NS,
            b.revision(),
            model_evidence=evidence,
        )
    )


def test_text_reads_like_terraform_with_symbols_reasons_and_a_summary():
    text = render_text(sample_plan(2))
    assert "dr-gitops plan for namespace github.com/acme/models at bbbbbbbbbbbb (main)" in text
    assert "  ^ CustomModel/model-0  new minor version from 1.0 (files)" in text
    assert "      ~ file custom.py" in text
    assert "      ~ runtime THRESHOLD: 0.7 → 0.9" in text
    assert "  + CustomModel/model-1  create model 'Model-1'" in text
    assert "  + CustomJob/retrain  create custom job 'Retrain'" in text
    assert "      + user bob@example.com: USER" in text
    # model-1's sharing is part of its creation; model-0's is a change of its own.
    assert text.rstrip().endswith(
        "Plan: 2 to create, 0 to update, 2 new versions, 1 sharing change, 0 to delete."
    )
    assert "\x1b[" not in text


def test_colours_only_when_asked():
    assert "\x1b[32m" in render_text(sample_plan(2), color=True)


def test_secret_looking_values_never_appear_in_any_rendering():
    secret = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    plan = sample_plan(runtime={"API_TOKEN": secret})
    outputs = [render_text(plan), *render_markdown(plan), json.dumps(plan_to_json(plan))]
    for out in outputs:
        assert secret not in out
    assert "(sensitive)" in outputs[0]


def test_json_output_follows_the_published_schema():
    jsonschema.validate(plan_to_json(sample_plan(3)), SCHEMA)


def test_markdown_is_collapsible_and_split_under_the_limit_with_a_marker_on_each_part():
    plan = sample_plan(60)
    parts = render_markdown(plan, limit=8000)
    assert len(parts) > 1
    for index, part in enumerate(parts, start=1):
        assert len(part) < 8000
        assert part.startswith(MARKDOWN_MARKER)
        assert f"(part {index}/{len(parts)})" in part
    joined = "".join(parts)
    assert joined.count("<details>") == len(plan.actions)
    assert "```diff" in joined


def test_an_empty_plan_says_so():
    model = b.desired_model()
    plan = b.plan(
        PlanInputs(
            b.state(model),
            LiveSnapshot(models=(b.live_model(model),)),
            b.NS,
            b.revision(),
            model_evidence={model.key: ContentEvidence(changed_repo_paths=frozenset())},
        )
    )
    assert "No changes. DataRobot matches the manifests." in render_text(plan)
    assert len(render_markdown(plan)) == 1


class _Pieces:
    """A text stream that keeps each write apart."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def write(self, text: str) -> int:
        self.pieces.append(text)
        return len(text)

    def writelines(self, texts) -> None:
        for text in texts:
            self.write(text)


def test_text_is_written_an_action_at_a_time_never_built_whole():
    # At 10,000 models the text is megabytes; the CLI writes it as it is made (issue 20).
    plan = sample_plan(3)
    out = _Pieces()
    write_text(plan, out, color=True)
    assert "".join(out.pieces) == render_text(plan, color=True)
    # The head, one piece per action, the blank line and the summary.
    assert len(out.pieces) == len(plan.actions) + 3
    assert all(piece.endswith("\n") for piece in out.pieces)


def test_apply_results_are_written_a_result_at_a_time():
    plan = sample_plan(2)
    result = ApplyResult(
        tuple(
            ActionResult(a, Outcome.DONE if i % 2 else Outcome.FAILED, "it broke\nbadly")
            for i, a in enumerate(plan.actions)
        )
    )
    out = _Pieces()
    write_result(result, out, locations={plan.actions[0].key: Location("m.yaml", 1, 3)})
    text = "".join(out.pieces)
    assert text == render_result(result, locations={plan.actions[0].key: Location("m.yaml", 1, 3)})
    assert len(out.pieces) == len(result.results) + 1
    assert "(declared at m.yaml:3)" in text
    assert text.endswith(
        f"\nApply finished with failures: {len(plan.actions) // 2} done, "
        f"{len(plan.actions) - len(plan.actions) // 2} failed, 0 blocked, "
        "0 skipped.\n"
    )


def test_markdown_parts_are_given_one_at_a_time_with_any_text_kept_exactly():
    # Blocks wait for their part as UTF-8 (issue 20): a lone surrogate, which UTF-8 cannot
    # hold, must come back as it was.
    plan = sample_plan(6, runtime={"NOTE": "caf\u00e9 \U0001f600 \ud800 `x`"})
    parts = markdown_parts(plan, limit=3000)
    first = next(parts)
    rest = list(parts)
    assert [first, *rest] == render_markdown(plan, limit=3000)
    assert rest  # more than one part
    assert all(p.startswith(MARKDOWN_MARKER) for p in rest)
    assert "\ud800" in "".join([first, *rest])
