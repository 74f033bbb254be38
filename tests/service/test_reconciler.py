"""``EngineRunner`` keeps the service's run contract (controller/service/runs.py) with the
real engine: fetch first, report the revision and every API response, stop between actions,
count resources by kind and state, fail without raising."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from controller.service.engine_runs import EngineRunner
from controller.service.runs import ResourceCount, RunOutcome, RunRequest, Trigger
from controller.settings import EngineSettings
from emulator.server import EmulatorServer
from tests.fixtures.gitrepos import RemoteRepo
from tests.fixtures.workspace import NAMESPACE, Workspace

Observed = list[tuple[str, str, int]]
TEMPLATE = re.compile(r"^/api/v2/(?:[a-z][A-Za-z]*/|\{[A-Za-z]+\}/)+$")  # no object IDs


class Calls:
    """Runs one ``EngineRunner`` and keeps what it reported."""

    def __init__(self, runner: EngineRunner) -> None:
        self.runner = runner
        self.revisions: list[str] = []
        self.requests: Observed = []

    def run(
        self,
        *,
        stop: threading.Event | None = None,
        on_request: Callable[[str, str, int], None] | None = None,
        trigger: Trigger = "schedule",
        pushed: str | None = None,
    ) -> RunOutcome:
        def observe(method: str, route: str, status: int) -> None:
            self.requests.append((method, route, status))
            if on_request is not None:
                on_request(method, route, status)

        request = RunRequest(
            run_id="r1",
            trigger=trigger,
            stop=stop or threading.Event(),
            on_api_request=observe,
            on_revision=self.revisions.append,
            pushed_revision=pushed,
        )
        return self.runner(request)


def runner_for(
    workspace: Workspace,
    repo: str | None = None,
    environ: Mapping[str, str] | None = None,
    **engine: Any,
) -> Calls:
    git = workspace.git_settings(**({"repo": repo} if repo else {}))
    settings = EngineSettings(**{"concurrency": 1, **engine})
    return Calls(EngineRunner(git, workspace.api, settings, dict(environ or {})))


def resources(outcome: RunOutcome) -> set[tuple[str, str, int]]:
    return {(r.kind, r.state, r.count) for r in outcome.resources}


@pytest.fixture
def remote_workspace(
    remote_repo: RemoteRepo, emulator: EmulatorServer, tmp_path: Path
) -> Workspace:
    return Workspace(remote_repo.work, emulator, tmp_path / "runner-cache")


def test_each_run_fetches_the_url_and_reports_the_new_revision_first(
    remote_repo: RemoteRepo, remote_workspace: Workspace
) -> None:
    remote_workspace.add_model("churn")
    first = remote_workspace.commit("churn")
    remote_repo.push()
    calls = runner_for(remote_workspace, repo=remote_repo.url)
    assert calls.run(trigger="startup").revision == first

    remote_workspace.add_model("fraud")
    second = remote_workspace.commit("fraud")
    remote_repo.push()
    outcome = calls.run(trigger="webhook:github")
    assert (outcome.result, outcome.revision, outcome.counts.created) == ("success", second, 1)
    assert calls.revisions == [first, second]


def test_a_merged_namespace_change_fails_the_run_until_serve_is_restarted(
    workspace: Workspace,
) -> None:
    # serve took the lock of the namespace it started under; a commit that changes
    # `namespace:` must not make it write under another one it holds no lock for.
    workspace.add_model("churn")
    workspace.repo.write({".dr-gitops.yaml": "namespace: team/one\n"})
    workspace.commit("churn")
    git = workspace.git_settings(namespace=None)
    runner = EngineRunner(git, workspace.api, EngineSettings(), {}, namespace="team/one")
    assert Calls(runner).run().result == "success"

    workspace.repo.write({".dr-gitops.yaml": "namespace: team/two\n"})
    workspace.commit("move to another namespace")
    writes = workspace.writes()
    outcome = Calls(runner).run()
    assert outcome.result == "failed"
    (error,) = outcome.errors
    assert "now 'team/two' (.dr-gitops.yaml)" in error
    assert "started under 'team/one'" in error
    assert "Restart dr-gitops serve" in error
    assert workspace.writes() == writes


def test_a_pushed_commit_the_local_repository_lacks_is_said_not_silently_ignored(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn")
    first = workspace.commit("churn")
    calls = runner_for(workspace)
    with capture_logs() as events:
        assert calls.run(trigger="webhook:github", pushed=first).revision == first
    assert not [e for e in events if e["event"] == "pushed_revision_not_read"]

    elsewhere = "0123456789abcdef0123456789abcdef01234567"  # pushed, not pulled here
    with capture_logs() as events:
        assert calls.run(trigger="webhook:github", pushed=elsewhere).result == "no-op"
    (warning,) = [e for e in events if e["event"] == "pushed_revision_not_read"]
    assert warning["pushed_revision"] == elsewhere
    assert warning["revision"] == first
    assert "--repo PATH" in warning["hint"]


def test_every_api_response_is_reported_by_route_template_with_0_for_no_answer(
    workspace: Workspace, emulator: EmulatorServer
) -> None:
    workspace.add_model("churn")
    workspace.commit("churn")
    dropped = {"method": "GET", "route": "/api/v2/customModels/", "dropConnection": True}
    emulator.set_faults({"script": [dropped]})
    calls = runner_for(workspace)
    assert calls.run().result == "success"
    assert ("GET", "/api/v2/customModels/", 0) in calls.requests
    assert ("GET", "/api/v2/customModels/", 200) in calls.requests
    assert ("POST", "/api/v2/customModels/{customModelId}/versions/", 201) in calls.requests
    assert all(TEMPLATE.match(route) for _, route, _ in calls.requests), calls.requests
    assert len(calls.requests) == workspace.stats()["total"]


def test_a_stop_during_the_apply_starts_no_new_action_and_the_next_run_goes_on(
    workspace: Workspace,
) -> None:
    for name in ("alpha", "bravo", "charlie"):
        workspace.add_model(name)
    workspace.commit("three models")
    calls = runner_for(workspace)
    stop = threading.Event()

    def stop_after_the_first_create(method: str, route: str, status: int) -> None:
        if (method, route, status) == ("POST", "/api/v2/customModels/", 201):
            stop.set()

    stopped = calls.run(stop=stop, on_request=stop_after_the_first_create)
    assert stopped.result == "failed"
    assert stopped.counts.created == 1
    assert any("stopped" in error for error in stopped.errors)
    assert len(workspace.client.list_models()) == 1

    resumed = calls.run()
    assert resumed.result == "success"
    assert (resumed.counts.created, resumed.counts.versions) == (2, 3)


def test_a_stop_before_the_apply_writes_nothing(workspace: Workspace) -> None:
    workspace.add_model("churn")
    revision = workspace.commit("churn")
    stop = threading.Event()
    stop.set()
    outcome = runner_for(workspace).run(stop=stop)
    assert (outcome.result, outcome.revision) == ("failed", revision)
    assert outcome.errors == ("stopped before applying",)
    assert workspace.writes() == 0


def test_resources_are_counted_by_kind_and_state(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.add_model("fraud")
    workspace.add_job("retrain")
    workspace.commit("two models and a job")
    calls = runner_for(workspace)
    # In sync as soon as the run made them so (not only on the run after).
    assert resources(calls.run()) == {("CustomJob", "in-sync", 1), ("CustomModel", "in-sync", 2)}
    assert resources(calls.run()) == {("CustomJob", "in-sync", 1), ("CustomModel", "in-sync", 2)}

    workspace.repo.remove("models/fraud.yaml", "models/fraud")
    workspace.commit("fraud retired")
    outcome = calls.run()
    assert outcome.result == "no-op"  # not pruned unless asked
    assert set(outcome.resources) == {
        ResourceCount("CustomJob", "in-sync", 1),
        ResourceCount("CustomModel", "in-sync", 1),
        ResourceCount("CustomModel", "orphaned", 1),
    }


def test_a_run_that_cannot_load_the_manifests_fails_with_the_reason_and_writes_nothing(
    workspace: Workspace,
) -> None:
    workspace.repo.write({"models/bad.yaml": "apiVersion: dr-gitops/v1\nkind: CustomModel\n"})
    revision = workspace.commit("a broken manifest")
    outcome = runner_for(workspace).run()
    assert (outcome.result, outcome.revision) == ("failed", revision)
    assert any("bad.yaml" in error for error in outcome.errors), outcome.errors
    assert workspace.writes() == 0


def test_ci_variables_around_the_service_do_not_make_its_runs_look_like_a_pull_request(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn")
    revision = workspace.commit("churn")
    ci = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REF": "refs/pull/7/merge",
        "GITHUB_SHA": "f" * 40,
        "CI": "true",
    }
    outcome = runner_for(workspace, environ=ci).run()
    assert outcome.result == "success", outcome.errors
    (model,) = workspace.client.list_models()
    assert model.latest_version is not None
    assert model.latest_version.git is not None
    assert model.latest_version.git.main_branch_commit_sha == revision
    assert model.latest_version.git.pull_request_commit_sha is None
    assert model.user_provided_id == f"{NAMESPACE}/churn"
