"""Whatever arrives at the webhook endpoints, the answer is a clean 2xx or 4xx, and only a
delivery signed with the secret (GitHub HMAC) or carrying it (GitLab token) triggers a run.

Three layers: the pure verdict functions with drawn headers, bodies and secrets; the WSGI
application with drawn environs (methods, paths, broken ``Content-Length``, odd content
types); and the real service over a socket with malformed HTTP (broken chunking, lying
lengths, huge headers, bytes that are not text).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import socket
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.service.endpoints import EndpointConfig, ServiceApp
from controller.service.metrics import ServiceMetrics
from controller.service.runs import Trigger
from controller.service.webhooks import github_verdict, gitlab_verdict
from tests.fixtures.reliability import Figures
from tests.fixtures.service import WEBHOOK_SECRET, FakeRun, ServiceStarter

MAIN = "refs/heads/main"
HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60)
PAYLOADS = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda ref, after, deleted: json.dumps({"ref": ref, "after": after, "deleted": deleted}),
        st.sampled_from([MAIN, "refs/heads/dev", "", "refs/tags/v1"]) | st.text(max_size=20),
        st.sampled_from(["0" * 40, "a" * 40, None, 5]) | st.text(max_size=41),
        st.sampled_from([True, False, None, "yes"]),
    ).map(str.encode),
    st.sampled_from(
        [
            b"[" * 100_000,
            b"1e999999",
            b"NaN",
            b'{"ref": 1}',
            b'{"ref": "refs/heads/main"}',
            b"\xef\xbb\xbf{}",
            "{}".encode("utf-16"),
            b'{"a": 1, "a": 2}',
            b"null",
            b"\x00" * 50,
            b"payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%7D",
            b"payload=",
            b"payload=%ZZ",
            b"a=1&a=2&payload=[]",
        ]
    ),
)
SIGNATURE_MODES = [
    "right",
    "other-secret",
    "missing",
    "garbage",
    "truncated",
    "upper",
    "sha1",
    "padded",
    "empty",
]


def _signature(mode: str, body: bytes, secret: str, junk: str) -> str | None:
    right = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "right": right,
        "other-secret": "sha256=" + hmac.new(b"not-it", body, hashlib.sha256).hexdigest(),
        "missing": None,
        "garbage": junk,
        "truncated": right[:-1],
        "upper": right.upper(),
        "sha1": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        "padded": f"  {right} ",
        "empty": "",
    }[mode]


@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, Any]:
    secret = draw(st.text(min_size=1, max_size=40) | st.just(WEBHOOK_SECRET))
    body = draw(PAYLOADS)
    mode = draw(st.sampled_from(SIGNATURE_MODES))
    headers = {
        k.lower(): v for k, v in draw(st.dictionaries(HEADER_TEXT, HEADER_TEXT, max_size=3)).items()
    }
    signature = _signature(mode, body, secret, draw(HEADER_TEXT))
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    headers["x-github-event"] = draw(st.sampled_from(["push", "ping", "issues", ""]) | HEADER_TEXT)
    headers["content-type"] = draw(
        st.sampled_from(
            [
                "application/json",
                "application/x-www-form-urlencoded",
                "APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8",
                "",
            ]
        )
        | HEADER_TEXT
    )
    token = draw(
        st.just(secret) | st.sampled_from([secret + " ", "", secret.upper()]) | HEADER_TEXT
    )
    headers["x-gitlab-token"] = token
    headers["x-gitlab-event"] = draw(st.sampled_from(["Push Hook", "Tag Push Hook", "Note Hook"]))
    return {"secret": secret, "body": body, "headers": headers, "mode": mode}


def _authentic_github(delivery: dict[str, Any]) -> bool:
    expected = (
        "sha256="
        + hmac.new(delivery["secret"].encode(), delivery["body"], hashlib.sha256).hexdigest()
    )
    return delivery["headers"].get("x-hub-signature-256", "").strip() == expected


def _check_verdicts(delivery: dict[str, Any], counts: Counter[str]) -> None:
    secret, body, headers = delivery["secret"], delivery["body"], delivery["headers"]
    github = github_verdict(headers, body, secret=secret, tracked_ref=MAIN)
    gitlab = gitlab_verdict(headers, body, secret=secret, tracked_ref=MAIN)
    counts["cases"] += 1
    counts[f"github {github.status}"] += 1
    counts[f"gitlab {gitlab.status}"] += 1
    for verdict in (github, gitlab):
        assert verdict.status in (200, 202, 400, 401), verdict
        json.dumps(verdict.to_json())
    if not _authentic_github(delivery):
        assert (github.status, github.trigger) == (401, False), (delivery, github)
    if headers["x-gitlab-token"] != secret:
        assert (gitlab.status, gitlab.trigger) == (401, False), (delivery, gitlab)


def _verdict_property(examples: int, *, derandomize: bool) -> Counter[str]:
    counts: Counter[str] = Counter()

    @settings(
        derandomize=derandomize,
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(deliveries())
    def run(delivery: dict[str, Any]) -> None:
        _check_verdicts(delivery, counts)

    run()
    return counts


def test_verdicts_are_401_unless_signed_and_never_5xx(figures: Figures) -> None:
    counts = _verdict_property(500, derandomize=True)
    figures(f"webhook verdict fuzz: {dict(sorted(counts.items()))}")
    assert counts["github 200"] > 0  # the happy paths were drawn too
    assert counts["gitlab 200"] > 0


@pytest.mark.slow
def test_verdicts_are_401_unless_signed_and_never_5xx_long(figures: Figures) -> None:
    counts = _verdict_property(20_000, derandomize=False)
    figures(f"webhook verdict fuzz (long): {dict(sorted(counts.items()))}")


# --- the WSGI application ----------------------------------------------------------------


class _Triggers:
    def __init__(self) -> None:
        self.seen: list[Trigger] = []

    def __call__(self, trigger: Trigger, revision: str | None = None) -> Any:
        self.seen.append(trigger)
        return "started"


def _app(triggers: _Triggers, limit: int = 4096) -> ServiceApp:
    return ServiceApp(
        EndpointConfig(webhook_secret=WEBHOOK_SECRET, tracked_ref=MAIN, max_body_bytes=limit),
        metrics=ServiceMetrics(),
        request_run=triggers,
        readiness=lambda: (True, {"ready": True}),
        status=lambda: {"runs": []},
    )


@st.composite
def environs(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    delivery = draw(deliveries())
    delivery["secret"] = WEBHOOK_SECRET
    body = delivery["body"]
    mode = delivery["mode"]
    signature = _signature(mode, body, WEBHOOK_SECRET, "junk")
    headers = dict(delivery["headers"])
    headers.pop("x-hub-signature-256", None)
    if signature is not None:
        headers["x-hub-signature-256"] = signature
    path = draw(
        st.one_of(
            st.just("/webhooks/github"),
            st.just("/webhooks/gitlab"),
            st.sampled_from(
                [
                    "/webhooks/github/",
                    "/webhooks/../status",
                    "/WEBHOOKS/GITHUB",
                    "",
                    "/metrics",
                    "/status",
                    "/healthz",
                    "/readyz",
                    "/%00",
                ]
            )
            | HEADER_TEXT,
        )
    )
    length = draw(
        st.sampled_from(
            [
                str(len(body)),
                "",
                "-1",
                "abc",
                "99999999999999999999",
                "0",
                str(len(body) + 5),
                " 12 ",
            ]
        )
    )
    environ: dict[str, Any] = {
        "REQUEST_METHOD": draw(
            st.just("POST") | st.sampled_from(["GET", "PUT", "HEAD", "DELETE", "X", "post"])
        ),
        "PATH_INFO": path,
        "CONTENT_LENGTH": length,
        "CONTENT_TYPE": headers.pop("content-type", ""),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "QUERY_STRING": draw(st.sampled_from(["", "x=1", "%%%"])),
        "wsgi.url_scheme": "http",
    }
    for key, value in headers.items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    authentic = path in ("/webhooks/github", "/webhooks/gitlab") and (
        (
            path.endswith("github")
            and signature is not None
            and signature.strip() == _signature("right", body, WEBHOOK_SECRET, "")
        )
        or (path.endswith("gitlab") and headers["x-gitlab-token"] == WEBHOOK_SECRET)
    )
    return environ, authentic


def _call(app: ServiceApp, environ: dict[str, Any]) -> int:
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    body: Iterable[bytes] = app(environ, start_response)  # type: ignore[arg-type]
    b"".join(body)
    return int(status[0].split()[0])


def test_the_wsgi_app_answers_any_request_with_2xx_or_4xx(figures: Figures) -> None:
    counts: Counter[str] = Counter()

    @settings(
        max_examples=400,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(environs())
    def run(case: tuple[dict[str, Any], bool]) -> None:
        environ, authentic = case
        triggers = _Triggers()
        status = _call(_app(triggers), environ)
        counts["cases"] += 1
        counts[str(status)] += 1
        assert 200 <= status < 500, (status, environ)
        if triggers.seen:
            assert authentic, f"a run was triggered by {environ}"

    run()
    figures(f"webhook WSGI fuzz: {dict(sorted(counts.items()))}")


# --- the real service over a socket ------------------------------------------------------


def _raw(port: int, data: bytes, timeout: float = 5.0) -> int | None:
    """Send raw bytes; the status code of the answer (``None`` when closed unanswered)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        try:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close early (e.g. a refused huge body); read its answer
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    if not received.startswith(b"HTTP/"):
        return None
    return int(received.split(b" ", 2)[1])


