"""Custom job calls against the emulator: create (multipart or JSON), update, items, delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.remote import DataRobotClient, RequestCounter, apierrors
from controller.settings import ApiSettings
from emulator.server import EmulatorServer
from tests.fixtures.remote import ENVIRONMENT_ID, emulator_stats, set_faults, write_files

JOB = {
    "name": "Nightly retrain",
    "description": "retrains the fraud model",
    "jobType": "retraining",
    "environmentId": ENVIRONMENT_ID,
    "resources": {"egressNetworkPolicy": "none"},
}
METADATA = """name: retrain
runtimeParameterDefinitions:
  - fieldName: DEPLOYMENT_ID
    type: deployment
  - fieldName: BATCH
    type: numeric
    defaultValue: 10
"""


@pytest.fixture
def files(tmp_path: Path) -> list:  # type: ignore[type-arg]
    return write_files(
        tmp_path, {"run.sh": "#!/bin/sh\necho hi\n", "metadata.yaml": METADATA, "lib/x.py": "X=1\n"}
    )


def test_a_job_created_with_files_holds_them_and_its_runtime_values(
    dr_client: DataRobotClient,
    files: list,  # type: ignore[type-arg]
) -> None:
    job = dr_client.create_job(
        JOB,
        files=files,
        runtime_parameter_values=[
            {
                "fieldName": "DEPLOYMENT_ID",
                "type": "deployment",
                "value": "65b000000000000000000001",
            }
        ],
    )
    assert job.name == "Nightly retrain"
    assert job.fields["jobType"] == "retraining"
    assert sorted(job.item_by_path()) == ["lib/x.py", "metadata.yaml", "run.sh"]
    values = {p.field_name: p.override_value for p in job.runtime_parameters}
    assert values == {"DEPLOYMENT_ID": "65b000000000000000000001", "BATCH": None}
    assert dr_client.get_job(job.id) == job


def test_a_job_created_without_files_is_sent_as_json(
    dr_client: DataRobotClient, request_counter: RequestCounter
) -> None:
    job = dr_client.create_job({"name": "empty", "jobType": "default"})
    assert job.items == ()
    assert job.entry_point is None


def test_an_update_sets_the_entry_point_replaces_and_deletes_files(
    dr_client: DataRobotClient,
    files: list,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    job = dr_client.create_job(JOB, files=files)
    run = job.item_by_path()["run.sh"].id
    job = dr_client.update_job(job.id, {"entryPoint": run, "description": "new words"})
    assert job.entry_point == run
    assert job.fields["description"] == "new words"
    replaced = write_files(tmp_path / "v2", {"lib/x.py": "X=2\n", "lib/y.py": "Y=1\n"})
    job = dr_client.update_job(
        job.id, files=replaced, files_to_delete=[job.item_by_path()["metadata.yaml"].id]
    )
    assert sorted(job.item_by_path()) == ["lib/x.py", "lib/y.py", "run.sh"]
    content = dr_client.get_job_item(job.id, job.item_by_path()["lib/x.py"].id)
    assert (content.file_path, content.content) == ("lib/x.py", "X=2\n")


def test_a_json_update_can_delete_files_alone(
    dr_client: DataRobotClient,
    files: list,  # type: ignore[type-arg]
) -> None:
    job = dr_client.create_job(JOB, files=files)
    job = dr_client.update_job(job.id, files_to_delete=[job.item_by_path()["lib/x.py"].id])
    assert "lib/x.py" not in job.item_by_path()


def test_jobs_are_listed_across_pages_and_found_by_search(
    dr_client: DataRobotClient, request_counter: RequestCounter
) -> None:
    for index in range(7):
        dr_client.create_job({"name": f"job {index}", "jobType": "default"})
    request_counter.reset()
    assert len(dr_client.list_jobs(page_size=3)) == 7
    assert request_counter.snapshot().count("GET", "/api/v2/customJobs/") == 3
    assert [j.name for j in dr_client.list_jobs(search="job 4")] == ["job 4"]


@pytest.mark.parametrize("change", ["delete", "create"])
def test_a_list_that_changes_between_pages_is_read_again_whole(
    api_settings: ApiSettings, dr_client: DataRobotClient, change: str
) -> None:
    ids = [dr_client.create_job({"name": f"job {i}", "jobType": "default"}).id for i in range(7)]
    done: list[str] = []

    def meddle(method: str, route: str, outcome: int | str, elapsed: float) -> None:
        # After the first page (newest first), another user deletes the newest job or makes
        # one more: offset paging would skip "job 3" or show "job 4" twice.
        if route == "/api/v2/customJobs/" and not done:
            if change == "delete":
                dr_client.delete_job(ids[-1])
                done.append("deleted")
            else:
                done.append(dr_client.create_job({"name": "late", "jobType": "default"}).id)

    with DataRobotClient(api_settings, on_request=meddle) as client:
        names = [j.name for j in client.list_jobs(page_size=3)]
    expected = {f"job {i}" for i in range(6 if change == "delete" else 7)}
    assert set(names) == expected | ({"late"} if change == "create" else set())
    assert len(names) == len(set(names))


def test_a_deleted_job_is_gone(dr_client: DataRobotClient) -> None:
    job = dr_client.create_job({"name": "doomed", "jobType": "default"})
    dr_client.delete_job(job.id)
    with pytest.raises(apierrors.NotFoundError):
        dr_client.get_job(job.id)


def test_a_job_create_answered_503_after_the_write_is_not_resent(
    emulator: EmulatorServer,
    dr_client: DataRobotClient,
    files: list,  # type: ignore[type-arg]
) -> None:
    set_faults(
        emulator,
        script=[{"method": "POST", "route": "/api/v2/customJobs/", "status": 503, "when": "after"}],
    )
    with pytest.raises(apierrors.OutcomeUnknownError):
        dr_client.create_job(JOB, files=files)
    assert len(dr_client.list_jobs()) == 1
    assert emulator_stats(emulator)["routes"]["POST /api/v2/customJobs/"]["count"] == 1


def test_a_missing_item_is_not_found(dr_client: DataRobotClient) -> None:
    job = dr_client.create_job({"name": "x", "jobType": "default"})
    with pytest.raises(apierrors.NotFoundError):
        dr_client.get_job_item(job.id, "0" * 24)
