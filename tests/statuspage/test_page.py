"""The status page of serve (``GET /`` and ``GET /runs/<id>``) with the real engine against
the emulator: what it shows after runs that apply, in observe mode and suspended; that
names from a pull request are escaped; that a page view asks nothing of DataRobot."""

from __future__ import annotations

import html
import re
from typing import Any

import requests

from controller.service.history import RunRecord
from controller.service.objectstates import ObjectState
from controller.service.operations import OperationsSettings
from controller.service.page import PageFacts, RunPages, render_index, render_run
from controller.service.runs import ActionCounts, GateReport, RunOutcome
from tests.delivery.helpers import start as start_deployments
from tests.fixtures.statuspage import object_states, parsed
from tests.fixtures.workspace import NAMESPACE, Workspace

DATASET = "6600000000000000000000d3"
HOSTILE_NAME = '<script>alert("pr")</script>'
HOSTILE_DESCRIPTION = '"><img src=x onerror=alert(1)>'


def test_the_page_lists_every_object_with_its_state_links_and_the_runs(
    workspace: Workspace, live_service: Any
) -> None:
    workspace.add_model("churn", spec={"description": "Predicts churn"})
    workspace.add_model("fraud")
    workspace.add_job("nightly")
    revision = workspace.commit("two models and a job")
    live = live_service()

    page = live.page()
    assert live.objects() == {
        "CustomModel/churn": "in-sync",
        "CustomModel/fraud": "in-sync",
        "CustomJob/nightly": "in-sync",
    }
    churn = next(m for m in workspace.client.list_models() if m.user_provided_id.endswith("/churn"))
    links = parsed(page).hrefs
    assert f"{workspace.emulator.url}/registry/custom-models/{churn.id}" in links
    assert "1.0" in page  # the newest version, read again after the run created it
    assert revision[:12] in page
    (run,) = live.service.history.recent()
    assert f"/runs/{run.run_id}" in links
    assert parsed(page).scripts == 0
    assert '<meta http-equiv="refresh"' in page
    assert '<meta name="viewport"' in page
    assert NAMESPACE in page

    run_page = live.page(f"/runs/{run.run_id}")
    assert re.search(r'<pre id="plan">[^<]*CustomModel/churn', html.unescape(run_page))
    assert object_states(run_page)["CustomModel/fraud"] == "in-sync"
    assert live.page("/runs/0000", status=404).count("Run not found") >= 1


def test_names_from_a_pull_request_are_escaped_on_every_page(
    workspace: Workspace, live_service: Any
) -> None:
    workspace.add_model("hostile", spec={"name": HOSTILE_NAME, "description": HOSTILE_DESCRIPTION})
    workspace.commit("a pull request with a hostile name")
    live = live_service(mode="observe")  # the plan (with the names) is shown, pending
    (run,) = live.service.history.recent()
    for path in ("/", f"/runs/{run.run_id}"):
        page = live.page(path)
        found = parsed(page)
        assert found.scripts == 0, path
        assert found.handlers == [], path
        assert HOSTILE_NAME not in page
        assert "<img" not in page
        assert "&lt;script&gt;alert(" in page


def test_a_hostile_commit_url_is_not_made_a_link() -> None:
    pages = RunPages(5)
    record = RunRecord("r1", "schedule", 0.0, 1.0, "success", "a" * 40, ActionCounts(), 0, ())
    state = ObjectState(
        "CustomModel",
        "x",
        "X</td><script>",
        "in-sync",
        id="id-1",
        commit="a" * 40,
        commit_url="javascript:alert(1)//" + "a" * 40,
    )
    pages.add(record, RunOutcome("success", "a" * 40, objects=(state,), plan="<b>plan</b>"))
    facts = PageFacts(
        status={"state": "running", "runs": [record.to_json()]},
        operations={"mode": "apply", "suspended": False},
        settings=OperationsSettings(namespace="<ns>", web_url="https://app.example.com"),
        pages=pages,
    )
    for page in (render_index(facts), render_run(facts, pages.get("r1"), "r1")):
        assert "javascript:" not in page
        assert "<script>" not in page
        assert "&lt;ns&gt;" in page
        assert "https://app.example.com/registry/custom-models/id-1" in page
    assert "&lt;b&gt;plan&lt;/b&gt;" in render_run(facts, pages.get("r1"), "r1")


