"""Custom job calls: list, get, create, update, delete, and a file item's content.

Create and update send multipart when files are uploaded (file/filePath pairs as for
versions) and JSON otherwise. ``entryPoint`` is a file *item ID*. ``runtimeParameterValues``
is a JSON-encoded string in both forms, as the API's schema says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from controller.model.live import LiveJob
from controller.model.values import Json
from controller.remote import routes
from controller.remote.apierrors import NotFoundError, UnexpectedResponseError
from controller.remote.decoders import decoding, job_from_api
from controller.remote.multipart import FileUpload, multipart_body
from controller.remote.pages import PageMemo, paginate, read_list
from controller.remote.transport import Transport, json_body
from controller.remote.versions import RuntimeValues


@dataclass(frozen=True)
class JobFile:
    """A job's file item with its text content."""

    id: str
    file_name: str
    file_path: str
    content: str


class JobCalls:
    """Calls on ``customJobs/``; mixed into ``DataRobotClient``."""

    http: Transport
    page_memo: PageMemo | None

    def iter_jobs(
        self, *, search: str | None = None, page_size: int | None = None
    ) -> Iterator[LiveJob]:
        """Every custom job the token can see (``search`` matches name or description)."""
        query = {"search": search} if search else None
        for raw in paginate(self.http, routes.JOBS, query=query, page_size=page_size):
            with decoding("GET", routes.JOBS):
                yield job_from_api(raw)

    def list_jobs(
        self, *, search: str | None = None, page_size: int | None = None
    ) -> list[LiveJob]:
        """:meth:`iter_jobs` as a list; pages the client's ``page_memo`` holds are not
        decoded again."""
        query = {"search": search} if search else None
        return read_list(
            self.http, routes.JOBS, _job, memo=self.page_memo, query=query, page_size=page_size
        )

    def get_job(self, job_id: str) -> LiveJob:
        return self._job_call("GET", routes.JOB, job_id)

    def create_job(
        self,
        fields: Mapping[str, Json],
        *,
        files: Sequence[FileUpload] = (),
        runtime_parameter_values: RuntimeValues | None = None,
    ) -> LiveJob:
        """POST a job with CreateCustomJob ``fields`` (``name``, ``jobType``, ``resources``...).

        A 5xx or dropped connection raises ``OutcomeUnknownError``: find the job by its
        marker before trying again.
        """
        values = _job_values(fields, runtime_parameter_values)
        if files:
            return self._job_call("POST", routes.JOBS, body=multipart_body(files, values))
        return self._job_call("POST", routes.JOBS, json=values)

    def update_job(
        self,
        job_id: str,
        fields: Mapping[str, Json] | None = None,
        *,
        files: Sequence[FileUpload] = (),
        files_to_delete: Sequence[str] = (),
        runtime_parameter_values: RuntimeValues | None = None,
    ) -> LiveJob:
        """PATCH a job: UpdateCustomJob ``fields`` (``entryPoint`` is an item ID), uploads
        that add or replace files by path, and ``files_to_delete`` (item IDs)."""
        values = _job_values(fields or {}, runtime_parameter_values)
        if files_to_delete:
            values["filesToDelete"] = list(files_to_delete)
        if files:
            return self._job_call("PATCH", routes.JOB, job_id, body=multipart_body(files, values))
        return self._job_call("PATCH", routes.JOB, job_id, json=values)

    def delete_job(self, job_id: str) -> None:
        """DELETE a job. A 404 on a resend (the first attempt did it) counts as done."""
        try:
            self.http.request("DELETE", routes.JOB, path={"customJobId": job_id})
        except NotFoundError as exc:
            if exc.attempts <= 1:
                raise

    def get_job_item(self, job_id: str, item_id: str) -> JobFile:
        """A job file's content (the API answers 422 for files that are not UTF-8)."""
        raw = self.http.get_json(routes.JOB_ITEM, path={"customJobId": job_id, "itemId": item_id})
        if not isinstance(raw, dict):
            raise UnexpectedResponseError(
                method="GET", route=routes.API_PREFIX + routes.JOB_ITEM, detail="not an object"
            )
        return JobFile(
            id=str(raw.get("id") or item_id),
            file_name=str(raw.get("fileName") or ""),
            file_path=str(raw.get("filePath") or raw.get("fileName") or ""),
            content=str(raw.get("content") or ""),
        )

    def _job_call(
        self, method: str, route: str, job_id: str | None = None, **kwargs: Any
    ) -> LiveJob:
        path = {"customJobId": job_id} if job_id is not None else None
        response = self.http.request(method, route, path=path, **kwargs)
        with decoding(method, route):
            return job_from_api(json_body(response, method, route))


def _job_values(
    fields: Mapping[str, Json], runtime_parameter_values: RuntimeValues | None
) -> dict[str, Json]:
    values: dict[str, Json] = {k: v for k, v in fields.items() if v is not None}
    if runtime_parameter_values is not None:
        values["runtimeParameterValues"] = json.dumps(
            [dict(v) for v in runtime_parameter_values], separators=(",", ":")
        )
    return values


def _job(raw: Any) -> LiveJob:
    with decoding("GET", routes.JOBS):
        return job_from_api(raw)
