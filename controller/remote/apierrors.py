"""What can go wrong talking to DataRobot, one class per meaning.

    ApiError (controller.errors.DrGitopsError)
    ├── ApiConnectionError      nothing reached the server (DNS, refused, TLS, connect timeout)
    ├── OutcomeUnknownError     a write was sent and may or may not have happened
    │                           (5xx, dropped connection, read timeout after sending)
    ├── UnauthorizedError       401: the token is missing, wrong or expired
    ├── ForbiddenError          403: the token's user may not do this
    ├── NotFoundError           404
    ├── ConflictError           409: the object's state forbids it (deployed, last owner, ...)
    ├── ValidationError         422: the request was invalid; ``errors`` holds the per-field reasons
    ├── RateLimitedError        429 after the retry budget was spent; ``retry_after`` seconds
    ├── RequestRejectedError    any other 4xx (400, 405, 413, ...)
    ├── ServerError             5xx on a read, after the retry budget was spent
    ├── UnexpectedResponseError the answer was not what the API promises (not JSON, no id, ...)
    └── OperationFailedError    an async operation ended in ERROR/ABORTED, or ran past its deadline

Every error carries the method, the route template (``/api/v2/customModels/{customModelId}/``),
the status (``None`` when there was no answer), the server's message and request ID, and a
message that says what to do. No error ever holds the token: messages are built from route
templates and scrubbed by the log redactor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from controller.errors import DrGitopsError
from controller.logs import redactor

_MAX_MESSAGE = 600
_MAX_FIELDS = 10
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class ApiError(DrGitopsError):
    """DataRobot answered with an error, or could not be asked."""

    hint: ClassVar[str] = "run again; if it keeps failing, check the DataRobot status page"

    def __init__(
        self,
        *,
        method: str,
        route: str,
        status: int | None = None,
        server_message: str | None = None,
        request_id: str | None = None,
        errors: Mapping[str, Any] | None = None,
        detail: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.method = method
        self.attempts = attempts
        self.route = route
        self.status = status
        self.server_message = _clean(server_message)
        self.request_id = _clean(request_id)
        self.errors: dict[str, str] = {
            str(k): _clean(_flatten(v)) or "" for k, v in (errors or {}).items()
        }
        self.detail = _clean(detail)
        super().__init__(str(self))

    def __str__(self) -> str:
        answered = f"answered {self.status}" if self.status is not None else "got no answer"
        text = f"DataRobot API {self.method} {self.route} {answered}"
        tries = f"after {self.attempts} attempts" if self.attempts > 1 else None
        said = "; ".join(p for p in (self.detail, tries, self.server_message) if p)
        if said:
            text += f": {said}"
        if self.errors:
            shown = [f"{k}: {v}" for k, v in sorted(self.errors.items())[:_MAX_FIELDS]]
            if len(self.errors) > _MAX_FIELDS:
                shown.append(f"and {len(self.errors) - _MAX_FIELDS} more")
            text += " (" + "; ".join(shown) + ")"
        if self.request_id:
            text += f" [request ID {self.request_id}]"
        advice = self.advice()
        return f"{text}. {advice[0].upper()}{advice[1:]}."

    def advice(self) -> str:
        """What the user should do next (the class's ``hint`` unless the case says more)."""
        return self.hint


class ApiConnectionError(ApiError):
    hint = (
        "check the endpoint (--endpoint, DATAROBOT_ENDPOINT or drconfig.yaml), the network "
        "or proxy (HTTPS_PROXY) and TLS settings "
        "(DATAROBOT_SSL_VERIFY); nothing was changed"
    )


class OutcomeUnknownError(ApiError):
    hint = (
        "the change may or may not have been made; run again: dr-gitops re-reads the live "
        "state before writing, so it will not make it twice"
    )


class UnauthorizedError(ApiError):
    hint = "check that DATAROBOT_API_TOKEN (or `token` in drconfig.yaml) is a valid API key for DATAROBOT_ENDPOINT"


class ForbiddenError(ApiError):
    hint = (
        "the token's user lacks permission for this: share the object with that user "
        "or use a token of a user who may do it"
    )


class NotFoundError(ApiError):
    hint = "the object may have been deleted meanwhile; run plan again to see the current state"

    def advice(self) -> str:
        if self.method == "GET" and "{" not in self.route:  # every DataRobot has these lists
            return (
                "this is not the API of a DataRobot installation: check DATAROBOT_ENDPOINT "
                "(or `endpoint` in drconfig.yaml), e.g. https://app.datarobot.com/api/v2"
            )
        return self.hint


class ConflictError(ApiError):
    hint = (
        "the object's current state forbids this change (it may be deployed, or the change "
        "would leave it without an owner); change it in DataRobot or adjust the manifest"
    )


class ValidationError(ApiError):
    hint = "fix the fields named above in the manifest (or its files) and run again"


class RateLimitedError(ApiError):
    hint = "DataRobot is rate limiting this token; run again later or lower the concurrency"

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)


class RequestRejectedError(ApiError):
    hint = "the request was refused as sent; check the manifest against the API reference"


class ServerError(ApiError):
    hint = (
        "DataRobot failed to answer; run again later, and quote the request ID "
        "to DataRobot support if it persists"
    )


class UnexpectedResponseError(ApiError):
    hint = (
        "the server's answer did not match the DataRobot API; check that DATAROBOT_ENDPOINT "
        "points at DataRobot (…/api/v2) and not at a proxy or login page"
    )


class OperationFailedError(ApiError):
    hint = "see the message above; fix the cause and run again"


_BY_STATUS: dict[int, type[ApiError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitedError,
}


def error_class_for(method: str, status: int) -> type[ApiError]:
    """The error class for an error status; a 5xx on a write means "outcome unknown"."""
    if status >= 500:
        return OutcomeUnknownError if method in WRITE_METHODS else ServerError
    return _BY_STATUS.get(status, RequestRejectedError)


def parse_error_body(text: str, content_type: str) -> tuple[str | None, Mapping[str, Any] | None]:
    """The server's ``message`` and per-field ``errors`` from an error body.

    DataRobot answers ``{"message": ..., "errors": {field: msg}}``; a proxy in between may
    answer HTML or plain text, of which the first line is kept.
    """
    if "json" in content_type.lower():
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict):
            message = body.get("message") or body.get("error") or body.get("detail")
            errors = body.get("errors")
            return (
                str(message) if message is not None else None,
                errors if isinstance(errors, dict) else None,
            )
    first = text.strip().splitlines()[0] if text.strip() else ""
    if "html" in content_type.lower():
        return (None, None)
    return (first or None, None)


def _flatten(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_flatten(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flatten(v)}" for k, v in value.items())
    return str(value)


def _clean(text: str | None) -> str | None:
    if not text:
        return None
    text = redactor.scrub(" ".join(str(text).split()))
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
