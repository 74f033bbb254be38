"""Custom jobs: multipart and JSON create/update, entry points, files, deletion, limits."""

from __future__ import annotations

import pytest

JOBS_ENV, JOBS_ENV_V1, JOBS_ENV_V2 = (
    "64d2ba178dd3f0b1fa2162f2",
    "64d2ba178dd3f0b1fa2163a2",
    "64d2ba178dd3f0b1fa2163b2",
)
METADATA = (
    "runtimeParameterDefinitions:\n  - {fieldName: TARGET, type: string, defaultValue: prod}\n"
)


def _create(emulator_api, files=None, **form):
    if files is None:
        return emulator_api.post("customJobs/", json=form)
    return emulator_api.upload("customJobs/", files, **form)


def _paths(job):
    return {i["filePath"]: i["id"] for i in job["items"]}


def test_a_job_made_from_files_points_at_run_sh(emulator_api):
    answer = _create(
        emulator_api,
        {"run.sh": "python job.py", "job.py": "print(1)"},
        name="nightly",
        environmentId=JOBS_ENV,
    )
    assert answer.status_code == 201
    job = answer.json()
    assert job["entryPoint"] == _paths(job)["run.sh"]
    assert (job["environmentId"], job["environmentVersionId"]) == (JOBS_ENV, JOBS_ENV_V2)
    assert job["jobType"] == "default"
    assert job["resources"] == {"egressNetworkPolicy": "none", "resourceBundleId": None}
    assert job["lastRun"] is None
    assert all("created" in item for item in job["items"])


def test_a_json_job_has_no_files_and_may_name_its_type_and_resources(emulator_api):
    job = _create(
        emulator_api,
        name="alerts",
        description="d",
        jobType="notification",
        resources={"egressNetworkPolicy": "public"},
    ).json()
    assert (job["items"], job["entryPoint"], job["environmentId"]) == ([], None, None)
    assert job["jobType"] == "notification"
    assert job["resources"]["egressNetworkPolicy"] == "public"
    assert job["description"] == "d"


def test_multipart_resources_and_values_are_json_strings(emulator_api):
    job = _create(
        emulator_api,
        {"run.sh": "x", "metadata.yaml": METADATA},
        name="j",
        resources={"egressNetworkPolicy": "public"},
        runtimeParameterValues=[{"fieldName": "TARGET", "type": "string", "value": "staging"}],
    ).json()
    assert job["resources"]["egressNetworkPolicy"] == "public"
    assert job["runtimeParameters"][0]["currentValue"] == "staging"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({}, "name"),
        ({"name": "j", "jobType": "weekly"}, "jobType"),
        ({"name": "j", "environmentId": "64d2ba178dd3f0b1fa2169ff"}, "environmentId"),
        (
            {
                "name": "j",
                "environmentId": JOBS_ENV,
                "environmentVersionId": "64d2ba178dd3f0b1fa2163a0",
            },
            "environmentVersionId",
        ),
        (
            {"name": "j", "resources": {"egressNetworkPolicy": "everywhere"}},
            "resources.egressNetworkPolicy",
        ),
        ({"name": "j", "entryPoint": "x"}, "entryPoint"),
    ],
)
def test_bad_job_bodies_are_a_422(emulator_api, form, field):
    answer = _create(emulator_api, **form)
    assert answer.status_code == 422
    assert field in answer.json()["errors"]


def test_an_update_replaces_adds_and_deletes_files_in_place(emulator_api):
    job = _create(emulator_api, {"run.sh": "1", "a.py": "a", "b.py": "b"}, name="j").json()
    before = _paths(job)
    answer = emulator_api.upload(
        f"customJobs/{job['id']}/",
        {"a.py": "A", "c.py": "c"},
        "PATCH",
        filesToDelete=[before["b.py"]],
        name="renamed",
    )
    assert answer.status_code == 201
    after = _paths(answer.json())
    assert list(after) == ["run.sh", "a.py", "c.py"]
    assert after["run.sh"] == before["run.sh"]
    assert after["a.py"] != before["a.py"]
    assert answer.json()["name"] == "renamed"
    content = emulator_api.get(f"customJobs/{job['id']}/items/{after['a.py']}/").json()
    assert content == {"id": after["a.py"], "fileName": "a.py", "filePath": "a.py", "content": "A"}


def test_a_json_patch_deletes_files_by_item_id(emulator_api):
    job = _create(emulator_api, {"run.sh": "1", "a.py": "a"}, name="j").json()
    answer = emulator_api.patch(
        f"customJobs/{job['id']}/", json={"filesToDelete": [_paths(job)["a.py"]]}
    )
    assert list(_paths(answer.json())) == ["run.sh"]


