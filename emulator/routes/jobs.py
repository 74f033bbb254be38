"""Custom jobs: list, create, read, update, delete (soft), items, deleted list, cleanup, limits.

Following API-NOTES "Custom jobs": create and update take multipart (files as for model
versions) or JSON (no files; ``filesToDelete`` an array); ``entryPoint`` is a file *item
ID*; ``runtimeParameterValues`` is a JSON string merged with the job's values (``null``
resets one); definitions come from ``metadata.yaml``. Jobs have no versions: an update
changes the job's files in place (untouched items keep their ids). Beyond the reference:
a new job's ``entryPoint`` is the item at ``run.sh`` when there is one (the reference's
create form has no ``entryPoint``); when the entry point file is re-uploaded the entry
point follows it to the new item; when it is deleted it becomes ``null``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from emulator.access import DELETE, READ, WRITE, job_grant
from emulator.bodies import read_body
from emulator.domain import filesets
from emulator.errors import ApiError, bad_query, invalid, not_found
from emulator.paging import envelope, page
from emulator.routes.sharing import find_job_for
from emulator.routing import api, caller, emulator, no_content, respond
from emulator.store import Store
from emulator.versioning import runtime_for
from emulator.views import item_view, public

JOB_METADATA = "metadata.yaml"
ENTRY_POINT = "run.sh"
LIMITS = {"maxCustomJobRuns": 10, "maxCustomJobTimeout": 3600}
JOB_TYPES = ("default", "hostedCustomMetric", "notification", "retraining")


def job_view(store: Store, job: dict[str, Any]) -> dict[str, Any]:
    """A custom job as ``CustomJobResponse`` (+ ``description``, ``runtimeParameters``)."""
    from emulator.domain import runtime_params

    runs = [r for r in store.runs.values() if r["customJobId"] == job["id"]]
    last = max(runs, key=lambda r: r["_seq"])["created"] if runs else None
    rt = job["_runtime"]
    return {
        **public(job),
        "items": [item_view(i) for i in job["items"]],
        "lastRun": last,
        "runtimeParameters": runtime_params.render(rt["definitions"], rt["overrides"]),
    }


def _environment(
    store: Store, data: dict[str, Any], current: dict[str, Any] | None
) -> tuple[str | None, str | None]:
    env_id = data.get("environmentId", current["environmentId"] if current else None)
    version_id = data.get("environmentVersionId")
    if version_id:
        env_version = store.environment_versions.get(version_id)
        if env_version is None:
            raise invalid(
                {"environmentVersionId": f"Execution environment version {version_id} not found"}
            )
        if "environmentId" in data and env_version["environmentId"] != env_id:
            raise invalid(
                {"environmentVersionId": f"does not belong to execution environment {env_id}"}
            )
        return env_version["environmentId"], version_id
    if env_id is None:
        return None, None
    env = store.environments.get(env_id)
    if env is None:
        raise invalid({"environmentId": f"Execution environment {env_id} not found"})
    if current is not None and current["environmentId"] == env_id:
        return env_id, current["environmentVersionId"]
    return env_id, env["versions"][-1]["id"]


def _items(
    store: Store, job: dict[str, Any], body: Any, previous: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    try:
        pairs = filesets.pair_uploads(
            [(u.filename, u.content) for u in body.files], body.get("filePath")
        )
        created, _ = store.stamp()
        uploaded = [
            filesets.make_item(
                store.new_id(),
                path,
                store.put_blob(content),
                created,
                f"custom_jobs/{job['id']}",
                job["_workspaceId"],
            )
            for path, content in pairs
        ]
        return filesets.apply_changes(
            previous, uploaded, filesets.ids_to_delete(body.get("filesToDelete"))
        )
    except filesets.InvalidFiles as exc:
        raise invalid(exc.errors) from None


def _entry_point(
    items: list[dict[str, Any]],
    previous_items: list[dict[str, Any]],
    current: str | None,
    given: str | None,
) -> str | None:
    ids = {i["id"]: i for i in items}
    if given is not None:
        if given not in ids:
            raise invalid({"entryPoint": "must be the id of one of the job's file items"})
        return given
    if current in ids:
        return current
    old = next((i for i in previous_items if i["id"] == current), None)
    path = (
        old["filePath"] if old else ENTRY_POINT if current is None and not previous_items else None
    )
    return next((i["id"] for i in items if i["filePath"] == path), None)


@api("POST", "/api/v2/customJobs/")
def create_job() -> Response:
    store = emulator().store
    body = read_body(files=True)
    data = body.data
    created, seq = store.stamp()
    user = caller()
    job: dict[str, Any] = {
        "id": store.new_id(),
        "name": data["name"],
        "description": data.get("description", ""),
        "jobType": data.get("jobType", "default"),
        "created": created,
        "updated": created,
        "resources": {
            "egressNetworkPolicy": "none",
            "resourceBundleId": None,
            **data.get("resources", {}),
        },
        "_roles": [
            {"shareRecipientType": "user", "id": user["id"], "role": "OWNER", "canShare": True}
        ],
        "_seq": seq,
        "_workspaceId": store.new_id(),
        "_deleted": False,
    }
    job["environmentId"], job["environmentVersionId"] = _environment(store, data, None)
    job["items"] = _items(store, job, body, [])
    job["entryPoint"] = _entry_point(job["items"], [], None, None)
    job["_runtime"] = runtime_for(store, job["items"], data, None, JOB_METADATA)
    store.jobs[job["id"]] = job
    return respond(job_view(store, job), 201)


@api("PATCH", "/api/v2/customJobs/{customJobId}/")
def update_job(customJobId: str) -> Response:
    store = emulator().store
    job = find_job_for(customJobId, WRITE)
    body = read_body(files=True)
    data = body.data
    environment = _environment(store, data, job)
    items = _items(store, job, body, job["items"])
    entry_point = _entry_point(items, job["items"], job["entryPoint"], data.get("entryPoint"))
    runtime = runtime_for(store, items, data, job, JOB_METADATA)
    for key in ("name", "description"):
        if key in data:
            job[key] = data[key]
    if "resources" in data:
        job["resources"] = {
            "egressNetworkPolicy": "none",
            "resourceBundleId": None,
            **data["resources"],
        }
    job["environmentId"], job["environmentVersionId"] = environment
    job.update(items=items, entryPoint=entry_point, _runtime=runtime)
    job["updated"], _ = store.stamp()
    return respond(job_view(store, job), 201)


@api("GET", "/api/v2/customJobs/{customJobId}/")
def get_job(customJobId: str) -> Response:
    return respond(job_view(emulator().store, find_job_for(customJobId, READ)))


@api("DELETE", "/api/v2/customJobs/{customJobId}/")
def delete_job(customJobId: str) -> Response:
    store = emulator().store
    job = find_job_for(customJobId, DELETE)
    job["_deleted"] = True
    job["_deletedAt"], _ = store.stamp()
    return no_content()


def _running(store: Store, job_id: str) -> bool:
    from emulator.routes.runs import run_status

    return any(
        r["customJobId"] == job_id and run_status(r) == "running" for r in store.runs.values()
    )


@api("GET", "/api/v2/customJobs/")
def list_jobs() -> Response:
    store = emulator().store
    types = {t for raw in request.args.getlist("jobType") for t in raw.split(",") if t}
    if types - set(JOB_TYPES):
        raise bad_query({"jobType": "must be among: " + ", ".join(JOB_TYPES)})
    only_running = request.args.get("onlyRunning")
    if only_running not in (None, "true", "True", "false", "False"):
        raise bad_query({"onlyRunning": "must be one of: false, False, true, True"})
    search = (request.args.get("search") or "").lower()
    user = caller()
    jobs = [j for j in store.jobs.values() if not j["_deleted"] and job_grant(store, j, user)]
    if types:
        jobs = [j for j in jobs if j["jobType"] in types]
    if search:
        jobs = [
            j
            for j in jobs
            if search in j["name"].lower() or search in (j["description"] or "").lower()
        ]
    if only_running in ("true", "True"):
        jobs = [j for j in jobs if _running(store, j["id"])]
    jobs.sort(key=lambda j: j["_seq"], reverse=True)
    chunk, meta = page(jobs)
    return respond(envelope(meta, [job_view(store, j) for j in chunk]))


@api("GET", "/api/v2/deletedCustomJobs/")
def list_deleted_jobs() -> Response:
    store = emulator().store
    user = caller()
    jobs = [j for j in store.jobs.values() if j["_deleted"] and job_grant(store, j, user)]
    jobs.sort(key=lambda j: j["_seq"], reverse=True)
    chunk, meta = page(jobs)
    return respond(envelope(meta, [job_view(store, j) for j in chunk]))


@api("POST", "/api/v2/customJobsCleanup/{customJobId}/")
def cleanup_job(customJobId: str) -> Response:
    store = emulator().store
    job = store.jobs.get(customJobId)
    grant = job_grant(store, job, caller()) if job else None
    if job is None or grant is None:
        raise not_found("Custom job")
    if grant["role"] != "OWNER":
        raise ApiError(401, "Permadelete not enabled or user not permitted to permadelete.")
    if not job["_deleted"]:
        raise ApiError(
            409, "The custom job is not deleted (soft-deleted) and cannot be permanently deleted."
        )
    for run_id in [r["id"] for r in store.runs.values() if r["customJobId"] == job["id"]]:
        del store.runs[run_id]
    del store.jobs[job["id"]]
    return no_content()


def item_content(items: list[dict[str, Any]], item_id: str) -> Response:
    item = next((i for i in items if i["id"] == item_id), None)
    if item is None:
        raise ApiError(404, "No file found.")
    try:
        content = emulator().store.blobs[item["_sha"]].decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "File is not utf-8 encoded.") from None
    return respond(
        {
            "id": item["id"],
            "fileName": item["fileName"],
            "filePath": item["filePath"],
            "content": content,
        }
    )


@api("GET", "/api/v2/customJobs/{customJobId}/items/{itemId}/")
def get_job_item(customJobId: str, itemId: str) -> Response:
    return item_content(find_job_for(customJobId, READ)["items"], itemId)


@api("GET", "/api/v2/customJobLimits/")
def get_job_limits() -> Response:
    return respond(LIMITS)
