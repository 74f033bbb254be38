"""The one exception route handlers raise to answer with an API error.

DataRobot answers errors with JSON ``{"message": ..., "errors": {field: msg}?}`` and
``Content-Type: application/json``; :class:`ApiError` carries exactly that plus any
extra top-level keys and headers, and the app turns it into the response.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answer: status, message, per-field errors, extra body keys, headers."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer."""
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def not_found(what: str) -> ApiError:
    """A 404 for a missing (or invisible) object, named the way DataRobot names it."""
    return ApiError(404, f"{what} not found")


def invalid(errors: dict[str, str], message: str = "Invalid field data") -> ApiError:
    """A 422 listing the offending fields."""
    return ApiError(422, message, errors)


def bad_query(errors: dict[str, str]) -> ApiError:
    """A 400 for query parameters the route does not accept."""
    return ApiError(400, "Query parameters are invalid", errors)
