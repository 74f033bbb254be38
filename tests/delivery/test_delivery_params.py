"""Each delivery action kind carries its own typed parameters, saved and read back key for
key; a saved plan whose parameters have the wrong type is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from controller.model.deliveryparams import (
    DeploymentBody,
    DeploymentCreate,
    DeploymentSettings,
    DeploymentTarget,
    ModelReplacement,
    RegisteredModelUpdate,
    ReplacementCheck,
    VersionRegistration,
)
from controller.model.desired import ResourceKey
from controller.model.plan_json import plan_from_json, plan_json_text, plan_to_json
from controller.model.plans import Action, ActionKind, DriftReport, FieldChange, Plan
from controller.model.values import Fields

MODEL = ResourceKey("CustomModel", "fraud")
PROD = ResourceKey("Deployment", "fraud-prod")
SETTINGS = Fields(targetDrift={"enabled": True})
PENDING = DeploymentTarget("fraud", "latest", "1.1")
REGISTERED = DeploymentTarget("fraud", "1.0", "1.0", package_id="p1", version_id="v1")


def plan() -> Plan:
    return Plan(
        namespace="ns",
        revision=None,
        actions=(
            Action(
                ActionKind.REGISTER_VERSION,
                MODEL,
                "every new version is registered",
                "m1",
                "Fraud",
                params=VersionRegistration("Fraud detector", None, 1, "1.1", is_global=True),
            ),
            Action(
                ActionKind.UPDATE_REGISTERED_MODEL,
                MODEL,
                "differs",
                "r1",
                "Fraud detector",
                params=RegisteredModelUpdate("r1"),
            ),
            Action(
                ActionKind.CREATE_DEPLOYMENT,
                ResourceKey("Deployment", "fraud-staging"),
                "create",
                params=DeploymentCreate(
                    PENDING,
                    DeploymentBody("Fraud (staging)", "pe1", "ns/fraud-staging", "LOW"),
                    "OTHER",
                    SETTINGS,
                ),
            ),
            Action(
                ActionKind.REPLACE_DEPLOYMENT_MODEL,
                PROD,
                "it serves 0.9",
                "d1",
                "Fraud (production)",
                params=ModelReplacement(
                    REGISTERED,
                    "SCHEDULED_REFRESH",
                    SETTINGS,
                    ReplacementCheck("passing", "ok", (("targetType", "passing", "ok"),)),
                ),
            ),
            Action(
                ActionKind.UPDATE_DEPLOYMENT_SETTINGS,
                PROD,
                "settings differ",
                "d1",
                "Fraud (production)",
                params=DeploymentSettings(SETTINGS),
            ),
        ),
    )


def saved() -> dict[str, Any]:
    return json.loads(json.dumps(plan_to_json(plan())))  # type: ignore[no-any-return]


def test_delivery_parameters_read_back_equal_what_was_saved() -> None:
    assert plan_from_json(saved()) == plan()


def test_the_saved_form_names_the_api_fields() -> None:
    doc = saved()
    assert doc["actions"][0]["params"] == {
        "description": None,
        "isGlobal": True,
        "registeredModelId": None,
        "registeredModelName": "Fraud detector",
        "registeredVersion": 1,
        "versionId": None,
        "versionLabel": "1.1",
    }
    assert doc["actions"][2]["params"]["body"] == {
        "label": "Fraud (staging)",
        "predictionEnvironmentId": "pe1",
        "userProvidedId": "ns/fraud-staging",
        "importance": "LOW",
    }
    assert doc["actions"][2]["params"]["target"]["pending"] is True
    assert doc["actions"][3]["params"]["target"]["pending"] is False
    assert doc["actions"][3]["params"]["validation"]["checks"] == {
        "targetType": {"status": "passing", "message": "ok"}
    }


def test_an_action_refuses_another_kinds_parameters() -> None:
    with pytest.raises(TypeError, match="register-version action takes VersionRegistration"):
        Action(ActionKind.REGISTER_VERSION, MODEL, "x", params=RegisteredModelUpdate("r1"))
    with pytest.raises(TypeError, match="replace-deployment-model action takes ModelReplacement"):
        Action(ActionKind.REPLACE_DEPLOYMENT_MODEL, PROD, "x", params=DeploymentSettings())


@pytest.mark.parametrize(
    ("index", "edit", "message"),
    [
        (0, {"registeredVersion": "4"}, "params.registeredVersion: not an integer"),
        (0, {"isGlobal": "yes"}, "params.isGlobal: not true or false"),
        (2, {"body": {"label": 7}}, "params.label: not a string"),
        (3, {"validation": {"status": "passing", "checks": []}}, "params.validation.checks"),
        (3, {"target": {"model": "fraud", "pending": True, "packageId": "p1"}}, "pending"),
        (4, {"settings": ["targetDrift"]}, "params.settings: not an object"),
    ],
)
def test_a_saved_plan_with_malformed_delivery_parameters_is_refused(
    index: int, edit: dict[str, object], message: str
) -> None:
    doc = saved()
    doc["actions"][index]["params"].update(edit)
    with pytest.raises(ValueError, match=message):
        plan_from_json(doc)


def test_a_plans_drift_is_saved_after_the_basis_streamed_or_whole_and_read_back() -> None:
    report = DriftReport(
        PROD, "d1", "changed outside git (label)", (FieldChange("label", "x", "Prod"),)
    )
    drifted = replace(plan(), drift=(report,))

    doc = plan_to_json(drifted)
    assert list(doc)[-1] == "drift"
    assert "".join(plan_json_text(drifted)) == json.dumps(doc, indent=2)
    assert plan_from_json(json.loads(json.dumps(doc))) == drifted
    assert "drift" not in plan_to_json(plan())
