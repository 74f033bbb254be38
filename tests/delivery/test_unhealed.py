"""``heal: false`` in the pure planner: a replacement git asks for puts back only the
settings that were not changed by hand."""

from __future__ import annotations

from controller.engine.plan.unhealed import split_drift
from controller.model.delivery import DesiredDeployment
from controller.model.deliveryparams import DeploymentTarget, ModelReplacement
from controller.model.desired import ResourceKey
from controller.model.plans import Action, ActionKind, FieldChange
from controller.model.values import Fields, Location

KEY = ResourceKey("Deployment", "prod")
DECLARED = Fields(targetDrift={"enabled": True}, featureDrift={"enabled": True})


def deployment(heal: bool) -> DesiredDeployment:
    return DesiredDeployment(
        KEY, Location("d.yaml", 1, 1), "Prod", "fraud", "2.0", settings=DECLARED, heal=heal
    )


def replacement() -> Action:
    target = DeploymentTarget("fraud", "2.0", "2.0", package_id="p2", version_id="v2")
    return Action(
        ActionKind.REPLACE_DEPLOYMENT_MODEL,
        KEY,
        "pin moved",
        "d1",
        "Prod",
        fields=(FieldChange("version", "1.0", "2.0"),),
        params=ModelReplacement(target, "OTHER", DECLARED),
    )


def test_a_replacement_git_asks_for_puts_back_only_settings_not_changed_by_hand() -> None:
    live = Fields(targetDrift={"enabled": False}, featureDrift={"enabled": True})

    kept, drift = split_drift(deployment(False), [replacement()], frozenset({"version"}), live)

    (action,) = kept
    assert isinstance(action.params, ModelReplacement)
    assert action.params.settings == Fields(featureDrift={"enabled": True})
    assert drift is None


def test_a_replacement_not_asked_for_by_git_is_drift() -> None:
    kept, drift = split_drift(deployment(False), [replacement()], frozenset({"heal"}), None)

    assert kept == []
    assert drift is not None
    assert [c.field for c in drift.fields] == ["version"]


def test_a_deployment_that_heals_keeps_every_action() -> None:
    actions = [replacement()]
    assert split_drift(deployment(True), actions, frozenset(), None) == (actions, None)
