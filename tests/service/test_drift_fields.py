"""Drift undone by ``serve`` is logged and counted field by field, not only as writes."""

from __future__ import annotations

from structlog.testing import capture_logs

from controller.service.engine_runs import EngineRunner
from controller.service.history import RunRecord
from controller.service.metrics import ServiceMetrics
from controller.service.runs import RunOutcome, RunRequest
from controller.settings import EngineSettings
from tests.fixtures.workspace import Workspace


def _run(workspace: Workspace, last_success: str | None) -> tuple[RunOutcome, list[dict]]:
    runner = EngineRunner(workspace.git_settings(), workspace.api, EngineSettings(), {})
    request = RunRequest(run_id="r2", trigger="schedule", last_success_revision=last_success)
    with capture_logs() as logged:
        outcome = runner(request)
    return outcome, logged


def test_drift_healed_names_and_counts_the_fields_put_back(workspace: Workspace) -> None:
    workspace.add_model(
        "churn",
        spec={"description": "Predicts churn"},
        version={"runtimeParameters": {"THRESHOLD": 0.7}},
    )
    revision = workspace.commit()
    workspace.converge()
    (model,) = workspace.client.list_models()
    workspace.client.update_model(model.id, {"description": "by hand", "targetName": "z"})

    outcome, logged = _run(workspace, last_success=revision)
    assert outcome.result == "success", outcome.errors
    assert outcome.drift_fields == (("description", 1), ("targetName", 1))
    (healed,) = [e for e in logged if e["event"] == "drift_healed"]
    assert healed["key"] == "CustomModel/churn"
    assert healed["fields"] == ["description", "targetName"]
    assert healed["values"] == 2

    metrics = ServiceMetrics()
    record = RunRecord.of(
        outcome,
        run_id="r2",
        trigger="schedule",
        started_at=0.0,
        duration_seconds=1.0,
        last_success_revision=revision,
        scrub=str,
    )
    metrics.run_finished(record, outcome, 0)
    value = metrics.registry.get_sample_value(
        "dr_gitops_drift_fields_restored_total", {"field": "description"}
    )
    assert value == 1
    assert record.to_json()["driftFields"] == {"description": 1, "targetName": 1}


def test_changes_from_a_new_commit_are_not_drift(workspace: Workspace) -> None:
    workspace.add_model("churn", spec={"description": "one"})
    first = workspace.commit()
    workspace.converge()
    workspace.edit_manifest("models/churn.yaml", description="two")
    workspace.commit()
    outcome, logged = _run(workspace, last_success=first)
    assert outcome.counts.updated == 1
    assert outcome.drift_fields == ()
    assert not [e for e in logged if e["event"] == "drift_healed"]
