"""The client's session prepares and sends exactly what ``requests.Session`` would: same
method, URL, headers, body and send settings, by its own short path or by requests' own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import requests

from controller.remote.apisession import ApiSession
from controller.remote.multipart import FileUpload, MultipartBody
from controller.remote.transport import TokenAuth, build_session, prepare_session
from controller.settings import ApiSettings

URL = "https://app.example.com/api/v2/customModels/abc/accessControl/"
SETTINGS = [
    ApiSettings(endpoint="https://app.example.com/api/v2", token="t0ken"),
    ApiSettings(
        endpoint="https://app.example.com/api/v2",
        token="t0ken",
        proxies=(("https", "http://proxy:3128"), ("http", "http://proxy:3128")),
        ssl_verify=False,
    ),
]
CALLS: list[dict[str, Any]] = [
    {"method": "GET", "url": URL},
    {"method": "get", "url": URL, "params": {"limit": 100, "offset": None, "q": "a b"}},
    {"method": "GET", "url": URL + "?offset=100&limit=100", "params": {"x": [1, 2]}},
    {"method": "PATCH", "url": URL, "json": {"data": [{"username": "u", "role": None}]}},
    {"method": "POST", "url": URL, "data": b"raw", "headers": {"Content-Type": "x/y"}},
    {"method": "GET", "url": URL, "headers": {"Accept": None, "X-Extra": "1"}},
    {"method": "GET", "url": URL, "stream": True, "verify": "/ca.pem", "cert": "/c.pem"},
    {"method": "GET", "url": URL, "proxies": {"https": "http://other:1"}},
    {"method": "GET", "url": URL, "cookies": {"a": "1"}},
    {"method": "GET", "url": URL, "auth": ("user", "pass")},
    {"method": "GET", "url": URL, "hooks": {"response": [lambda r, **_: r]}},
    {"method": "GET", "url": URL, "params": [("a", "1"), ("a", "2")]},
    {"method": "GET", "url": URL, "params": {"é": "ü ✓", "n": 3, "t": True, "b": b"x&y"}},
    {"method": "GET", "url": URL, "params": {"ids": ("a", None, "b"), "f": 1.5, "e": ""}},
    {"method": "GET", "url": URL + "?a=1#frag", "params": {"offset": None}},
    {"method": "GET", "url": URL, "params": {"q": "a/b?c=d&e"}},
]


def _pair(settings: ApiSettings) -> tuple[requests.Session, requests.Session]:
    return prepare_session(requests.Session(), settings), build_session(settings)


def _prepared(session: requests.Session, call: dict[str, Any]) -> requests.PreparedRequest:
    fields = ("method", "url", "headers", "files", "data", "json", "params", "auth")
    request = requests.Request(
        **{k: v for k, v in call.items() if k in fields},
        cookies=call.get("cookies"),
        hooks=call.get("hooks"),
    )
    if "data" not in call:
        request.data = {}  # what Session.request gives Request
    return session.prepare_request(request)


def _same(ours: requests.PreparedRequest, theirs: requests.PreparedRequest) -> None:
    assert (ours.method, ours.url, ours.body) == (theirs.method, theirs.url, theirs.body)
    assert list(ours.headers.items()) == list(theirs.headers.items())
    assert list(ours.hooks["response"]) == list(theirs.hooks["response"])
    assert dict(ours._cookies or {}) == dict(theirs._cookies or {})  # type: ignore[attr-defined]


def test_the_client_sends_with_an_api_session() -> None:
    session = build_session(SETTINGS[0])
    assert isinstance(session, ApiSession)
    assert isinstance(session.auth, TokenAuth)
    assert session.trust_env is False


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("call", CALLS)
def test_requests_are_prepared_as_requests_would(
    settings: ApiSettings, call: dict[str, Any]
) -> None:
    theirs, ours = _pair(settings)
    _same(_prepared(ours, call), _prepared(theirs, call))
    prepared = _prepared(ours, call)
    args = (call.get("proxies") or {}, call.get("stream"), call.get("verify"), call.get("cert"))
    assert ours.merge_environment_settings(
        prepared.url, *args
    ) == theirs.merge_environment_settings(prepared.url, *args)


def test_multipart_bodies_are_prepared_as_requests_would(tmp_path: Path) -> None:
    (tmp_path / "custom.py").write_text("print(1)\n")
    body = MultipartBody([FileUpload(tmp_path / "custom.py", "custom.py")], [("a", "1")])
    theirs, ours = _pair(SETTINGS[0])
    with body.open() as first, body.open() as second:
        call = {"method": "PATCH", "url": URL, "headers": {"Content-Type": first.content_type}}
        left = _prepared(ours, {**call, "data": first})
        right = _prepared(theirs, {**call, "data": second})
    assert left.url == right.url
    assert list(left.headers.items()) == list(right.headers.items())


def test_cookies_the_server_set_are_sent_as_requests_would() -> None:
    theirs, ours = _pair(SETTINGS[0])
    for session in (theirs, ours):
        session.cookies.set("AWSALB", "sticky", domain="app.example.com", path="/")
    ours_prepared = _prepared(ours, {"method": "GET", "url": URL})
    _same(ours_prepared, _prepared(theirs, {"method": "GET", "url": URL}))
    assert ours_prepared.headers["Cookie"] == "AWSALB=sticky"


def test_the_environment_is_read_as_requests_would_when_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env-proxy:3128")
    theirs, ours = _pair(SETTINGS[0])
    theirs.trust_env = ours.trust_env = True
    settings = ours.merge_environment_settings(URL, {}, None, None, None)
    assert settings == theirs.merge_environment_settings(URL, {}, None, None, None)
    assert settings["proxies"]["https"] == "http://env-proxy:3128"


def test_a_plain_request_skips_requests_merging(monkeypatch: pytest.MonkeyPatch) -> None:
    merges: list[object] = []
    original = cast(Callable[..., Any], requests.sessions.merge_setting)

    def counting(*args: Any, **kwargs: Any) -> Any:
        merges.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(requests.sessions, "merge_setting", counting)
    theirs, ours = _pair(SETTINGS[1])
    call = {"method": "GET", "url": URL, "params": {"limit": 100}}
    for session in (theirs, ours):
        prepared = _prepared(session, call)
        session.merge_environment_settings(prepared.url, {}, None, None, None)
    assert len(merges) == 7  # requests' three in prepare_request, four for the environment
