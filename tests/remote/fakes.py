"""A scripted stand-in for ``requests.Session``, for failures no server can be asked to make
(TLS failures, huge ``Retry-After``) and for checking exactly what was sent."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

Step = requests.Response | BaseException | Callable[[str, str, dict[str, Any]], Any]


def response(
    status: int,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    text: str | None = None,
) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    if text is not None:
        r._content = text.encode()
        content_type = "text/html"
    else:
        r._content = jsonlib.dumps(body).encode() if body is not None else b""
        content_type = "application/json"
    r.headers = CaseInsensitiveDict({"Content-Type": content_type, **(headers or {})})
    return r


@dataclass
class FakeSession:
    """Answers each request with the next scripted step (a response, an exception to raise,
    or a callable ``(method, url, kwargs)`` returning either)."""

    steps: list[Step]
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def of(cls, *steps: Step) -> FakeSession:
        return cls(list(steps))

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.sent.append((method, url, kwargs))
        if not self.steps:
            raise AssertionError(f"unexpected request {method} {url}")
        step = self.steps.pop(0)
        if callable(step) and not isinstance(step, requests.Response | BaseException):
            step = step(method, url, kwargs)
        if isinstance(step, BaseException):
            raise step
        step.url = url
        return step

    def close(self) -> None:
        pass

    def urls(self) -> Iterable[str]:
        return [url for _, url, _ in self.sent]
