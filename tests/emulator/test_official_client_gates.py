"""The official ``datarobot`` client's quality-gate flows (API-DELIVERY.md §9), unchanged.

Custom model tests, dependency builds, and versions with training and holdout data. The
client sleeps 5 s between polls, so these tests make the emulator's work finish at once
(or hang, where a test needs something still running).
"""

from __future__ import annotations

from pathlib import Path

import datarobot as dr
import pytest
import requests
from datarobot.errors import ClientError

pytestmark = pytest.mark.filterwarnings("ignore:Using an empty collection:FutureWarning")

SKLEARN = "64d2ba178dd3f0b1fa2162f0"
TRAIN = "6600000000000000000000d1"
HOLDOUT = "6600000000000000000000d2"
HOUSES = "6600000000000000000000d3"


def _script(server, rules):
    """Scripted test outcomes, through the admin route a user's own tests would call."""
    answer = requests.put(
        f"{server.url}/__emulator__/modelTests", json={"rules": rules}, timeout=10
    )
    answer.raise_for_status()


def _folder(tmp_path: Path, files: dict[str, str]) -> str:
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content)
    return str(folder)


def _model_and_version(tmp_path: Path, files: dict[str, str] | None = None):
    model = dr.CustomInferenceModel.create(
        name="Houses", target_type=dr.TARGET_TYPE.REGRESSION, target_name="y"
    )
    version = dr.CustomModelVersion.create_clean(
        model.id,
        base_environment_id=SKLEARN,
        folder_path=_folder(tmp_path, files or {"custom.py": "pass\n"}),
    )
    return model, version


def test_custom_model_tests_create_get_list_logs_and_cancel(official_client, tmp_path):
    model, version = _model_and_version(tmp_path)
    _script(
        official_client, [{"outcome": "fail", "check": "sideEffects", "message": "row 4 differs"}]
    )

    failed = dr.CustomModelTest.create(model.id, version.id, dataset_id=HOUSES, max_wait=30)
    assert failed.overall_status == "failed"
    assert failed.detailed_status["side_effects"] == {
        "status": "failed",
        "message": "row 4 differs",
    }
    assert isinstance(failed.image_type, str)
    assert dr.CustomModelTest.get(failed.id).dataset_id == HOUSES
    assert "ERROR: sideEffects: row 4 differs" in failed.get_log()
    assert "Overall: failed" in failed.get_log_tail()

    _script(official_client, [])
    passed = dr.CustomModelTest.create(model.id, version.id, dataset_id=HOUSES, max_wait=30)
    assert passed.overall_status == "succeeded"
    assert [t.id for t in dr.CustomModelTest.list(model.id)] == [passed.id, failed.id]

    _script(official_client, [{"outcome": "hang"}])
    running = dr.CustomModelTest.create(model.id, version.id, dataset_id=HOUSES, max_wait=None)
    assert running.overall_status == "in_progress"
    running.cancel()
    running.refresh()
    assert running.overall_status == "canceled"
    with pytest.raises(ClientError) as conflict:
        running.cancel()
    assert conflict.value.status_code == 409

    with pytest.raises(ClientError) as refused:
        dr.CustomModelTest.create(model.id, version.id, max_wait=30)  # no dataset
    assert refused.value.status_code == 422


def test_dependency_builds_start_read_log_and_cancel(official_client, tmp_path):
    model, version = _model_and_version(
        tmp_path, {"custom.py": "pass\n", "requirements.txt": "pandas>=2\nnumpy<2\n"}
    )
    Build = dr.CustomModelVersionDependencyBuild
    built = Build.start_build(model.id, version.id, max_wait=30)
    assert built.build_status == "success"
    assert built.started_at
    assert built.completed_at
    assert Build.get_build_info(model.id, version.id).build_status == "success"
    assert "Successfully installed pandas numpy" in built.get_log()

    official_client.configure(failingDependencies=["numpy"])
    failed = Build.start_build(model.id, version.id, max_wait=30)
    assert failed.build_status == "failed"
    assert "requirement numpy<2" in failed.get_log()

    official_client.configure(dependencyBuildMs=600_000)
    running = Build.start_build(model.id, version.id, max_wait=None)
    assert running.build_status == "submitted"
    running.cancel()
    running.refresh()
    assert running.build_status == "failed"


def test_versions_with_training_and_holdout_data(official_client, tmp_path):
    model = dr.CustomInferenceModel.create(
        name="Fraud",
        target_type=dr.TARGET_TYPE.BINARY,
        target_name="is_fraud",
        is_training_data_for_versions_permanently_enabled=True,
    )
    version = dr.CustomModelVersion.create_clean(
        model.id,
        base_environment_id=SKLEARN,
        folder_path=_folder(tmp_path, {"custom.py": "pass\n"}),
        training_dataset_id=TRAIN,
        partition_column="partition",
    )
    assert version.training_data.dataset_id == TRAIN
    assert version.training_data.assignment_in_progress is False
    assert version.holdout_data.partition_column == "partition"

    with pytest.raises(dr.errors.TrainingDataAssignmentError):
        dr.CustomModelVersion.create_from_previous(
            model.id,
            base_environment_id=SKLEARN,
            training_dataset_id=TRAIN,
            partition_column="no_such_column",
        )

    unstructured = dr.CustomInferenceModel.create(
        name="Prompts",
        target_type=dr.TARGET_TYPE.UNSTRUCTURED,
        is_training_data_for_versions_permanently_enabled=True,
    )
    first = dr.CustomModelVersion.create_clean(
        unstructured.id,
        base_environment_id=SKLEARN,
        folder_path=_folder(tmp_path, {"custom.py": "pass\n"}),
    )
    second = dr.CustomModelVersion.create_from_previous(
        unstructured.id,
        base_environment_id=SKLEARN,
        training_dataset_id=TRAIN,
        holdout_dataset_id=HOLDOUT,
    )
    assert first.training_data is None
    assert second.holdout_data.dataset_id == HOLDOUT
    assert dr.CustomModelTest.create(unstructured.id, second.id, max_wait=30).overall_status == (
        "succeeded"
    )


@pytest.mark.filterwarnings("ignore::datarobot.errors.DataRobotDeprecationWarning")
def test_the_deprecated_model_level_training_data_assignment(official_client):
    model = dr.CustomInferenceModel.create(
        name="Legacy", target_type=dr.TARGET_TYPE.REGRESSION, target_name="y"
    )
    model.assign_training_data(HOUSES, partition_column="partition", max_wait=30)
    assert model.training_dataset_id == HOUSES
    assert model.training_data_partition_column == "partition"
