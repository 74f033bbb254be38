"""``serve`` puts back a deployment changed by hand (its model replaced, a setting turned
off, its label edited) and counts the fields, like any other drift."""

from __future__ import annotations

from structlog.testing import capture_logs

from controller.service.engine_runs import EngineRunner
from controller.service.runs import RunRequest
from controller.settings import EngineSettings
from tests.delivery.helpers import edit_deployment, served, start
from tests.fixtures.workspace import Workspace


def test_serve_heals_a_deployment_changed_by_hand_and_counts_it(workspace: Workspace) -> None:
    start(workspace)
    workspace.converge()
    edit_deployment(workspace, "fraud-prod", settings={"targetDrift": True})
    workspace.commit("production tracks target drift")
    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    revision = workspace.commit("a better model")
    workspace.converge()
    assert served(workspace) == {"fraud-staging": "2.0", "fraud-prod": "1.0"}
    (prod,) = [d for d in workspace.client.list_deployments() if "production" in d.label]
    (newest,) = [p for p in workspace.client.list_packages() if p.version_label == "2.0"]
    workspace.client.replace_model(prod.id, newest.id, "OTHER")  # promoted by hand
    workspace.client.update_deployment_settings(prod.id, {"targetDrift": {"enabled": False}})
    workspace.client.update_deployment(prod.id, {"label": "prod"})

    runner = EngineRunner(workspace.git_settings(), workspace.api, EngineSettings(), {})
    request = RunRequest(run_id="r2", trigger="schedule", last_success_revision=revision)
    with capture_logs() as logged:
        outcome = runner(request)

    assert outcome.result == "success", outcome.errors
    assert dict(outcome.drift_fields) == {
        "label": 1,
        "settings.targetDrift.enabled": 1,
        "version": 1,
    }
    healed = sorted(e["action"] for e in logged if e["event"] == "drift_healed")
    assert healed == ["replace-deployment-model", "update-deployment", "update-deployment-settings"]
    assert served(workspace)["fraud-prod"] == "1.0"
    assert workspace.client.get_deployment(prod.id).label == "Fraud (production)"
    assert workspace.client.get_deployment_settings(prod.id)["targetDrift"] == {"enabled": True}


def test_a_serve_run_lists_deployments_once_and_shows_what_each_serves(
    workspace: Workspace,
) -> None:
    start(workspace)
    workspace.converge()
    revision = workspace.repo.head()
    calls: list[tuple[str, str]] = []

    def observe(method: str, route: str, _status: int) -> None:
        calls.append((method, route))

    runner = EngineRunner(workspace.git_settings(), workspace.api, EngineSettings(), {})
    request = RunRequest(
        run_id="r2", trigger="schedule", last_success_revision=revision, on_api_request=observe
    )
    outcome = runner(request)

    assert outcome.result == "no-op", outcome.errors
    assert (
        calls.count(("GET", "/api/v2/deployments/")) == 1
    )  # the plan's list, used by the page too
    serves = {o.name: o.serves for o in outcome.objects if o.kind == "Deployment"}
    assert serves == {"fraud-prod": "fraud 1.0", "fraud-staging": "fraud 1.0"}
