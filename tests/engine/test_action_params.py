"""Typed action parameters: plans compare with ``==``, secrets are masked only in the
saved or rendered form, and a saved plan reads back as typed values."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from controller.engine.plan import PlanInputs
from controller.model.desired import ResourceKey
from controller.model.diffs import ContentEvidence
from controller.model.live import LiveSnapshot
from controller.model.params import (
    ActionParams,
    JobWrite,
    ModelCreate,
    ParameterValue,
    VersionCreate,
    VersionMethod,
)
from controller.model.plan_json import first_difference, plan_from_json, plan_to_json
from controller.model.plans import (
    Action,
    ActionKind,
    Plan,
)
from controller.model.secrets import MASK
from tests.engine import builders as b

SECRET = "hunter2-correct-horse"


def _plan() -> Plan:
    """A new version (from a changed file) and a new job, both with a secret value."""
    model = b.desired_model(runtime={"DB_PASSWORD": SECRET, "THRESHOLD": 0.9})
    job = b.desired_job()
    job = replace(job, runtime_values=model.version.runtime_values if model.version else ())
    changed = ContentEvidence(changed_repo_paths=frozenset({"fraud/custom.py"}))
    return b.plan(
        PlanInputs(
            b.state(model, job),
            LiveSnapshot(models=(b.live_model(model, runtime={"THRESHOLD": 0.7}),)),
            b.NS,
            b.revision(),
            model_evidence={model.key: changed},
        )
    )


def _saved(plan: Plan) -> Plan:
    return plan_from_json(json.loads(json.dumps(plan_to_json(plan))))


def test_the_plan_holds_secret_values_and_only_its_saved_form_masks_them() -> None:
    plan = _plan()
    version, job = plan.actions
    assert isinstance(version.params, VersionCreate)
    assert ParameterValue("DB_PASSWORD", "string", SECRET) in version.params.runtime_values
    assert isinstance(job.params, JobWrite)
    assert SECRET not in json.dumps(plan_to_json(plan))
    masked = version.masked().params
    assert isinstance(masked, VersionCreate)
    assert ParameterValue("DB_PASSWORD", "string", MASK, sensitive=True) in masked.runtime_values
    assert ParameterValue("THRESHOLD", "numeric", 0.9) in masked.runtime_values


def test_a_saved_plan_reads_back_as_typed_values_equal_to_the_masked_plan() -> None:
    plan = _plan()
    saved = _saved(plan)
    assert saved.actions == tuple(a.masked() for a in plan.actions)
    assert saved.actions != plan.actions  # the secret is not in the file
    assert all(
        type(a.params) is type(b_.params) for a, b_ in zip(saved.actions, plan.actions, strict=True)
    )


def test_a_saved_plan_equal_but_for_masked_secrets_is_the_plan_made_now() -> None:
    plan = _plan()
    assert first_difference(_saved(plan), plan) is None


def test_an_edited_parameter_is_named_as_the_difference() -> None:
    plan = _plan()
    doc = json.loads(json.dumps(plan_to_json(plan)))
    doc["actions"][0]["params"]["isMajorUpdate"] = True
    assert first_difference(plan_from_json(doc), plan) == (
        "action 1, CustomModel/fraud: params differ"
    )
    doc["actions"][0]["params"]["isMajorUpdate"] = False
    doc["actions"][1]["reason"] = "edited"
    doc["actions"][1]["params"]["entryPoint"] = "other.sh"
    assert first_difference(plan_from_json(doc), plan) == (
        f"action 2, {plan.actions[1].key}: params, reason differ"
    )


def test_an_action_without_the_parameters_of_its_kind_is_refused() -> None:
    key = ResourceKey("CustomModel", "fraud")
    with pytest.raises(TypeError, match="create-version action takes VersionCreate"):
        Action(ActionKind.CREATE_VERSION, key, "a version")
    with pytest.raises(TypeError, match="delete-model action takes ActionParams"):
        Action(
            ActionKind.DELETE_MODEL,
            key,
            "gone",
            params=VersionCreate(VersionMethod.CREATE, True, None),
        )
    assert Action(ActionKind.DELETE_MODEL, key, "gone").params == ActionParams()
    assert Action(ActionKind.CREATE_MODEL, key, "new", params=ModelCreate(b.desired_model().fields))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"method": "sideways"}, "params.method: 'sideways' is not one of create, from-"),
        ({"isMajorUpdate": "yes"}, "params.isMajorUpdate"),
        ({"runtimeValues": {"fieldName": "X"}}, "params.runtimeValues"),
        ({"settings": ["replicas"]}, "params.settings"),
    ],
)
def test_a_saved_plan_with_malformed_parameters_is_refused(
    edit: dict[str, object], message: str
) -> None:
    doc = json.loads(json.dumps(plan_to_json(_plan())))
    doc["actions"][0]["params"].update(edit)
    with pytest.raises(ValueError, match=message):
        plan_from_json(doc)


def test_a_saved_action_missing_its_parameters_is_read_and_found_different() -> None:
    plan = _plan()
    doc = json.loads(json.dumps(plan_to_json(plan)))
    del doc["actions"][0]["params"]
    del doc["actions"][1]["params"]["body"]
    saved = plan_from_json(doc)
    assert saved.actions[0].params == VersionCreate(VersionMethod.CREATE, False, None)
    assert first_difference(saved, plan) == "action 1, CustomModel/fraud: params differ"


def test_saved_parameters_that_are_not_an_object_are_refused() -> None:
    doc = json.loads(json.dumps(plan_to_json(_plan())))
    doc["actions"][0]["params"] = ["method", "create"]
    with pytest.raises(ValueError, match="malformed plan: missing or wrong params: not an object"):
        plan_from_json(doc)
