"""The official ``datarobot`` client (unchanged, no monkeypatching) works against the emulator."""

from __future__ import annotations

import textwrap
from pathlib import Path

import datarobot as dr
import pytest
import requests
from datarobot.client import client_configuration
from datarobot.models.registry import Job
from datarobot.models.runtime_parameters import RuntimeParameterValue

# The client builds urllib3's Retry with a form urllib3 2.x deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Using an empty collection:FutureWarning")

SKLEARN = "64d2ba178dd3f0b1fa2162f0"
JOBS_ENV = "64d2ba178dd3f0b1fa2162f2"
MODEL_METADATA = textwrap.dedent(
    """\
    name: fraud-detector
    type: inference
    targetType: binary
    runtimeParameterDefinitions:
      - fieldName: THRESHOLD
        type: numeric
        defaultValue: 0.5
        minValue: 0
        maxValue: 1
      - fieldName: MODE
        type: string
        defaultValue: fast
    """
)
JOB_METADATA = textwrap.dedent(
    """\
    name: nightly-retrain
    type: job
    runtimeParameterDefinitions:
      - fieldName: DEPLOYMENT_ID
        type: deployment
    """
)


@pytest.fixture
def client(emulator):
    with client_configuration(endpoint=emulator.api_url, token=emulator.token):
        yield emulator


