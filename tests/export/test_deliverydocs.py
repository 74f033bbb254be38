"""Deployments → Deployment manifests (pure): which are written, under which names, and
which settings they declare."""

from __future__ import annotations

from controller.engine.export.deliverydocs import changed_settings, choose_deployments
from controller.engine.export.selection import Selected
from controller.model.delivery import LiveDeployment, LivePackage
from controller.model.live import LiveModel
from controller.model.values import Fields

ENV = "6600000000000000000000c1"
MODEL = "6b0000000000000000000001"
PACKAGE = LivePackage(
    "6c0000000000000000000001", "6d0000000000000000000001", 1, "6e" + "0" * 22, MODEL, "1.2"
)


def _deployment(number: int, label: str, **changes: object) -> LiveDeployment:
    values: dict[str, object] = {
        "id": f"{number:024x}",
        "user_provided_id": None,
        "label": label,
        "description": None,
        "importance": None,
        "package_id": PACKAGE.id,
        "version_id": PACKAGE.version_id,
        "custom_model_id": MODEL,
        "version_label": "1.2",
        "prediction_environment_id": ENV,
    }
    values.update(changes)
    return LiveDeployment(**values)  # type: ignore[arg-type]


def _selected() -> Selected[LiveModel]:
    model = LiveModel(MODEL, None, Fields(name="Fraud"), None)
    return Selected(model, "fraud", owned=False)


def test_deployments_are_named_from_labels_and_doubtful_ones_skipped() -> None:
    live = [
        _deployment(1, "Fraud (prod)"),
        _deployment(2, "Fraud (prod)"),
        _deployment(3, "Mine", user_provided_id="acme/fraud-canary"),
        _deployment(4, "Theirs", user_provided_id="other/fraud"),
        _deployment(5, "On a server", prediction_environment_id=None),
        _deployment(6, "Elsewhere", custom_model_id="6b0000000000000000000009", package_id=None),
    ]

    chosen, skipped = choose_deployments(live, [_selected()], [PACKAGE], "acme")

    assert [(c.name, c.owned, c.version) for c in chosen] == [
        ("fraud-canary", True, "1.2"),
        ("fraud-prod", False, "1.2"),
        ("fraud-prod-2", False, "1.2"),
    ]
    assert {s.display_name for s in skipped} == {"Theirs", "On a server"}


def test_deployments_of_a_model_exported_without_registry_are_skipped() -> None:
    chosen, skipped = choose_deployments(
        [_deployment(1, "Fraud")], [_selected()], [PACKAGE], None, frozenset()
    )

    assert chosen == ()
    assert "without spec.registry" in skipped[0].reason


def test_only_settings_that_differ_from_a_new_deployment_are_declared() -> None:
    live = Fields(
        associationId={
            "columnNames": [],
            "requiredInPredictionRequests": False,
            "autoGenerateId": False,
        },
        targetDrift={"enabled": False},
        featureDrift={"enabled": True},
        segmentAnalysis={"enabled": True, "attributes": ["country"]},
        predictionIntervals={"enabled": True, "percentiles": [80]},
    )

    assert changed_settings(live) == {
        "featureDrift": True,
        "segmentAnalysis": {"enabled": True, "attributes": ["country"]},
    }
