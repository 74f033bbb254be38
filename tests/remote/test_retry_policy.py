"""The retry policy, decision by decision, with a scripted session and a recorded clock.

Integration tests against the emulator (test_faults.py) show the same over real HTTP; these
cover what a server cannot easily be made to do (TLS failures, hour-long ``Retry-After``)
and pin the exact waits.
"""

from __future__ import annotations

from http.client import RemoteDisconnected
from pathlib import Path
from typing import Any

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from controller.remote import RequestCounter, apierrors
from controller.remote.multipart import FileUpload, multipart_body
from controller.remote.transport import Transport, build_session
from controller.settings import ApiSettings
from tests.remote.fakes import FakeSession, response

BASE = "https://dr.example.com/api/v2"
TOKEN = "policy-test-token-9876"
ROUTE = "customModels/{customModelId}/"
TEMPLATE = "/api/v2/customModels/{customModelId}/"


def _settings(**overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "endpoint": BASE,
        "token": TOKEN,
        "max_retries": 3,
        "max_retry_time": 60.0,
        "backoff_factor": 0.5,
        "backoff_jitter": 0.0,
        "backoff_max": 3.0,
        **overrides,
    }
    return ApiSettings(**values)


class Harness:
    def __init__(self, *steps: Any, **settings: Any) -> None:
        self.session = FakeSession.of(*steps)
        self.sleeps: list[float] = []
        self.counter = RequestCounter()
        self.http = Transport(
            _settings(**settings),
            on_request=self.counter,
            session=self.session,  # type: ignore[arg-type]
            sleep=self.sleeps.append,
        )

    def call(self, method: str = "GET", **kwargs: Any) -> requests.Response:
        return self.http.request(method, ROUTE, path={"customModelId": "m1"}, **kwargs)

    def outcomes(self) -> list[str]:
        return [
            o for (_, _, o), n in sorted(self.counter.snapshot().counts.items()) for _ in range(n)
        ]


def _refused() -> requests.ConnectionError:
    reason = NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] Connection refused"
    )  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, BASE, reason))  # type: ignore[arg-type]


def _dropped() -> requests.ConnectionError:
    return requests.ConnectionError(
        ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection"))
    )


def test_get_is_retried_on_503_with_exponential_backoff() -> None:
    h = Harness(response(503), response(503), response(503), response(200, {"id": "m1"}))
    assert h.call().json() == {"id": "m1"}
    # The first resend after a random part of the factor (urllib3 would resend at once, all
    # clients together), then factor * 2**(n-1).
    assert 0.0 <= h.sleeps[0] <= 0.5
    assert h.sleeps[1:] == [1.0, 2.0]


def test_backoff_is_capped_and_jittered() -> None:
    h = Harness(
        *[response(502)] * 4, response(200, {}), max_retries=4, backoff_jitter=0.25, backoff_max=1.2
    )
    h.call()
    assert 0.0 <= h.sleeps[0] <= 0.5
    assert all(1.0 <= s <= 1.2 for s in h.sleeps[1:])


def test_get_gives_up_after_the_retry_count_with_a_server_error() -> None:
    h = Harness(
        *[response(503, {"message": "busy"}, headers={"X-DataRobot-Request-ID": "r-9"})] * 4
    )
    with pytest.raises(apierrors.ServerError) as caught:
        h.call()
    assert caught.value.attempts == 4
    assert caught.value.request_id == "r-9"
    assert "after 4 attempts" in str(caught.value)
    assert "busy" in str(caught.value)
    assert len(h.sleeps) == 3


def test_retry_after_is_honoured_instead_of_backoff() -> None:
    h = Harness(response(429, headers={"Retry-After": "2"}), response(200, {}))
    h.call()
    assert h.sleeps == [2.0]


