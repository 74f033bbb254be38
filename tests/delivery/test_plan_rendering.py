"""The PR comment puts production changes first; the JSON plan round-trips and matches
its schema."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from controller.engine.render import render_markdown, render_text
from controller.model.deliveryparams import DeploymentTarget, ModelReplacement, ReplacementCheck
from controller.model.desired import ResourceKey
from controller.model.plan_json import plan_from_json, plan_to_json
from controller.model.plans import (
    Action,
    ActionKind,
    FieldChange,
    Plan,
)
from controller.model.values import Fields

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "plan.schema.json"
MODEL = ResourceKey("CustomModel", "fraud")
PROD = ResourceKey("Deployment", "fraud-prod")


def plan() -> Plan:
    target = DeploymentTarget("fraud", "2.0", "2.0", package_id="p2", version_id="v2")
    validation = ReplacementCheck(
        "warning",
        "with warnings",
        (
            ("targetType", "passing", "ok"),
            ("customModelTesting", "warning", "no passing test"),
        ),
    )
    return Plan(
        namespace="ns",
        revision=None,
        actions=(
            Action(
                ActionKind.UPDATE_MODEL,
                MODEL,
                "description differs",
                "m1",
                "Fraud",
                fields=(FieldChange("description", "a", "b"),),
            ),
            Action(
                ActionKind.REPLACE_DEPLOYMENT_MODEL,
                PROD,
                "it serves 1.0; version: 2.0 asks for 2.0 (reason SCHEDULED_REFRESH)",
                "d1",
                "Fraud (production)",
                fields=(FieldChange("version", "1.0", "2.0"),),
                params=ModelReplacement(
                    target, "SCHEDULED_REFRESH", Fields(targetDrift={"enabled": True}), validation
                ),
            ),
        ),
    )


def test_the_markdown_comment_shows_production_changes_first() -> None:
    (comment,) = render_markdown(plan())

    assert "🚀 **1 production change(s)**" in comment
    first_block = comment.index("<details>")
    assert comment.index("Deployment/fraud-prod", first_block) < comment.index(
        "CustomModel/fraud", first_block
    )
    assert (
        "replace model of 'Fraud (production)': 1.0 → 2.0 (reason SCHEDULED_REFRESH, "
        "validation warning)</summary>" in comment
    )
    assert "check customModelTesting: warning: no passing test" in comment


def test_the_text_plan_keeps_the_order_of_application() -> None:
    text = render_text(plan())

    assert text.index("CustomModel/fraud") < text.index("Deployment/fraud-prod")
    assert "1 model replacement" in text


def test_a_delivery_plan_round_trips_through_json_and_matches_the_schema() -> None:
    doc = plan_to_json(plan())

    Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    assert plan_to_json(plan_from_json(json.loads(json.dumps(doc)))) == doc
    assert plan_from_json(json.loads(json.dumps(doc))) == plan()