def test_observe_mode_shows_what_differs_and_applies_nothing(
    workspace: Workspace, live_service: Any
) -> None:
    workspace.add_model("churn")
    workspace.add_job("nightly")
    workspace.commit("a model and a job")
    live = live_service(mode="observe")
    assert workspace.writes() == 0
    assert live.objects() == {"CustomModel/churn": "missing", "CustomJob/nightly": "missing"}
    page = html.unescape(live.page())
    assert "Observe mode" in page
    assert re.search(r'<pre id="pending-plan">[^<]*\+ CustomModel/churn  create model', page), page
    status = live.service.status()
    assert (status["mode"], status["runs"][0]["result"]) == ("observe", "planned")
    registry = live.service.metrics.registry
    assert registry.get_sample_value("dr_gitops_pending_actions") == 2
    labels = {"kind": "CustomModel", "state": "missing"}
    assert registry.get_sample_value("dr_gitops_managed_resources", labels) == 1
    live.reconcile()
    assert workspace.writes() == 0


def test_a_suspended_service_shows_drift_and_undoes_it_only_once_resumed(
    workspace: Workspace, live_service: Any, emulator_api: Any
) -> None:
    workspace.add_model("churn", spec={"description": "Predicts churn"})
    workspace.commit("churn")
    live = live_service()
    assert live.objects() == {"CustomModel/churn": "in-sync"}
    assert live.post("/control/suspend").status == 200
    (model,) = [m for m in workspace.client.list_models() if m.user_provided_id]
    answer = emulator_api.patch(f"customModels/{model.id}/", json={"description": "by hand"})
    assert answer.status_code == 200

    assert live.reconcile()["result"] == "planned"
    assert live.objects() == {"CustomModel/churn": "drifted"}
    page = live.page()
    assert 'id="suspended-banner"' in page
    assert 'id="controller-state">suspended<' in page
    assert workspace.client.get_model(model.id).fields["description"] == "by hand"

    before = len(live.service.history.recent())
    assert live.post("/control/resume").status == 200
    live.wait_until_idle(before + 1, timeout=60)
    resumed = live.service.history.recent()[0]
    assert (resumed.trigger, resumed.result) == ("resume", "success")
    assert resumed.drift_corrections == 1
    assert workspace.client.get_model(model.id).fields["description"] == "Predicts churn"
    assert live.objects() == {"CustomModel/churn": "in-sync"}


def test_page_views_ask_nothing_of_datarobot(workspace: Workspace, live_service: Any) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    live = live_service()
    run_id = live.service.history.recent()[0].run_id
    before = workspace.stats()["total"]
    for _ in range(25):
        live.page()
        live.page(f"/runs/{run_id}")
    assert workspace.stats()["total"] == before


def test_the_page_renders_before_the_first_run_has_finished() -> None:
    facts = PageFacts(
        status={"state": "waiting-for-lock", "runs": [], "current": None, "lock": None},
        operations={"mode": "apply", "suspended": False},
        settings=OperationsSettings(namespace="team/models"),
        pages=RunPages(5),
    )
    page = render_index(facts)
    assert "no run has finished yet" in page
    assert "No object known yet." in page
    assert 'id="controller-state">waiting-for-lock<' in page


