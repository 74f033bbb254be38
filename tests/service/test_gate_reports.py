"""``serve`` reports quality gates: counts and gates in ``/status`` records, the test and
build counters in ``/metrics``, and a failed gate notified as one."""

from __future__ import annotations

import time
from typing import Any

import requests

from controller.service.engine_runs import EngineRunner
from controller.service.history import RunRecord
from controller.service.metrics import ServiceMetrics
from controller.service.notifications import run_notifications
from controller.service.runs import RunOutcome, RunRequest
from controller.settings import EngineSettings
from tests.fixtures.workspace import Workspace

DATASET = "6600000000000000000000d3"


def _run(workspace: Workspace) -> tuple[RunOutcome, RunRecord, ServiceMetrics]:
    runner = EngineRunner(workspace.git_settings(), workspace.api, EngineSettings(), {})
    outcome = runner(RunRequest(run_id="r1", trigger="schedule"))
    record = RunRecord.of(
        outcome,
        run_id="r1",
        trigger="schedule",
        started_at=0.0,
        duration_seconds=1.0,
        last_success_revision=None,
        scrub=str,
    )
    metrics = ServiceMetrics()
    metrics.run_finished(record, outcome, 0 if outcome.succeeded else 1)
    return outcome, record, metrics


def _sample(metrics: ServiceMetrics, name: str, result: str) -> Any:
    return metrics.registry.get_sample_value(name, {"result": result})


def test_a_passed_and_a_failed_gate_show_in_status_and_metrics(workspace: Workspace) -> None:
    workspace.emulator.configure(dependencyBuildMs=0, modelTestMs=0, trainingDataMs=0)
    rule = {"outcome": "fail", "check": "errorCheck", "fileContains": "# break-me"}
    requests.put(
        f"{workspace.emulator.url}/__emulator__/modelTests", json={"rules": [rule]}, timeout=10
    ).raise_for_status()
    gates = {"test": {"datasetId": DATASET}}
    workspace.add_model("good", version=gates)
    workspace.add_model("bad", version=gates, files={"custom.py": "# break-me\n"})
    workspace.commit()

    outcome, record, metrics = _run(workspace)

    assert outcome.result == "failed"
    assert record.to_json()["counts"]["builds"] == 2
    assert record.to_json()["counts"]["tests"] == 1  # the failed one is counted as failed
    reported = {(g["key"], g["step"], g["result"]) for g in record.to_json()["gates"]}
    assert reported == {
        ("CustomModel/good", "build", "passed"),
        ("CustomModel/good", "test", "passed"),
        ("CustomModel/bad", "build", "passed"),
        ("CustomModel/bad", "test", "failed"),
    }
    assert _sample(metrics, "dr_gitops_model_tests_total", "passed") == 1
    assert _sample(metrics, "dr_gitops_model_tests_total", "failed") == 1
    assert _sample(metrics, "dr_gitops_dependency_builds_total", "passed") == 2
    assert outcome.failed_gate == "quality gate (test) of CustomModel/bad"
    (gate_note,) = [n for n in run_notifications(record, outcome, 0) if n.kind == "gate-failed"]
    assert "nothing after that version was done" in gate_note.title


def test_a_long_test_does_not_hold_up_the_run_and_is_never_started_twice(
    workspace: Workspace,
) -> None:
    workspace.emulator.configure(dependencyBuildMs=0, modelTestMs=4000, trainingDataMs=0)
    workspace.add_model("slow", version={"test": {"datasetId": DATASET}})
    workspace.commit()

    started = time.monotonic()
    first, record, _ = _run(workspace)
    assert time.monotonic() - started < 4  # it did not wait for the test
    assert first.result == "success", first.errors
    assert ("CustomModel", "pending", 1) in [(r.kind, r.state, r.count) for r in first.resources]
    assert [(g.step, g.result) for g in first.gates] == [("build", "passed")]
    assert record.to_json()["counts"]["tests"] == 0

    second, _, _ = _run(workspace)  # the test still runs: looked at, not started again
    assert second.result == "success", second.errors
    model_id = workspace.client.list_models()[0].id
    assert len(workspace.client.list_model_tests(model_id)) == 1

    deadline = time.monotonic() + 30
    while workspace.client.list_model_tests(model_id)[0].running:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    third, _, _ = _run(workspace)  # the plan sees the passed test: nothing left to do
    assert third.result == "no-op", third.errors
    (test,) = workspace.client.list_model_tests(model_id)
    assert test.overall_status == "succeeded"


def test_a_pending_test_past_its_timeout_is_cancelled_by_a_later_run(
    workspace: Workspace,
) -> None:
    workspace.emulator.configure(dependencyBuildMs=0, modelTestMs=0, trainingDataMs=0)
    requests.put(
        f"{workspace.emulator.url}/__emulator__/modelTests",
        json={"rules": [{"outcome": "hang"}]},
        timeout=10,
    ).raise_for_status()
    workspace.add_model("stuck", version={"test": {"datasetId": DATASET, "timeout": 1}})
    workspace.commit()
    first, _, _ = _run(workspace)
    assert first.result == "success", first.errors  # pending, not failed
    time.sleep(1.2)

    second, _, metrics = _run(workspace)
    assert second.result == "failed"
    assert any("did not finish within 1s" in e for e in second.errors), second.errors
    assert _sample(metrics, "dr_gitops_model_tests_total", "failed") == 1
    (test,) = workspace.client.list_model_tests(workspace.client.list_models()[0].id)
    assert test.overall_status == "canceled"
