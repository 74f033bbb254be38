"""What apply does to deployments besides the happy path: gates, failing validation,
settings a replacement resets, sharing, heal: false, pruning."""

from __future__ import annotations

from controller.engine.applier import Applier, ApplySettings
from controller.engine.deployer import GateFailures
from controller.engine.outcomes import Outcome
from controller.model.plans import ActionKind
from tests.delivery.helpers import add_deployment, edit_deployment, served, start
from tests.fixtures.workspace import NAMESPACE, Workspace


class EveryGateFails(GateFailures):
    """A gate that fails for each version this run makes (as a failing test would)."""

    def __contains__(self, version_id: object) -> bool:
        return True


def outcomes(result: object) -> list[tuple[str, str, str]]:
    return [(r.action.kind.value, r.outcome.value, r.message) for r in result.results]  # type: ignore[attr-defined]


def test_a_failed_gate_registers_nothing_and_replaces_nothing(workspace: Workspace) -> None:
    start(workspace)
    workspace.converge()
    workspace.repo.write({"models/fraud/custom.py": "# broken\n"})
    workspace.commit("a model whose test fails")

    planned = workspace.plan()
    applier = Applier(
        workspace.client,
        planned.checkout.root,
        ApplySettings(namespace=NAMESPACE),
        gate_failures=EveryGateFails(),
    )
    result = applier.apply(planned.plan)

    assert not result.ok
    by_kind = {kind: (outcome, message) for kind, outcome, message in outcomes(result)}
    assert by_kind["create-version"][0] == "done"
    assert by_kind["register-version"][0] == "failed"
    assert "failed its blocking gate" in by_kind["register-version"][1]
    assert by_kind["replace-deployment-model"][0] == "failed"
    assert "was not registered in this run" in by_kind["replace-deployment-model"][1]
    assert len(workspace.client.list_packages()) == 1
    assert served(workspace) == {"fraud-staging": "1.0", "fraud-prod": "1.0"}


def test_a_failing_replacement_validation_blocks_that_deployment_naming_the_checks(
    workspace: Workspace,
) -> None:
    start(workspace)
    workspace.add_model("churn", spec={"registry": {}})  # Regression: another target
    workspace.commit("a second model")
    workspace.converge()
    edit_deployment(workspace, "fraud-staging", model="churn")
    workspace.commit("staging serves churn now")

    planned = workspace.plan()
    (replace,) = [a for a in planned.plan.actions if a.kind is ActionKind.REPLACE_DEPLOYMENT_MODEL]
    assert "validation failing" in replace.reason
    result = workspace.apply()

    assert not result.ok
    (failed,) = result.failures
    assert failed.action.kind is ActionKind.REPLACE_DEPLOYMENT_MODEL
    assert "replacement validation is failing" in failed.message
    assert "targetType" in failed.message
    assert served(workspace)["fraud-staging"] == "1.0"


def test_settings_are_managed_field_by_field_and_put_back_after_a_replacement(
    workspace: Workspace,
) -> None:
    workspace.emulator.configure(replacementResetsSettings=["targetDrift"])
    start(workspace)
    edit_deployment(
        workspace,
        "fraud-staging",
        settings={"targetDrift": True, "associationId": {"columnNames": ["tx_id"]}},
    )
    workspace.commit("staging settings")
    workspace.converge()
    (staging,) = [d for d in workspace.client.list_deployments() if "staging" in d.label]
    settings = workspace.client.get_deployment_settings(staging.id)
    assert settings["targetDrift"] == {"enabled": True}
    assert settings["associationId"]["columnNames"] == ["tx_id"]  # type: ignore[index]

    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    workspace.commit("a better model")
    result = workspace.converge()  # the replacement resets targetDrift; apply puts it back

    (replaced,) = [
        r for r in result.results if r.action.kind is ActionKind.REPLACE_DEPLOYMENT_MODEL
    ]
    assert "1 reset setting(s) put back" in replaced.detail
    settings = workspace.client.get_deployment_settings(staging.id)
    assert settings["targetDrift"] == {"enabled": True}