def test_a_run_page_lists_its_quality_gates_escaped() -> None:
    pages = RunPages(5)
    record = RunRecord("r2", "schedule", 0.0, 1.0, "failed", "b" * 40, ActionCounts(), 0, ())
    gates = (
        GateReport("CustomModel/scorer", "build", "passed", "version 1.1"),
        GateReport("CustomModel/scorer", "test", "failed", "errorCheck: <b>boom</b>"),
    )
    pages.add(record, RunOutcome("failed", "b" * 40, gates=gates))
    facts = PageFacts(
        status={"state": "running", "runs": [record.to_json()]},
        operations={"mode": "apply", "suspended": False},
        settings=OperationsSettings(namespace="team/models"),
        pages=pages,
    )
    page = render_run(facts, pages.get("r2"), "r2")
    assert '<table id="gates">' in page
    assert page.count('<span class="state state-failed">failed</span>') == 1
    assert "errorCheck: &lt;b&gt;boom&lt;/b&gt;" in page


def _test_results(page: str) -> dict[str, str]:
    """``KIND/name`` → the objects table's "Last test" cell."""
    rows = re.findall(
        r'<tr data-kind="([^"]+)" data-name="([^"]+)"[^>]*>.*?data-test="([^"]*)"', page, re.S
    )
    return {f"{kind}/{name}": result for kind, name, result in rows}


def test_each_tested_model_shows_its_last_test_result(
    workspace: Workspace, live_service: Any
) -> None:
    workspace.emulator.configure(dependencyBuildMs=0, modelTestMs=0, trainingDataMs=0)
    rule = {"outcome": "fail", "check": "errorCheck", "fileContains": "# break-me"}
    requests.put(
        f"{workspace.emulator.url}/__emulator__/modelTests", json={"rules": [rule]}, timeout=10
    ).raise_for_status()
    gates = {"test": {"datasetId": DATASET}}
    workspace.add_model("good", version=gates)
    workspace.add_model("bad", version=gates, files={"custom.py": "# break-me\n"})
    workspace.add_model("plain")
    workspace.commit("two tested models and one without a test")

    observed = live_service(mode="observe")  # nothing exists yet: nothing was tested
    assert _test_results(observed.page()) == {
        "CustomModel/bad": "none",
        "CustomModel/good": "none",
        "CustomModel/plain": "",
    }
    observed.stop()

    live = live_service()  # the run's own tests
    expected = {"CustomModel/bad": "failed", "CustomModel/good": "passed", "CustomModel/plain": ""}
    page = live.page()
    assert _test_results(page) == expected
    assert '<th scope="col">Last test</th>' in page
    assert live.objects()["CustomModel/bad"] == "failed"

    live.reconcile()  # no test runs now: the results come from the tests DataRobot holds
    assert _test_results(live.page()) == expected


def _served(page: str) -> dict[str, str]:
    """``KIND/name`` → the objects table's "Deployment model" cell."""
    rows = re.findall(
        r'<tr data-kind="([^"]+)" data-name="([^"]+)"[^>]*>.*?data-serves="([^"]*)"', page, re.S
    )
    return {f"{kind}/{name}": model for kind, name, model in rows}


def test_each_deployment_is_an_object_showing_the_model_version_it_serves(
    workspace: Workspace, live_service: Any
) -> None:
    start_deployments(workspace)  # staging on latest, production pinned to 1.0
    live = live_service()
    states = live.objects()
    assert states["Deployment/fraud-staging"] == "in-sync"
    assert states["Deployment/fraud-prod"] == "in-sync"
    page = live.page()
    assert _served(page) == {
        "CustomModel/fraud": "",
        "Deployment/fraud-prod": "fraud 1.0",
        "Deployment/fraud-staging": "fraud 1.0",
    }
    assert '<th scope="col">Deployment model</th>' in page
    prod = next(d for d in workspace.client.list_deployments() if d.label == "Fraud (production)")
    assert f"{workspace.emulator.url}/deployments/{prod.id}/overview" in parsed(page).hrefs

    workspace.repo.write({"models/fraud/custom.py": "# a change: version 2.0\n"})
    workspace.commit("a new version: staging follows it, production stays pinned")
    live.reconcile()
    assert _served(live.page())["Deployment/fraud-staging"] == "fraud 2.0"
    assert _served(live.page())["Deployment/fraud-prod"] == "fraud 1.0"
