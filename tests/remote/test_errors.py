"""API errors are typed by meaning, carry what support needs, and say what to do."""

from __future__ import annotations

import pytest

from controller.errors import DrGitopsError
from controller.remote import apierrors
from controller.remote.apierrors import error_class_for, parse_error_body


@pytest.mark.parametrize(
    ("method", "status", "cls"),
    [
        ("GET", 401, apierrors.UnauthorizedError),
        ("GET", 403, apierrors.ForbiddenError),
        ("GET", 404, apierrors.NotFoundError),
        ("DELETE", 409, apierrors.ConflictError),
        ("POST", 422, apierrors.ValidationError),
        ("GET", 429, apierrors.RateLimitedError),
        ("POST", 413, apierrors.RequestRejectedError),
        ("GET", 400, apierrors.RequestRejectedError),
        ("GET", 503, apierrors.ServerError),
        ("GET", 500, apierrors.ServerError),
        ("POST", 503, apierrors.OutcomeUnknownError),
        ("PATCH", 500, apierrors.OutcomeUnknownError),
        ("DELETE", 502, apierrors.OutcomeUnknownError),
    ],
)
def test_each_status_has_its_error_class(method: str, status: int, cls: type) -> None:
    assert error_class_for(method, status) is cls


def test_every_api_error_is_a_dr_gitops_error() -> None:
    assert issubclass(apierrors.OutcomeUnknownError, apierrors.ApiError)
    assert issubclass(apierrors.ApiError, DrGitopsError)


def test_a_validation_error_names_route_status_fields_request_id_and_next_step() -> None:
    error = apierrors.ValidationError(
        method="POST",
        route="/api/v2/customModels/",
        status=422,
        server_message="Invalid field data",
        request_id="req-123",
        errors={"targetType": "not a valid choice", "name": ["too long", "required"]},
    )
    text = str(error)
    assert text.startswith(
        "DataRobot API POST /api/v2/customModels/ answered 422: Invalid field data"
    )
    assert "name: too long; required" in text
    assert "targetType: not a valid choice" in text
    assert "[request ID req-123]" in text
    assert text.endswith("Fix the fields named above in the manifest (or its files) and run again.")
    assert error.errors["targetType"] == "not a valid choice"


def test_an_outcome_unknown_error_tells_the_user_a_rerun_is_safe() -> None:
    error = apierrors.OutcomeUnknownError(
        method="POST", route="/api/v2/customModels/", detail="connection dropped", attempts=1
    )
    assert "got no answer: connection dropped" in str(error)
    assert "may or may not have been made; run again" in str(error)


def test_attempts_are_mentioned_when_there_were_several() -> None:
    error = apierrors.ServerError(
        method="GET", route="/api/v2/customModels/", status=503, attempts=5
    )
    assert "after 5 attempts" in str(error)


def test_server_messages_are_scrubbed_of_known_secrets_and_shortened() -> None:
    from controller.logs import redactor

    redactor.register("leaky-token-4321")
    error = apierrors.RequestRejectedError(
        method="GET",
        route="/api/v2/x/",
        status=400,
        server_message="bad header Authorization: Bearer leaky-token-4321 " + "x" * 2000,
    )
    assert "leaky-token-4321" not in str(error)
    assert len(error.server_message or "") <= 600


def test_a_request_id_echoing_the_token_is_scrubbed_too() -> None:
    from controller.logs import redactor

    redactor.register("echoed-token-8765")
    error = apierrors.ServerError(
        method="GET", route="/api/v2/x/", status=500, request_id="Bearer echoed-token-8765"
    )
    assert "echoed-token-8765" not in str(error)
    assert "echoed-token-8765" not in (error.request_id or "")


@pytest.mark.parametrize(
    ("text", "content_type", "expected"),
    [
        (
            '{"message": "Not found", "errors": {"id": "bad"}}',
            "application/json",
            ("Not found", {"id": "bad"}),
        ),
        ('{"error": "oops"}', "application/json; charset=utf-8", ("oops", None)),
        ("<html><body>502 Bad Gateway</body></html>", "text/html", (None, None)),
        ("upstream timed out\nmore", "text/plain", ("upstream timed out", None)),
        ("not json", "application/json", ("not json", None)),
        ("", "application/json", (None, None)),
    ],
)
def test_error_bodies_are_read_whatever_their_shape(
    text: str, content_type: str, expected: tuple[object, object]
) -> None:
    assert parse_error_body(text, content_type) == expected


def test_a_long_list_of_field_errors_is_cut_short() -> None:
    problems = {f"data.{i}.username": "given more than once" for i in range(99)}
    error = apierrors.ValidationError(method="PATCH", route="/r/", status=422, errors=problems)
    assert "and 89 more" in str(error)
    assert len(error.errors) == 99


def test_a_missing_top_level_list_points_at_the_endpoint_not_at_a_deleted_object() -> None:
    wrong = apierrors.NotFoundError(method="GET", route="/api/v2/customModels/", status=404)
    assert "check DATAROBOT_ENDPOINT" in str(wrong)
    gone = apierrors.NotFoundError(
        method="GET", route="/api/v2/customModels/{customModelId}/", status=404
    )
    assert "deleted meanwhile" in str(gone)