def test_drift_made_by_hand_is_put_back_unless_heal_is_false(workspace: Workspace) -> None:
    start(workspace)
    workspace.converge()
    (prod,) = [d for d in workspace.client.list_deployments() if "production" in d.label]
    workspace.client.update_deployment(prod.id, {"label": "edited by hand"})

    (update,) = workspace.plan().plan.actions
    assert update.kind is ActionKind.UPDATE_DEPLOYMENT
    assert [(c.field, c.old, c.new) for c in update.fields] == [
        ("label", "edited by hand", "Fraud (production)")
    ]
    edit_deployment(workspace, "fraud-prod", heal=False)
    workspace.commit("production: report drift only")
    planned = workspace.plan()
    assert planned.plan.is_empty
    assert any("heal: false" in w for w in planned.plan.warnings)
    edit_deployment(workspace, "fraud-prod", heal=None)
    workspace.commit("production: heal again")
    workspace.converge()
    assert workspace.client.get_deployment(prod.id).label == "Fraud (production)"


def test_sharing_of_a_deployment_is_authoritative(workspace: Workspace) -> None:
    start(workspace)
    edit_deployment(
        workspace,
        "fraud-prod",
        sharing=[
            {"username": "gitops-bot@example.com", "role": "OWNER"},
            {"username": "alice@example.com", "role": "CONSUMER"},
        ],
    )
    workspace.commit("share production")
    workspace.converge()
    (prod,) = [d for d in workspace.client.list_deployments() if "production" in d.label]
    roles = {(g.name, g.role) for g in workspace.client.get_deployment_roles(prod.id)}
    assert ("alice@example.com", "CONSUMER") in roles


def test_a_removed_deployment_is_deleted_only_with_both_flags(workspace: Workspace) -> None:
    start(workspace)
    add_deployment(workspace, "fraud-canary", label="Fraud (canary)")
    workspace.commit("a canary")
    workspace.converge()
    (workspace.repo.path / "deployments/fraud-canary.yaml").unlink()
    workspace.commit("no more canary")

    assert workspace.plan().plan.is_empty
    assert any("fraud-canary" in w for w in workspace.plan().plan.warnings)
    (blocked,) = workspace.plan(prune=True).plan.actions
    assert blocked.kind is ActionKind.BLOCKED
    assert "--allow-deployment-deletion" in blocked.reason
    (delete,) = workspace.plan(prune=True, allow_deployment_deletion=True).plan.actions
    assert delete.kind is ActionKind.DELETE_DEPLOYMENT

    workspace.converge(prune=True, allow_deployment_deletion=True)

    assert set(served(workspace)) == {"fraud-staging", "fraud-prod"}


def test_a_pin_that_no_registered_version_has_is_blocked(workspace: Workspace) -> None:
    start(workspace)
    workspace.converge()
    edit_deployment(workspace, "fraud-prod", version="7.0")
    workspace.commit("a pin that does not exist")

    (blocked,) = workspace.plan().plan.actions
    assert blocked.kind is ActionKind.BLOCKED
    assert "version 7.0 of model 'fraud' is not registered" in blocked.reason
    result = workspace.apply()
    assert [r.outcome for r in result.results] == [Outcome.BLOCKED]


def test_adding_a_registry_registers_the_newest_version_once(workspace: Workspace) -> None:
    workspace.add_model("fraud", target="Binary")
    workspace.commit("a model without a registry")
    workspace.converge()
    workspace.edit_manifest("models/fraud.yaml", registry={"name": "Fraud", "global": True})
    workspace.commit("register it")

    planned = workspace.plan().plan
    (register,) = planned.actions
    assert planned.unchanged == 0  # registering it is a change of the model
    assert register.kind is ActionKind.REGISTER_VERSION
    assert register.reason == "version 1.0 is not registered yet"
    workspace.converge()

    (registered,) = workspace.client.list_registered_models()
    assert (registered.name, registered.is_global, registered.last_version) == ("Fraud", True, 1)


def test_a_deployment_pinned_to_a_commit_serves_the_version_made_from_it(
    workspace: Workspace,
) -> None:
    start(workspace)
    workspace.converge()
    (model,) = workspace.client.list_models()
    assert model.latest_version is not None
    assert model.latest_version.git is not None
    sha = model.latest_version.git.main_branch_commit_sha
    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    workspace.commit("a better model")
    workspace.converge()
    edit_deployment(workspace, "fraud-staging", version=sha[:10])
    workspace.commit("staging pinned to the first commit")

    (replace,) = workspace.plan().plan.actions
    assert replace.kind is ActionKind.REPLACE_DEPLOYMENT_MODEL
    workspace.converge()
    assert served(workspace) == {"fraud-staging": "1.0", "fraud-prod": "1.0"}