def _write(folder: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return folder


def test_the_official_client_manages_a_model_its_versions_and_sharing(client, tmp_path):
    model = dr.CustomInferenceModel.create(
        name="Fraud detector",
        target_type=dr.TARGET_TYPE.BINARY,
        target_name="is_fraud",
        positive_class_label="yes",
        negative_class_label="no",
        language="python",
        description="Scores card transactions",
    )
    assert model.positive_class_label == "yes"

    folder = _write(
        tmp_path / "model",
        {
            "custom.py": "def score(data, model, **kw):\n    return data\n",
            "model-metadata.yaml": MODEL_METADATA,
            "requirements.txt": "scikit-learn>=1.3,<2\n",
            "helpers/util.py": "X = 1\n",
        },
    )
    first = dr.CustomModelVersion.create_clean(
        custom_model_id=model.id,
        base_environment_id=SKLEARN,
        folder_path=str(folder),
        maximum_memory=512 * 1024**2,
    )
    assert (first.version_major, first.version_minor) == (1, 0)
    assert sorted(i.file_path for i in first.items) == [
        "custom.py",
        "helpers/util.py",
        "model-metadata.yaml",
        "requirements.txt",
    ]
    assert first.dependencies[0].package_name == "scikit-learn"
    assert first.maximum_memory == 512 * 1024**2

    replacement = tmp_path / "custom.py"
    replacement.write_text("def score(data, model, **kw):\n    return data * 2\n")
    items = {i.file_path: i.id for i in first.items}
    second = dr.CustomModelVersion.create_from_previous(
        custom_model_id=model.id,
        base_environment_id=SKLEARN,
        is_major_update=False,
        files=[(str(replacement), "custom.py")],
        files_to_delete=[items["helpers/util.py"]],
        runtime_parameter_values=[
            RuntimeParameterValue(field_name="THRESHOLD", type="numeric", value=0.8)
        ],
    )
    assert (second.version_major, second.version_minor) == (1, 1)
    second_items = {i.file_path: i.id for i in second.items}
    assert sorted(second_items) == ["custom.py", "model-metadata.yaml", "requirements.txt"]
    assert second_items["custom.py"] != items["custom.py"]
    assert second_items["model-metadata.yaml"] == items["model-metadata.yaml"]
    params = {p.field_name: p for p in second.runtime_parameters}
    assert params["THRESHOLD"].override_value == 0.8
    assert params["THRESHOLD"].current_value == 0.8
    assert params["MODE"].current_value == "fast"

    versions = dr.CustomModelVersion.list(model.id)
    assert [(v.label, v.is_frozen) for v in versions] == [("1.1", False), ("1.0", True)]

    second.update(description="Doubles the score")
    assert dr.CustomModelVersion.get(model.id, second.id).description == "Doubles the score"

    model.share(
        [dr.SharingAccess("alice@example.com", dr.enums.SHARING_ROLE.OWNER, can_share=True)]
    )
    model.share([dr.SharingAccess("bob@example.com", dr.enums.SHARING_ROLE.USER)])
    access = {a.username: a.role for a in model.get_access_list()}
    assert access == {
        "gitops-bot@example.com": "OWNER",
        "alice@example.com": "OWNER",
        "bob@example.com": "USER",
    }

    model.refresh()
    assert model.latest_version.id == second.id
    listed = dr.CustomInferenceModel.list(search_for="fraud")
    assert [m.id for m in listed] == [model.id]
    assert listed[0].latest_version.label == "1.1"

    downloaded = tmp_path / "model.zip"
    second.download(str(downloaded))
    assert downloaded.read_bytes()[:2] == b"PK"


def test_the_official_client_creates_and_updates_a_custom_job_with_files(client, tmp_path):
    folder = _write(
        tmp_path / "job",
        {
            "run.sh": "#!/bin/sh\npython job.py\n",
            "job.py": "print('hi')\n",
            "metadata.yaml": JOB_METADATA,
        },
    )
    job = Job.create(name="Nightly retrain", environment_id=JOBS_ENV, folder_path=str(folder))
    paths = {i.file_path: i.id for i in job.items}
    assert sorted(paths) == ["job.py", "metadata.yaml", "run.sh"]
    assert job.entry_point == paths["run.sh"]
    assert job.environment_version_id == "64d2ba178dd3f0b1fa2163b2"

    extra = tmp_path / "train.py"
    extra.write_text("print('train')\n")
    job.update(
        description="Retrains every night",
        files=[(str(extra), "train.py")],
        runtime_parameter_values=[
            RuntimeParameterValue(
                field_name="DEPLOYMENT_ID", type="deployment", value="65b000000000000000000001"
            )
        ],
    )
    assert job.description == "Retrains every night"
    assert sorted(i.file_path for i in job.items) == [
        "job.py",
        "metadata.yaml",
        "run.sh",
        "train.py",
    ]
    assert job.runtime_parameters[0].current_value == "65b000000000000000000001"

    job.update(entry_point=paths["job.py"])
    assert Job.get(job.id).entry_point == paths["job.py"]
    assert [j.id for j in Job.list()] == [job.id]


def test_the_official_client_tests_runs_copies_updates_and_deletes(client, tmp_path):
    client.configure(asyncDelayMs=0, jobRunMs=0)  # the client polls every 5 s: finish at once
    model = dr.CustomInferenceModel.create(
        name="Churn", target_type=dr.TARGET_TYPE.REGRESSION, target_name="churn"
    )
    folder = _write(tmp_path / "model", {"custom.py": "pass\n"})
    version = dr.CustomModelVersion.create_clean(
        model.id, base_environment_id=SKLEARN, folder_path=str(folder)
    )

    test = dr.CustomModelTest.create(
        model.id, version.id, dataset_id="6600000000000000000000d3", max_wait=30
    )
    assert test.overall_status == "succeeded"
    assert set(test.detailed_status) == {
        "error_check",
        "null_value_imputation",
        "long_running_service",
        "side_effects",
    }

    model.update(description="Predicts churn", target_name="churned")
    assert (model.description, model.target_name) == ("Predicts churn", "churned")
    copy = dr.CustomInferenceModel.copy_custom_model(model.id)
    assert copy.latest_version.label == "1.0"
    assert copy.id != model.id

    environments = dr.ExecutionEnvironment.list()
    assert len(environments) == 4

    folder = _write(tmp_path / "job", {"run.sh": "echo hi\n"})
    job = Job.create(name="Report", environment_id=JOBS_ENV, folder_path=str(folder))
    run = dr.models.registry.JobRun.create(job.id, max_wait=30)
    assert run.status.value == "succeeded"
    assert "Entry point: run.sh" in run.get_logs()

    copy.delete()
    job.delete()
    assert [m.id for m in dr.CustomInferenceModel.list()] == [model.id]


def test_a_connection_reset_after_a_create_leaves_a_model_the_client_never_heard_of(client):
    """Why a controller must re-read before it re-creates (API-NOTES "Connection")."""
    script = [
        {
            "method": "POST",
            "route": "/api/v2/customModels/",
            "dropConnection": "reset",
            "when": "after",
        }
    ]
    client.set_faults({"script": script})
    with pytest.raises(requests.ConnectionError):
        dr.CustomInferenceModel.create(
            name="Orphan", target_type=dr.TARGET_TYPE.REGRESSION, target_name="y"
        )
    assert [m.name for m in dr.CustomInferenceModel.list()] == ["Orphan"]
    assert client.stats()["routes"]["POST /api/v2/customModels/"]["statuses"] == {"dropped": 1}
