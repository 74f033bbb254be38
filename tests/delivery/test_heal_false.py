"""``heal: false``: a deployment changed by hand (model replaced, settings changed, label
edited) is reported in the plan and in ``serve``'s counts, and nothing is written; what
git changes in its manifest is still applied, and only that."""

from __future__ import annotations

from controller.model.plans import ActionKind, Plan
from controller.service.engine_runs import EngineRunner
from controller.service.runs import RunRequest
from controller.settings import EngineSettings
from tests.delivery.helpers import edit_deployment, served, start
from tests.fixtures.workspace import Workspace


def production(workspace: Workspace) -> str:
    (prod,) = [
        d for d in workspace.client.list_deployments() if "fraud-prod" in str(d.user_provided_id)
    ]
    return prod.id


def unhealed(workspace: Workspace, **spec: object) -> str:
    """The issue's scenario with production on ``heal: false`` (and ``spec``), applied."""
    start(workspace)
    edit_deployment(workspace, "fraud-prod", **spec)
    workspace.commit("production as declared")
    workspace.converge()
    # Without a baseline commit (plan, apply) what the last commit changed is git's.
    edit_deployment(workspace, "fraud-prod", heal=False)
    workspace.commit("production: report drift only")
    workspace.converge()
    return production(workspace)


def drifted_fields(plan: Plan) -> dict[str, list[str]]:
    return {str(d.key): [c.field for c in d.fields] for d in plan.drift}


def test_a_model_replaced_by_hand_is_reported_and_left(workspace: Workspace) -> None:
    prod = unhealed(workspace)
    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    workspace.commit("a better model")
    workspace.converge()
    (newest,) = [p for p in workspace.client.list_packages() if p.version_label == "2.0"]
    workspace.client.replace_model(prod, newest.id, "OTHER")  # promoted by hand

    planned = workspace.plan()
    assert planned.plan.is_empty
    assert drifted_fields(planned.plan) == {"Deployment/fraud-prod": ["version"]}
    (report,) = planned.plan.drift
    assert (report.fields[0].old, report.fields[0].new) == ("2.0", "1.0")
    assert any("heal: false" in w for w in planned.plan.warnings)
    result = workspace.apply()
    assert result.results == ()
    assert served(workspace)["fraud-prod"] == "2.0"


def test_a_pin_moved_in_git_is_applied_to_a_deployment_that_does_not_heal(
    workspace: Workspace,
) -> None:
    unhealed(workspace)
    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    workspace.commit("a better model")
    workspace.converge()
    assert served(workspace) == {"fraud-staging": "2.0", "fraud-prod": "1.0"}

    edit_deployment(workspace, "fraud-prod", version="2.0")
    workspace.commit("promote 2.0 to production")
    (replace,) = workspace.plan().plan.actions
    assert replace.kind is ActionKind.REPLACE_DEPLOYMENT_MODEL
    workspace.converge()
    assert served(workspace)["fraud-prod"] == "2.0"


def test_settings_changed_by_hand_stay_while_a_setting_changed_in_git_is_applied(
    workspace: Workspace,
) -> None:
    prod = unhealed(workspace, settings={"targetDrift": True})
    workspace.client.update_deployment_settings(prod, {"targetDrift": {"enabled": False}})

    planned = workspace.plan()
    assert planned.plan.is_empty
    assert drifted_fields(planned.plan) == {
        "Deployment/fraud-prod": ["settings.targetDrift.enabled"]
    }

    edit_deployment(workspace, "fraud-prod", settings={"targetDrift": True, "featureDrift": True})
    workspace.commit("production: feature drift too")
    (update,) = workspace.plan().plan.actions
    assert update.kind is ActionKind.UPDATE_DEPLOYMENT_SETTINGS
    assert [c.field for c in update.fields] == ["settings.featureDrift.enabled"]
    result = workspace.apply()
    assert result.ok
    settings = workspace.client.get_deployment_settings(prod)
    assert settings["featureDrift"] == {"enabled": True}
    assert settings["targetDrift"] == {"enabled": False}  # the change made by hand stays


def test_a_label_edited_by_hand_stays_while_the_description_changed_in_git_is_applied(
    workspace: Workspace,
) -> None:
    prod = unhealed(workspace)
    workspace.client.update_deployment(prod, {"label": "edited by hand"})
    assert drifted_fields(workspace.plan().plan) == {"Deployment/fraud-prod": ["label"]}

    edit_deployment(workspace, "fraud-prod", description="Scores live transactions.")
    workspace.commit("production: a description")
    (update,) = workspace.plan().plan.actions
    assert [(c.field, c.new) for c in update.fields] == [
        ("description", "Scores live transactions.")
    ]
    assert workspace.apply().ok
    deployment = workspace.client.get_deployment(prod)
    assert deployment.label == "edited by hand"
    assert deployment.description == "Scores live transactions."


def test_serve_counts_a_deployment_that_does_not_heal_as_drifted_and_writes_nothing(
    workspace: Workspace,
) -> None:
    prod = unhealed(workspace, settings={"targetDrift": True})
    revision = workspace.repo.head()
    workspace.client.update_deployment(prod, {"label": "edited by hand"})
    workspace.client.update_deployment_settings(prod, {"targetDrift": {"enabled": False}})
    writes: list[tuple[str, str]] = []

    def observe(method: str, route: str, _status: int) -> None:
        if method != "GET" and not route.endswith("/validation/"):
            writes.append((method, route))

    runner = EngineRunner(workspace.git_settings(), workspace.api, EngineSettings(), {})
    request = RunRequest(
        run_id="r2", trigger="schedule", last_success_revision=revision, on_api_request=observe
    )
    outcome = runner(request)

    assert outcome.result == "no-op", outcome.errors
    assert writes == []
    assert outcome.resources_by_kind_and_state()[("Deployment", "drifted")] == 1
    (state,) = [o for o in outcome.objects if o.name == "fraud-prod"]
    assert state.state == "drifted"
    assert "label" in (state.reason or "")
    assert workspace.client.get_deployment(prod).label == "edited by hand"


def test_serve_applies_what_git_changed_since_its_last_successful_run(
    workspace: Workspace,
) -> None:
    prod = unhealed(workspace)
    applied = workspace.repo.head()
    workspace.client.update_deployment(prod, {"label": "edited by hand"})
    edit_deployment(workspace, "fraud-prod", importance="LOW")
    workspace.commit("production: low importance")
    edit_deployment(workspace, "fraud-prod", description="Scores live transactions.")
    workspace.commit("production: a description")  # two commits since the last run

    runner = EngineRunner(workspace.git_settings(), workspace.api, EngineSettings(), {})
    outcome = runner(RunRequest(run_id="r2", trigger="schedule", last_success_revision=applied))

    assert outcome.result == "success", outcome.errors
    deployment = workspace.client.get_deployment(prod)
    assert (deployment.importance, deployment.description) == ("LOW", "Scores live transactions.")
    assert deployment.label == "edited by hand"
    (state,) = [o for o in outcome.objects if o.name == "fraud-prod"]
    assert state.state == "drifted"  # git's changes applied; the label is reported, left
    assert outcome.resources_by_kind_and_state()[("Deployment", "drifted")] == 1
