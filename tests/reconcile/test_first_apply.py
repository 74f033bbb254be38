"""The first apply creates everything, and the plan after it is empty."""

from __future__ import annotations

from tests.fixtures.workspace import Workspace


def test_first_apply_creates_models_versions_and_jobs_then_plans_nothing(
    workspace: Workspace,
) -> None:
    workspace.add_model("churn")
    workspace.add_model("fraud", target="Binary", version={"runtimeParameters": {"THRESHOLD": 0.7}})
    workspace.add_job("retrain", spec={"runtimeParameters": {"DAYS": 7}})
    sha = workspace.commit("models and a job")

    result = workspace.converge()

    assert result.count(result.results[0].outcome) == len(result.results)
    models = {m.name: m for m in workspace.client.list_models()}
    assert set(models) == {"Churn", "Fraud"}
    for model in models.values():
        assert model.user_provided_id
        assert model.user_provided_id.startswith("test/workspace/")
        assert model.latest_version is not None
        assert model.latest_version.label == "1.0"
        assert model.latest_version.git is not None
        assert model.latest_version.git.main_branch_commit_sha == sha
        assert sorted(i.file_path for i in model.latest_version.items) == [
            "custom.py",
            "model-metadata.yaml",
            "requirements.txt",
        ]
    fraud = models["Fraud"].latest_version
    assert fraud is not None
    assert {p.field_name: p.override_value for p in fraud.runtime_parameters}["THRESHOLD"] == 0.7
    (job,) = workspace.client.list_jobs()
    assert {p.field_name: p.override_value for p in job.runtime_parameters}["DAYS"] == 7
    entry = next(i for i in job.items if i.id == job.entry_point)
    assert entry.file_path == "run.sh"
