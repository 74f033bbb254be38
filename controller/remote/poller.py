"""Waiting for async operations: 202 + ``Location`` of a status, polled until done.

A status answers 200 with ``status`` (``INITIALIZED``, ``RUNNING``, ...) while the work
runs and 303 with the finished resource's ``Location`` when done; ``ERROR`` and ``ABORTED``
mean it failed. Redirects are not followed, so the 303 is seen. Polls start fast and slow
down (0.1 s growing to 2 s) until a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from controller.remote import routes
from controller.remote.apierrors import OperationFailedError, UnexpectedResponseError
from controller.remote.transport import Transport, json_body

FAILED = frozenset({"ERROR", "ABORTED", "FAILED"})
FIRST_INTERVAL = 0.1
MAX_INTERVAL = 2.0


def wait_for_status(
    http: Transport,
    location: str,
    *,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Poll ``location`` until done; the absolute URL of the finished resource, if any."""
    template = routes.API_PREFIX + routes.STATUS
    limit = timeout if timeout is not None else http.settings.async_timeout
    deadline = time.monotonic() + limit
    interval = FIRST_INTERVAL
    url = http.own_url(location)
    while True:
        response = http.request("GET", routes.STATUS, url=url, allow_redirects=False)
        if 300 <= response.status_code < 400:
            target = response.headers.get("Location")
            return http.own_url(target) if target else None
        body = json_body(response, "GET", routes.STATUS)
        status = str(body.get("status") or "").upper() if isinstance(body, dict) else ""
        if not status:
            raise UnexpectedResponseError(
                method="GET", route=template, status=response.status_code, detail="no `status`"
            )
        if status in FAILED:
            raise OperationFailedError(
                method="GET",
                route=template,
                status=response.status_code,
                server_message=body.get("message"),
                detail=f"the operation ended {status}",
            )
        if status == "COMPLETED":
            target = response.headers.get("Location")
            return http.own_url(target) if target else None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise OperationFailedError(
                method="GET",
                route=template,
                status=response.status_code,
                detail=f"still {status} after {limit:g}s; it may finish later",
            )
        sleep(min(interval, remaining))
        interval = min(interval * 1.5, MAX_INTERVAL)
