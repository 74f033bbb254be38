"""A registered model's ``description`` and ``global`` are kept as declared, and a
deployment's challenger models setting is managed like the others (plan, apply, emulator)."""

from __future__ import annotations

import yaml

from controller.model.plans import ActionKind
from tests.delivery.helpers import add_deployment, edit_deployment
from tests.fixtures.workspace import Workspace


def declare_registry(workspace: Workspace, **registry: object) -> None:
    path = workspace.repo.path / "models/fraud.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["registry"] = {"name": "Fraud detector", **registry}
    path.write_text(yaml.safe_dump(doc))


def test_a_registered_models_description_and_global_are_kept_as_declared(
    workspace: Workspace,
) -> None:
    workspace.add_model("fraud", target="Binary")
    declare_registry(workspace, description="Scores card transactions.", **{"global": True})
    workspace.commit("register fraud, globally")
    workspace.converge()
    (registered,) = workspace.client.list_registered_models()
    assert (registered.description, registered.is_global) == ("Scores card transactions.", True)

    workspace.client.update_registered_model(
        registered.id, {"description": "edited by hand", "isGlobal": False}
    )
    (update,) = workspace.plan().plan.actions
    assert update.kind is ActionKind.UPDATE_REGISTERED_MODEL
    assert [(c.field, c.old, c.new) for c in update.fields] == [
        ("description", "edited by hand", "Scores card transactions."),
        ("isGlobal", False, True),
    ]
    workspace.converge()

    declare_registry(workspace, description="Scores transactions.", **{"global": False})
    workspace.commit("a new description, not global")
    workspace.converge()
    (registered,) = workspace.client.list_registered_models()
    assert (registered.description, registered.is_global) == ("Scores transactions.", False)
    assert registered.last_version == 1  # metadata only: no new registered version


def test_challenger_models_are_turned_on_kept_on_and_off_as_declared(
    workspace: Workspace,
) -> None:
    workspace.add_model("fraud", target="Binary", spec={"registry": {"name": "Fraud detector"}})
    on = {"predictionsDataCollection": True, "challengerModels": True}
    add_deployment(workspace, "fraud-prod", label="Fraud (production)", settings=on)
    workspace.commit("production with challengers")
    first = workspace.plan().plan
    settings = [a for a in first.actions if a.kind is ActionKind.UPDATE_DEPLOYMENT_SETTINGS]
    assert [c.field for c in settings[0].fields] == [  # data collection first: the API's rule
        "settings.predictionsDataCollection.enabled",
        "settings.challengerModels.enabled",
    ]
    workspace.converge()
    (prod,) = workspace.client.list_deployments()
    live = workspace.client.get_deployment_settings(prod.id)
    assert live["challengerModels"] == {"enabled": True}
    assert live["predictionsDataCollection"] == {"enabled": True}

    workspace.client.update_deployment_settings(prod.id, {"challengerModels": {"enabled": False}})
    (heal,) = workspace.plan().plan.actions
    assert [(c.field, c.old, c.new) for c in heal.fields] == [
        ("settings.challengerModels.enabled", False, True)
    ]
    workspace.converge()
    assert workspace.client.get_deployment_settings(prod.id)["challengerModels"] == {
        "enabled": True
    }

    edit_deployment(
        workspace,
        "fraud-prod",
        settings={"predictionsDataCollection": True, "challengerModels": False},
    )
    workspace.commit("production without challengers")
    workspace.converge()
    assert workspace.client.get_deployment_settings(prod.id)["challengerModels"] == {
        "enabled": False
    }