def test_the_entry_point_is_an_item_id_and_follows_its_file(emulator_api):
    job = _create(emulator_api, {"run.sh": "1", "other.sh": "2"}, name="j").json()
    ids = _paths(job)
    moved = emulator_api.patch(
        f"customJobs/{job['id']}/", json={"entryPoint": ids["other.sh"]}
    ).json()
    assert moved["entryPoint"] == ids["other.sh"]
    assert (
        emulator_api.patch(f"customJobs/{job['id']}/", json={"entryPoint": "run.sh"}).status_code
        == 422
    )
    replaced = emulator_api.upload(f"customJobs/{job['id']}/", {"other.sh": "3"}, "PATCH").json()
    assert replaced["entryPoint"] == _paths(replaced)["other.sh"] != ids["other.sh"]
    deleted = emulator_api.patch(
        f"customJobs/{job['id']}/", json={"filesToDelete": [replaced["entryPoint"]]}
    ).json()
    assert deleted["entryPoint"] is None


def test_changing_the_environment_takes_its_latest_version_unless_given(emulator_api):
    job = _create(
        emulator_api, name="j", environmentId=JOBS_ENV, environmentVersionId=JOBS_ENV_V1
    ).json()
    assert job["environmentVersionId"] == JOBS_ENV_V1
    same = emulator_api.patch(f"customJobs/{job['id']}/", json={"environmentId": JOBS_ENV}).json()
    assert same["environmentVersionId"] == JOBS_ENV_V1
    other = emulator_api.patch(
        f"customJobs/{job['id']}/", json={"environmentId": "64d2ba178dd3f0b1fa2162f0"}
    ).json()
    assert other["environmentVersionId"] == "64d2ba178dd3f0b1fa2163b0"


def test_job_values_merge_and_reset(emulator_api):
    job = _create(emulator_api, {"run.sh": "x", "metadata.yaml": METADATA}, name="j").json()
    values = '[{"fieldName": "TARGET", "type": "string", "value": "dev"}]'
    set_ = emulator_api.patch(
        f"customJobs/{job['id']}/", json={"runtimeParameterValues": values}
    ).json()
    assert set_["runtimeParameters"][0]["overrideValue"] == "dev"
    kept = emulator_api.patch(f"customJobs/{job['id']}/", json={"name": "k"}).json()
    assert kept["runtimeParameters"][0]["currentValue"] == "dev"
    reset = emulator_api.patch(
        f"customJobs/{job['id']}/", json={"runtimeParameterValues": values.replace('"dev"', "null")}
    ).json()
    assert reset["runtimeParameters"][0]["currentValue"] == "prod"
    bad = emulator_api.patch(
        f"customJobs/{job['id']}/",
        json={"runtimeParameterValues": values.replace("TARGET", "NOPE")},
    )
    assert bad.status_code == 422


def test_jobs_are_listed_newest_first_with_search_and_type_filters(emulator_api):
    a = _create(emulator_api, name="Nightly retrain", jobType="retraining").json()
    b = _create(
        emulator_api, name="Alerts", description="nightly alerts", jobType="notification"
    ).json()
    c = _create(emulator_api, name="Other").json()
    ids = lambda q="": [j["id"] for j in emulator_api.get(f"customJobs/{q}").json()["data"]]  # noqa: E731
    assert ids() == [c["id"], b["id"], a["id"]]
    assert ids("?search=NIGHTLY") == [b["id"], a["id"]]
    assert ids("?jobType=retraining&jobType=notification") == [b["id"], a["id"]]
    assert ids("?jobType=retraining") == [a["id"]]
    assert emulator_api.get("customJobs/?jobType=weekly").status_code == 400


def test_deleted_jobs_are_listed_apart_and_can_be_cleaned_up(emulator_api):
    job = _create(emulator_api, name="j").json()
    assert emulator_api.post(f"customJobsCleanup/{job['id']}/").status_code == 409
    assert emulator_api.delete(f"customJobs/{job['id']}/").status_code == 204
    assert emulator_api.get(f"customJobs/{job['id']}/").status_code == 404
    assert emulator_api.get("customJobs/").json()["totalCount"] == 0
    assert [j["id"] for j in emulator_api.get("deletedCustomJobs/").json()["data"]] == [job["id"]]
    assert emulator_api.post(f"customJobsCleanup/{job['id']}/").status_code == 204
    assert emulator_api.get("deletedCustomJobs/").json()["totalCount"] == 0
    assert emulator_api.post(f"customJobsCleanup/{job['id']}/").status_code == 404


def test_item_content_must_be_text(emulator_api):
    job = _create(emulator_api, {"blob.bin": b"\xff\xfe\x00"}, name="j").json()
    item = job["items"][0]["id"]
    assert emulator_api.get(f"customJobs/{job['id']}/items/{item}/").status_code == 422
    assert (
        emulator_api.get(f"customJobs/{job['id']}/items/ffffffffffffffffffffffff/").status_code
        == 404
    )


def test_job_limits_are_published(emulator_api):
    assert emulator_api.get("customJobLimits/").json() == {
        "maxCustomJobRuns": 10,
        "maxCustomJobTimeout": 3600,
    }
