"""Custom job runs: they run for a while, finish on their own, and leave a log."""

from __future__ import annotations

import time

import requests

JOBS_ENV = "64d2ba178dd3f0b1fa2162f2"
METADATA = (
    "runtimeParameterDefinitions:\n  - {fieldName: TARGET, type: string, defaultValue: prod}\n"
)


def _job(emulator_api, **form):
    form.setdefault("environmentId", JOBS_ENV)
    return emulator_api.upload(
        "customJobs/", {"run.sh": "echo hi", "metadata.yaml": METADATA}, name="j", **form
    ).json()


def _wait(emulator_api, url, until, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = emulator_api.get(url, allow_redirects=False)
        if until(answer):
            return answer
        time.sleep(0.02)
    raise AssertionError(f"{url} did not get there in {timeout} s")


def test_a_run_finishes_by_itself_and_its_status_redirects_to_it(emulator_api):
    job = _job(emulator_api)
    answer = emulator_api.post(f"customJobs/{job['id']}/runs/", json={"description": "first"})
    assert answer.status_code == 201
    run = answer.json()
    assert run["status"] == "running"
    assert run["entryPoint"] == job["entryPoint"]
    status_url = answer.headers["Location"]
    assert status_url.endswith(f"/api/v2/status/{run['jobStatusId']}/")
    assert emulator_api.get(status_url, allow_redirects=False).json()["status"] == "RUNNING"
    done = _wait(emulator_api, status_url, lambda a: a.status_code == 303)
    assert done.headers["Location"].endswith(f"/api/v2/customJobs/{job['id']}/runs/{run['id']}/")
    finished = emulator_api.get(done.headers["Location"]).json()
    assert finished["status"] == "succeeded"
    assert finished["duration"] >= 0.2
    assert emulator_api.get(f"customJobs/{job['id']}/").json()["lastRun"] == run["created"]


def test_run_values_override_the_job_values_for_that_run_only(emulator_api):
    job = _job(emulator_api)
    values = [{"fieldName": "TARGET", "type": "string", "value": "canary"}]
    run = emulator_api.post(
        f"customJobs/{job['id']}/runs/", json={"runtimeParameterValues": values}
    ).json()
    assert run["runtimeParameters"][0]["currentValue"] == "canary"
    assert (
        emulator_api.get(f"customJobs/{job['id']}/").json()["runtimeParameters"][0]["currentValue"]
        == "prod"
    )
    bad = emulator_api.post(
        f"customJobs/{job['id']}/runs/",
        json={"runtimeParameterValues": [{**values[0], "fieldName": "X"}]},
    )
    assert bad.status_code == 422


def test_a_run_leaves_a_log_that_can_be_deleted(emulator, emulator_api):
    emulator.configure(jobRunMs=0)
    job = _job(emulator_api)
    run = emulator_api.post(f"customJobs/{job['id']}/runs/", json={}).json()
    log = emulator_api.get(f"customJobs/{job['id']}/runs/{run['id']}/logs/")
    assert log.headers["Content-Disposition"].startswith("attachment;filename=custom-job-run-")
    assert "Entry point: run.sh" in log.text
    assert "TARGET='prod'" in log.text
    assert "succeeded" in log.text
    assert emulator_api.delete(f"customJobs/{job['id']}/runs/{run['id']}/logs/").status_code == 204
    gone = emulator_api.get(f"customJobs/{job['id']}/runs/{run['id']}/logs/")
    assert (gone.status_code, gone.json()) == (404, {"message": "No log found"})


def test_a_running_run_can_be_canceled_once(emulator, emulator_api):
    emulator.configure(jobRunMs=60_000)
    job = _job(emulator_api)
    answer = emulator_api.post(f"customJobs/{job['id']}/runs/", json={})
    run = answer.json()
    assert emulator_api.get("customJobs/?onlyRunning=true").json()["totalCount"] == 1
    assert emulator_api.delete(f"customJobs/{job['id']}/runs/{run['id']}/").status_code == 204
    assert (
        emulator_api.get(f"customJobs/{job['id']}/runs/{run['id']}/").json()["status"] == "canceled"
    )
    assert (
        emulator_api.get(answer.headers["Location"], allow_redirects=False).json()["status"]
        == "ABORTED"
    )
    assert emulator_api.delete(f"customJobs/{job['id']}/runs/{run['id']}/").status_code == 422
    assert emulator_api.get("customJobs/?onlyRunning=true").json()["totalCount"] == 0


def test_a_job_needs_an_environment_and_an_entry_point_to_run(emulator_api):
    job = emulator_api.post("customJobs/", json={"name": "empty"}).json()
    answer = emulator_api.post(f"customJobs/{job['id']}/runs/", json={})
    assert answer.status_code == 422
    assert set(answer.json()["errors"]) == {"environmentId", "entryPoint"}


def test_at_most_the_limit_of_runs_run_at_once(emulator, emulator_api):
    emulator.configure(jobRunMs=60_000)
    job = _job(emulator_api)
    statuses = [
        emulator_api.post(f"customJobs/{job['id']}/runs/", json={}).status_code for _ in range(11)
    ]
    assert statuses == [201] * 10 + [422]


def test_runs_are_listed_newest_first_and_keep_their_files(emulator, emulator_api):
    emulator.configure(jobRunMs=0)
    job = _job(emulator_api)
    first = emulator_api.post(f"customJobs/{job['id']}/runs/", json={}).json()
    emulator_api.upload(f"customJobs/{job['id']}/", {"run.sh": "echo changed"}, "PATCH")
    second = emulator_api.post(f"customJobs/{job['id']}/runs/", json={}).json()
    listing = emulator_api.get(f"customJobs/{job['id']}/runs/").json()
    assert [r["id"] for r in listing["data"]] == [second["id"], first["id"]]
    old_item = next(i["id"] for i in first["items"] if i["filePath"] == "run.sh")
    content = emulator_api.get(
        f"customJobs/{job['id']}/runs/{first['id']}/items/{old_item}/"
    ).json()["content"]
    assert content == "echo hi"
    assert emulator_api.get(f"customJobs/{job['id']}/runs/?scheduledJobId=s").json()["data"] == []


def test_a_run_description_can_be_changed(emulator_api):
    job = _job(emulator_api)
    run = emulator_api.post(f"customJobs/{job['id']}/runs/", json={}).json()
    answer = emulator_api.patch(
        f"customJobs/{job['id']}/runs/{run['id']}/", json={"description": "tagged"}
    )
    assert (answer.status_code, answer.json()["description"]) == (201, "tagged")


def test_an_unknown_status_is_a_404_and_a_status_can_be_deleted(emulator_api):
    job = _job(emulator_api)
    answer = emulator_api.post(f"customJobs/{job['id']}/runs/", json={})
    assert emulator_api.delete(answer.headers["Location"]).status_code == 204
    assert emulator_api.get(answer.headers["Location"]).status_code == 404
    assert requests.get(answer.headers["Location"], timeout=5).status_code == 401