def test_a_post_is_resent_after_429_because_the_server_did_not_act() -> None:
    h = Harness(response(429, headers={"Retry-After": "1"}), response(201, {"id": "new"}))
    assert h.call("POST", json={"name": "x"}).status_code == 201
    assert [m for m, _, _ in h.session.sent] == ["POST", "POST"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_answered_5xx_is_never_resent(status: int) -> None:
    h = Harness(response(status, {"message": "oops"}))
    with pytest.raises(apierrors.OutcomeUnknownError) as caught:
        h.call("POST", json={"name": "x"})
    assert caught.value.status == status
    assert len(h.session.sent) == 1
    assert h.sleeps == []


def test_a_post_is_resent_when_connecting_timed_out() -> None:
    h = Harness(requests.exceptions.ConnectTimeout("timed out"), response(201, {}))
    assert h.call("POST", json={}).status_code == 201
    assert h.outcomes() == ["201", "connect_timeout"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_refused_connection_fails_at_once_naming_the_endpoint_and_its_source(
    method: str,
) -> None:
    h = Harness(*[_refused()] * 4, source="the environment")
    with pytest.raises(apierrors.ApiConnectionError) as caught:
        h.call(method, json={})
    assert h.outcomes() == ["connect_error"]
    assert h.sleeps == []
    message = str(caught.value)
    assert f"Connection refused) at {BASE} (the endpoint from the environment)" in message
    assert "\n" not in message


@pytest.mark.parametrize("failure", [_dropped(), requests.ReadTimeout("read timed out")])
def test_a_write_whose_answer_was_lost_is_outcome_unknown(failure: Exception) -> None:
    h = Harness(failure)
    with pytest.raises(apierrors.OutcomeUnknownError) as caught:
        h.call("PATCH", json={})
    assert caught.value.status is None
    assert len(h.session.sent) == 1


@pytest.mark.parametrize("failure", [_dropped(), requests.ReadTimeout("read timed out")])
def test_a_get_whose_answer_was_lost_is_retried(failure: Exception) -> None:
    h = Harness(failure, response(200, {}))
    h.call()
    assert len(h.session.sent) == 2


def test_an_idempotent_patch_is_retried_like_a_get() -> None:
    h = Harness(response(503), _dropped(), response(200, {}))
    h.call("PATCH", json={"name": "x"}, idempotent=True)
    assert len(h.session.sent) == 3


def test_a_delete_is_retried_and_ends_outcome_unknown_when_it_never_answers() -> None:
    h = Harness(*[_dropped()] * 4)
    with pytest.raises(apierrors.OutcomeUnknownError):
        h.call("DELETE")
    assert len(h.session.sent) == 4


def test_an_unreachable_server_is_a_connection_error_for_reads() -> None:
    h = Harness(*[_refused()] * 4)
    with pytest.raises(apierrors.ApiConnectionError) as caught:
        h.call()
    assert "Connection refused" in str(caught.value)
    assert "DATAROBOT_ENDPOINT" in str(caught.value)


def test_connect_timeouts_are_retried_within_max_retries() -> None:
    h = Harness(*[requests.exceptions.ConnectTimeout("timed out")] * 5, max_retries=2)
    with pytest.raises(apierrors.ApiConnectionError) as caught:
        h.call()
    assert caught.value.attempts == 3
    assert h.outcomes() == ["connect_timeout"] * 3


def test_tls_failures_are_not_retried_and_point_at_ssl_settings() -> None:
    h = Harness(requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(apierrors.ApiConnectionError) as caught:
        h.call()
    assert "DATAROBOT_SSL_VERIFY" in str(caught.value)
    assert h.outcomes() == ["tls_error"]


def test_a_retry_after_beyond_the_time_budget_fails_at_once() -> None:
    h = Harness(response(429, {"message": "slow down"}, headers={"Retry-After": "3600"}))
    with pytest.raises(apierrors.RateLimitedError) as caught:
        h.call()
    assert caught.value.retry_after == 3600
    assert "asked to wait 3600s more" in str(caught.value)
    assert h.sleeps == []


def test_the_total_time_budget_bounds_the_backoff() -> None:
    h = Harness(
        *[response(503)] * 10,
        max_retries=9,
        backoff_factor=4.0,
        backoff_max=100.0,
        max_retry_time=10.0,
    )
    with pytest.raises(apierrors.ServerError):
        h.call()
    assert sum(h.sleeps) <= 10.0


def test_multipart_bodies_are_reopened_for_a_resend(tmp_path: Path) -> None:
    (tmp_path / "custom.py").write_text("print(1)\n")
    sent: list[bytes] = []

    def capture(status: int) -> Any:
        def step(method: str, url: str, kwargs: dict[str, Any]) -> requests.Response:
            sent.append(kwargs["data"].read())
            return response(status, {"id": "v"})

        return step

    h = Harness(capture(429), capture(201))
    body = multipart_body(
        [FileUpload(tmp_path / "custom.py", "custom.py")], {"isMajorUpdate": "false"}
    )
    h.call("POST", body=body)
    assert len(sent) == 2
    assert b"print(1)" in sent[1]
    assert sent[0].split(b"\r\n", 1)[1] == sent[1].split(b"\r\n", 1)[1] or b"print(1)" in sent[0]


def test_the_hook_sees_every_attempt_with_route_template_and_outcome() -> None:
    h = Harness(response(503), _dropped(), response(200, {}))
    h.call()
    tally = h.counter.snapshot()
    assert tally.total == 3
    assert tally.by_route() == {f"GET {TEMPLATE}": 3}
    assert tally.by_outcome() == {"200": 1, "503": 1, "connection_dropped": 1}


def test_a_failing_hook_does_not_break_requests() -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("metrics down")

    http = Transport(_settings(), on_request=broken, session=FakeSession.of(response(200, {})))  # type: ignore[arg-type]
    assert http.request("GET", "customModels/").status_code == 200


def test_path_values_are_url_quoted() -> None:
    h = Harness(response(200, {}))
    h.http.request("GET", ROUTE, path={"customModelId": "a/b c"})
    assert h.session.sent[0][1] == f"{BASE}/customModels/a%2Fb%20c/"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{BASE}/customModels/?offset=10", f"{BASE}/customModels/?offset=10"),
        ("http://internal:8080/api/v2/customModels/?offset=10", f"{BASE}/customModels/?offset=10"),
        ("https://evil.example.com/api/v2/status/1/", f"{BASE}/status/1/"),
    ],
)
def test_links_to_another_origin_are_rebased_on_our_endpoint(url: str, expected: str) -> None:
    http = Transport(_settings(), session=FakeSession.of())  # type: ignore[arg-type]
    assert http.own_url(url) == expected


def test_a_link_outside_the_api_is_refused() -> None:
    http = Transport(_settings(), session=FakeSession.of())  # type: ignore[arg-type]
    with pytest.raises(apierrors.UnexpectedResponseError):
        http.own_url("https://evil.example.com/login")


def test_the_token_is_in_no_error_message() -> None:
    failures = [
        response(401, {"message": f"bad token {TOKEN}"}),
        response(503, text=f"<html>{TOKEN}</html>"),
        _dropped(),
        requests.exceptions.SSLError(f"Authorization: Bearer {TOKEN}"),
    ]
    for failure in failures:
        h = Harness(failure, max_retries=0)
        with pytest.raises(apierrors.ApiError) as caught:
            h.call("POST")
        assert TOKEN not in str(caught.value)
        assert TOKEN not in repr(caught.value.__dict__)


def test_the_session_shows_no_token_in_its_repr_but_sends_it() -> None:
    session = build_session(_settings())
    assert TOKEN not in repr(session.auth)
    assert TOKEN not in repr(session.__dict__)
    prepared = session.prepare_request(requests.Request("GET", f"{BASE}/version/"))
    assert prepared.headers["Authorization"] == f"Bearer {TOKEN}"
    assert prepared.headers["User-Agent"].startswith("dr-gitops/")
