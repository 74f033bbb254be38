"""The DataRobot client (the only user of requests) and the live snapshot reader.

Public surface (what the engine and service import)::

    DataRobotClient(settings, *, on_request=None, session=None, pool_size=32, page_memo=None)
    PageMemo()                                # list pages decoded, kept from a run to the next
    read_snapshot(client, *, read_jobs=True, page_size=None) -> LiveSnapshot
    read_sharing(client, model_ids, job_ids, *, concurrency=8) -> (model_sharing, job_sharing)
    with_sharing(snapshot, model_sharing, job_sharing) -> LiveSnapshot
    read_gates(client, [(model_id, version_id)], *, concurrency=8) -> {model_id: LiveGates}
    FileUpload(source, path)                  # a file to send in a version or job
    RequestCounter()                          # an on_request hook that tallies attempts
    errors: ApiError and its subclasses (see controller.remote.apierrors)
"""

from controller.remote.apierrors import (
    ApiConnectionError,
    ApiError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OperationFailedError,
    OutcomeUnknownError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
    UnauthorizedError,
    UnexpectedResponseError,
    ValidationError,
)
from controller.remote.client import AccountInfo, DataRobotClient
from controller.remote.jobs import JobFile
from controller.remote.modeltests import ModelTestResult
from controller.remote.multipart import FileUpload
from controller.remote.pages import PageMemo
from controller.remote.requestcounts import RequestCounter, RequestHook, RequestTally
from controller.remote.snapshots import read_gates, read_sharing, read_snapshot, with_sharing

__all__ = [
    "AccountInfo",
    "ApiConnectionError",
    "ApiError",
    "ConflictError",
    "DataRobotClient",
    "FileUpload",
    "ForbiddenError",
    "JobFile",
    "ModelTestResult",
    "NotFoundError",
    "OperationFailedError",
    "OutcomeUnknownError",
    "PageMemo",
    "RateLimitedError",
    "RequestCounter",
    "RequestHook",
    "RequestRejectedError",
    "RequestTally",
    "ServerError",
    "UnauthorizedError",
    "UnexpectedResponseError",
    "ValidationError",
    "read_gates",
    "read_sharing",
    "read_snapshot",
    "with_sharing",
]