def _signed(body: bytes) -> str:
    return "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()


def _malformed_requests() -> dict[str, bytes]:
    push = json.dumps({"ref": "refs/heads/dev", "after": "a" * 40}).encode()
    sig = _signed(push).encode()
    head = b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"
    return {
        "chunked, bad size": head + b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
        "chunked, signed": head
        + b"X-Hub-Signature-256: "
        + sig
        + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(push):x}".encode()
        + b"\r\n"
        + push
        + b"\r\n0\r\n\r\n",
        "length lies (short body)": head + b"Content-Length: 500\r\n\r\n{}",
        "negative length": head + b"Content-Length: -5\r\n\r\n{}",
        "two lengths": head + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        "huge length": head + b"Content-Length: 999999999999\r\n\r\n{}",
        "over the limit": head
        + b"X-Hub-Signature-256: x\r\nContent-Length: 70000\r\n\r\n"
        + b"x" * 70000,
        "chunked over the limit": head
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + (b"8000\r\n" + b"x" * 0x8000 + b"\r\n") * 3
        + b"0\r\n\r\n",
        "huge header": head + b"X-Junk: " + b"j" * 300_000 + b"\r\n\r\n",
        "binary header": head + b"X-Hub-Signature-256: \xff\xfe\x00\r\nContent-Length: 2\r\n\r\n{}",
        "no host, HTTP/1.0": b"POST /webhooks/gitlab HTTP/1.0\r\nX-Gitlab-Token: \xff\r\n\r\n",
        "bad request line": b"POST\r\n\r\n",
        "garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,
        "absolute URI": b"POST http://evil/webhooks/github HTTP/1.1\r\nHost: x\r\n\r\n",
        "dot segments": b"POST /webhooks/../webhooks/github HTTP/1.1\r\nHost: x\r\n\r\n",
        "encoded path": b"POST /webhooks/%67ithub HTTP/1.1\r\nHost: x\r\n\r\n",
        "folded header": head + b"X-Hub-Signature-256: a\r\n b\r\nContent-Length: 2\r\n\r\n{}",
        "CONNECT": b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n",
        "pipelined": (head + b"Content-Length: 2\r\n\r\n{}") * 3,
        "gitlab token with CRLF": b"POST /webhooks/gitlab HTTP/1.1\r\nHost: x\r\nX-Gitlab-Token: "
        + quote(WEBHOOK_SECRET + "\r\nX-Injected: 1").encode()
        + b"\r\nContent-Length: 2\r\n\r\n{}",
    }


def test_the_service_answers_malformed_http_with_4xx_and_triggers_nothing(
    start_service: ServiceStarter, figures: Figures
) -> None:
    fake = FakeRun()
    running = start_service(fake)
    running.wait_until_idle(1)
    answers = {name: _raw(running.port, raw) for name, raw in _malformed_requests().items()}
    figures(f"malformed HTTP at the service: {answers}")
    for name, status in answers.items():
        assert status is None or status < 500, f"{name}: answered {status}"
    # The one signed, well-formed delivery is a push to another branch: nothing runs.
    running.wait_until_idle(1)
    assert len(fake.requests) == 1
    assert answers["chunked, signed"] == 202
