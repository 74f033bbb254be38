"""Custom job runs: start, list, read, describe, cancel, their files and their logs.

A run needs the job's environment and entry point (else 422) and at most
``maxCustomJobRuns`` runs may run at once. It is ``running`` for ``jobRunMs``
(``/__emulator__/config``) and then ``succeeded`` on its own; cancelling makes it
``canceled``. ``POST`` answers 201 with the run and a ``Location`` status that redirects
(303) to the run once it has finished, as the official client expects. Its log (plain
text: entry point, runtime parameters, exit code) grows when the run ends; after
``DELETE .../logs/`` reading it is a 404 ``{"message": "No log found"}``.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, request

from emulator.access import READ, WRITE
from emulator.bodies import read_body
from emulator.domain import runtime_params
from emulator.errors import ApiError, invalid, not_found
from emulator.paging import envelope, page
from emulator.routes.jobs import LIMITS, item_content
from emulator.routes.sharing import find_job_for
from emulator.routing import absolute, api, emulator, no_content, respond, text
from emulator.statuses import new_status, settle_status
from emulator.store import Store
from emulator.views import item_view, public

BASE = "/api/v2/customJobs/{customJobId}/runs/"


def run_status(run: dict[str, Any]) -> str:
    if run["_outcome"]:
        return str(run["_outcome"])
    return "running" if time.time() < run["_endsAt"] else "succeeded"


def run_view(run: dict[str, Any]) -> dict[str, Any]:
    status = run_status(run)
    finished = run["_finishedAt"] if run["_outcome"] else min(time.time(), run["_endsAt"])
    rt = run["_runtime"]
    return {
        **public(run),
        "items": [item_view(i) for i in run["items"]],
        "status": status,
        "duration": round(max(finished - run["_startedAt"], 0.0), 3),
        "runtimeParameters": runtime_params.render(rt["definitions"], rt["overrides"]),
    }


def _check_can_run(store: Store, job: dict[str, Any]) -> None:
    errors = {}
    if not job["environmentId"]:
        errors["environmentId"] = "the job needs an execution environment to run"
    if not job["entryPoint"]:
        errors["entryPoint"] = "the job needs an entry point to run"
    if errors:
        raise invalid(errors, "The custom job cannot be run")
    running = sum(1 for r in store.runs.values() if run_status(r) == "running")
    if running >= LIMITS["maxCustomJobRuns"]:
        raise ApiError(422, f"At most {LIMITS['maxCustomJobRuns']} custom job runs may run at once")


@api("POST", BASE)
def create_run(customJobId: str) -> Response:
    emu = emulator()
    store = emu.store
    job = find_job_for(customJobId, WRITE)
    data = read_body().data
    _check_can_run(store, job)
    definitions = job["_runtime"]["definitions"]
    try:
        changes = runtime_params.check_values(data.get("runtimeParameterValues", []), definitions)
    except runtime_params.InvalidRuntimeParameters as exc:
        raise invalid(exc.errors) from None
    created, seq = store.stamp()
    now = time.time()
    run = {
        "id": store.new_id(),
        "customJobId": job["id"],
        "description": data.get("description", ""),
        "created": created,
        "entryPoint": job["entryPoint"],
        "items": list(job["items"]),
        "resources": dict(job["resources"]),
        "_runtime": {
            "definitions": definitions,
            "overrides": runtime_params.merge(job["_runtime"]["overrides"], changes, definitions),
        },
        "_startedAt": now,
        "_endsAt": now + emu.config["jobRunMs"] / 1000,
        "_finishedAt": None,
        "_outcome": None,
        "_logDeleted": False,
        "_seq": seq,
    }
    location = f"/api/v2/customJobs/{job['id']}/runs/{run['id']}/"
    status = new_status(
        "customJobRun", location, run["_endsAt"], f"Run of custom job {job['name']}"
    )
    run["jobStatusId"] = status["id"]
    store.runs[run["id"]] = run
    return respond(run_view(run), 201, {"Location": absolute(f"/api/v2/status/{status['id']}/")})


@api("GET", BASE)
def list_runs(customJobId: str) -> Response:
    store = emulator().store
    job = find_job_for(customJobId, READ)
    runs = [r for r in store.runs.values() if r["customJobId"] == job["id"]]
    if request.args.get("scheduledJobId"):
        runs = []  # the emulator has no schedules, so no run was scheduled
    runs.sort(key=lambda r: r["_seq"], reverse=True)
    chunk, meta = page(runs)
    return respond(envelope(meta, [run_view(r) for r in chunk]))


def find_run(job_id: str, run_id: str, need: str = READ) -> dict[str, Any]:
    job = find_job_for(job_id, need)
    run = emulator().store.runs.get(run_id)
    if run is None or run["customJobId"] != job["id"]:
        raise not_found("Custom job run")
    return run


@api("GET", BASE + "{customJobRunId}/")
def get_run(customJobId: str, customJobRunId: str) -> Response:
    return respond(run_view(find_run(customJobId, customJobRunId)))


@api("PATCH", BASE + "{customJobRunId}/")
def update_run(customJobId: str, customJobRunId: str) -> Response:
    run = find_run(customJobId, customJobRunId, WRITE)
    data = read_body().data
    if "description" in data:
        run["description"] = data["description"]
    return respond(run_view(run), 201)


@api("DELETE", BASE + "{customJobRunId}/")
def cancel_run(customJobId: str, customJobRunId: str) -> Response:
    run = find_run(customJobId, customJobRunId, WRITE)
    if run_status(run) != "running":
        raise ApiError(
            422, f"The custom job run is {run_status(run)}, not running: nothing to cancel"
        )
    run["_outcome"], run["_finishedAt"] = "canceled", time.time()
    settle_status(run["jobStatusId"], "ABORTED", "The custom job run was canceled")
    return no_content()


@api("GET", BASE + "{customJobRunId}/items/{itemId}/")
def get_run_item(customJobId: str, customJobRunId: str, itemId: str) -> Response:
    return item_content(find_run(customJobId, customJobRunId)["items"], itemId)


def run_log(store: Store, run: dict[str, Any]) -> str:
    job = store.jobs[run["customJobId"]]
    entry = next(
        (i["filePath"] for i in run["items"] if i["id"] == run["entryPoint"]), run["entryPoint"]
    )
    lines = [
        f"Custom job {job['name']} ({job['id']}), run {run['id']}",
        f"Entry point: {entry}",
        "Runtime parameters:",
    ]
    view = run_view(run)
    lines += [
        f"  {p['fieldName']}={p['currentValue']!r} ({p['type']})" for p in view["runtimeParameters"]
    ] or ["  (none)"]
    status = view["status"]
    if status == "running":
        lines.append("Running...")
    else:
        lines.append(
            f"Run {status} after {view['duration']} s"
            + (" (exit code 0)" if status == "succeeded" else "")
        )
    return "\n".join(lines) + "\n"


@api("GET", BASE + "{customJobRunId}/logs/")
def get_run_log(customJobId: str, customJobRunId: str) -> Response:
    run = find_run(customJobId, customJobRunId)
    if run["_logDeleted"]:
        raise ApiError(404, "No log found")
    return text(
        run_log(emulator().store, run), f"custom-job-run-{customJobId}-{customJobRunId}.log"
    )


@api("DELETE", BASE + "{customJobRunId}/logs/")
def delete_run_log(customJobId: str, customJobRunId: str) -> Response:
    run = find_run(customJobId, customJobRunId, WRITE)
    if run["_logDeleted"]:
        raise ApiError(404, "No log found")
    run["_logDeleted"] = True
    return no_content()
