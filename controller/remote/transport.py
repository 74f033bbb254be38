"""Sending one API request well: pooling, auth, timeouts, retries, typed errors, paging, polling.

Retry policy (urllib3's ``Retry`` does the bookkeeping: attempt counts, exponential backoff
with jitter capped at ``backoff_max``, and ``Retry-After`` parsing; this module decides
*whether* a resend is safe, which urllib3 cannot know for POST/PATCH):

===========================  ===================  ==============================================
failure                      GET / HEAD / DELETE  POST / PATCH
===========================  ===================  ==============================================
429 (+ ``Retry-After``)      retried              retried: a rate limiter rejects before acting
502 / 503 / 504              retried              ``OutcomeUnknownError``: the server may have acted
other 5xx                    ``ServerError``      ``OutcomeUnknownError``
connect refused              ``ApiConnectionError`` (never retried: nothing listens there)
connect timeout / DNS        retried              retried: nothing reached the server
dropped / read timeout       retried              ``OutcomeUnknownError``
TLS failure                  ``ApiConnectionError`` (never retried: it would fail the same way)
===========================  ===================  ==============================================

A PATCH that only sets fields to given values (model fields, version metadata) is sent with
``idempotent=True`` and retried like a GET: repeating it cannot do anything twice. A DELETE
is retried, but when its last attempt got a 5xx or no answer the error is
``OutcomeUnknownError`` (it may have happened); a 404 on a resend means an earlier attempt
did it, and the client's delete calls count that as done.

Every resend waits ``Retry-After`` when the server sent one, else urllib3's backoff
(immediately, then ``backoff_factor * 2**(n-1)`` + up to ``backoff_jitter`` seconds), and
stops after ``max_retries`` resends or when the next wait would pass ``max_retry_time``.
Multipart bodies are re-opened for each attempt. The session is shared by threads.
"""

from __future__ import annotations

import functools
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, MaxRetryError, NewConnectionError
from urllib3.util.retry import Retry

from controller.logs import get_logger
from controller.remote import requestcounts
from controller.remote.apierrors import (
    ApiConnectionError,
    ApiError,
    OutcomeUnknownError,
    RateLimitedError,
    UnexpectedResponseError,
    error_class_for,
    parse_error_body,
)
from controller.remote.multipart import MultipartBody
from controller.remote.requestcounts import RequestHook
from controller.remote.routes import API_PREFIX
from controller.settings import ApiSettings

log = get_logger(__name__)

NEVER_RESENT = frozenset({"POST", "PATCH"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_REQUEST_ID_HEADERS = ("X-DataRobot-Request-ID", "X-Request-ID", "X-Request-Id")
_REFUSED = re.compile(r"Connection refused|actively refused|\[Errno 111\]")
_ERRNO = re.compile(r"\[Errno -?\d+\] [^'\")]+|timed out|Connection aborted|RemoteDisconnected")


class TokenAuth(requests.auth.AuthBase):
    """``Authorization: <scheme> <token>``; its repr never shows the token."""

    def __init__(self, token: str, scheme: str = "Bearer") -> None:
        self._header = f"{scheme} {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __repr__(self) -> str:
        return "TokenAuth(<redacted>)"


def build_session(settings: ApiSettings, pool_size: int = 16) -> requests.Session:
    """A pooled session with the token, User-Agent and TLS settings; no adapter retries."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return prepare_session(session, settings)


def prepare_session(session: requests.Session, settings: ApiSettings) -> requests.Session:
    """Give a session the token (as an auth object, so no ``.netrc`` can override it), the
    User-Agent and the TLS setting.

    The proxies and the CA bundle the environment names come in ``settings`` (resolved
    once at the command-line edge): left to requests, the environment is read again on
    every request, which costs more than the request itself in a large CI environment.
    """
    session.auth = TokenAuth(settings.token, settings.auth_scheme)
    session.headers.update({"User-Agent": settings.user_agent, "Accept": "application/json"})
    session.proxies.update(dict(settings.proxies))
    bundle = settings.ca_bundle
    session.verify = bundle if settings.ssl_verify is True and bundle else settings.ssl_verify
    session.trust_env = False
    return session


class Transport:
    """Sends requests to one DataRobot endpoint; thread-safe.

    ``route`` arguments are templates relative to ``/api/v2/`` (``customModels/{customModelId}/``),
    filled from ``path``; the full template is what hooks and errors report.
    """

    def __init__(
        self,
        settings: ApiSettings,
        *,
        on_request: RequestHook | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        if session is None:
            session = build_session(settings)
        elif isinstance(session, requests.Session):
            prepare_session(session, settings)
        self.session = session
        self._hook = on_request
        self._sleep = sleep
        self._base = settings.endpoint.rstrip("/")
        parts = urlsplit(self._base)
        self._origin = (parts.scheme, parts.netloc)
        self._retry = Retry(
            total=settings.max_retries,
            connect=None,
            read=None,
            status=None,
            other=None,
            redirect=0,
            backoff_factor=settings.backoff_factor,
            backoff_jitter=settings.backoff_jitter,
            backoff_max=settings.backoff_max,
            respect_retry_after_header=True,
            raise_on_status=False,
        )

    # --- single requests -----------------------------------------------------------------

    def request(
        self,
        method: str,
        route: str,
        *,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        json: Any = None,
        body: MultipartBody | None = None,
        url: str | None = None,
        allow_redirects: bool = True,
        stream: bool = False,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send with the retry policy above; a response with status < 400, or a typed error.

        ``url`` (absolute, e.g. a ``next`` link) replaces the URL built from ``route`` and
        ``path``; ``route`` still names the template for hooks and errors. ``idempotent``
        marks a PATCH whose repetition is harmless (it sets fields to given values), so it
        is resent like a GET.
        """
        resendable = method not in NEVER_RESENT if idempotent is None else idempotent
        template = API_PREFIX + route
        target = self.own_url(url) if url else self.url(route, path)
        send = functools.partial(
            self._send, method, target, query, json, body, allow_redirects, stream
        )
        retry = self._retry
        started = time.monotonic()
        slept = 0.0  # counted apart too, so the budget holds whatever clock ``sleep`` keeps
        attempts = 0
        while True:
            attempts += 1
            outcome = self._attempt(method, template, send)
            if isinstance(outcome, requests.Response) and outcome.status_code < 400:
                return outcome
            error = self._error(method, template, outcome, attempts)
            if isinstance(outcome, requests.Response):
                outcome.close()  # give a streamed connection back to the pool
            if not _may_resend(resendable, outcome):
                raise error from _cause(outcome)
            try:
                retry = retry.increment(method, target)
            except MaxRetryError:
                raise error from _cause(outcome)
            delay = _delay(retry, outcome)
            if max(time.monotonic() - started, slept) + delay > self.settings.max_retry_time:
                if isinstance(outcome, requests.Response) and "Retry-After" in outcome.headers:
                    error.detail = (
                        f"asked to wait {delay:g}s more, beyond the retry budget of "
                        f"{self.settings.max_retry_time:g}s"
                    )
                raise error from _cause(outcome)
            log.warning(  # seen at the CLI's default level: a slow failure is not silent
                "api_request_retried",
                method=method,
                route=template,
                outcome=_outcome_name(outcome),
                attempt=attempts,
                delay_s=round(delay, 3),
            )
            self._sleep(delay)
            slept += delay

    def _attempt(
        self, method: str, template: str, send: Callable[[], requests.Response]
    ) -> requests.Response | requests.RequestException:
        started = time.monotonic()
        outcome: requests.Response | requests.RequestException
        try:
            outcome = send()
        except requests.RequestException as exc:
            outcome = exc
        self._report(method, template, _outcome_name(outcome), time.monotonic() - started)
        return outcome

    def _send(
        self,
        method: str,
        url: str,
        query: Mapping[str, Any] | None,
        json: Any,
        body: MultipartBody | None,
        allow_redirects: bool,
        stream: bool,
    ) -> requests.Response:
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        if body is None:
            return self.session.request(
                method,
                url,
                params=query,
                json=json,
                timeout=timeout,
                allow_redirects=allow_redirects,
                stream=stream,
            )
        with body.open() as encoder:
            return self.session.request(
                method,
                url,
                params=query,
                data=encoder,
                headers={"Content-Type": encoder.content_type},
                timeout=timeout,
                allow_redirects=allow_redirects,
                stream=stream,
            )

    def _error(
        self,
        method: str,
        template: str,
        outcome: requests.Response | requests.RequestException,
        attempts: int,
    ) -> ApiError:
        """The error to raise if this attempt is the last one."""
        if isinstance(outcome, requests.Response):
            return response_error(method, template, outcome, attempts)
        marker = _outcome_name(outcome)
        sent = marker not in requestcounts.NOT_SENT_MARKERS
        cls = OutcomeUnknownError if sent and method not in SAFE_METHODS else ApiConnectionError
        detail = f"{str(marker).replace('_', ' ')} ({_root_cause(outcome)})"
        if marker in requestcounts.NOT_SENT_MARKERS:
            # Say where we tried to go and who said to: the fix is usually there.
            detail += f" at {self._base}"
            if self.settings.source:
                detail += f" (the endpoint from {self.settings.source})"
        return cls(method=method, route=template, detail=detail, attempts=attempts)

    def _report(self, method: str, template: str, outcome: int | str, elapsed: float) -> None:
        if self._hook is None:
            return
        try:
            self._hook(method, template, outcome, elapsed)
        except Exception:  # a metrics hook must never break a request
            log.warning("request_hook_failed", exc_info=True)

    # --- URLs ------------------------------------------------------------------------------

    def url(self, route: str, path: Mapping[str, str] | None = None) -> str:
        """The absolute URL of a route template filled with ``path`` values (URL-quoted)."""
        filled = route.format_map({k: quote(str(v), safe="") for k, v in (path or {}).items()})
        return f"{self._base}/{filled}"

    def own_url(self, url: str) -> str:
        """``url`` when it is on our endpoint's origin, else the same API path on our endpoint.

        Servers behind proxies sometimes name themselves wrongly in ``next`` and ``Location``;
        following such a URL blindly could send the token elsewhere.
        """
        parts = urlsplit(url)
        if not parts.scheme:
            return url if url.startswith(self._base) else f"{self._base}/{url.lstrip('/')}"
        if (parts.scheme, parts.netloc) == self._origin:
            return url
        index = parts.path.find(API_PREFIX)
        if index < 0:
            raise UnexpectedResponseError(
                method="GET", route=parts.path, detail="the server linked outside the API"
            )
        rebased = f"{self._base}/{parts.path[index + len(API_PREFIX) :]}"
        log.debug("api_url_rebased", path=parts.path)
        return f"{rebased}?{parts.query}" if parts.query else rebased

    def get_json(self, route: str, **kwargs: Any) -> Any:
        """Send a GET and return its JSON body."""
        return json_body(self.request("GET", route, **kwargs), "GET", route)


def response_error(
    method: str, template: str, response: requests.Response, attempts: int = 1
) -> ApiError:
    """The typed error for an error response."""
    status = response.status_code
    cls = error_class_for(method, status)
    try:
        text = response.text[:20000]
    except requests.RequestException:  # a streamed error body that broke off
        text = ""
    message, errors = parse_error_body(text, response.headers.get("Content-Type", ""))
    request_id = next(
        (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None
    )
    extra: dict[str, Any] = {}
    if issubclass(cls, RateLimitedError):
        extra["retry_after"] = _retry_after_seconds(response)
    return cls(
        method=method,
        route=template,
        status=status,
        server_message=message,
        request_id=request_id,
        errors=errors,
        attempts=attempts,
        **extra,
    )


def json_body(response: requests.Response, method: str, route: str) -> Any:
    """The response's JSON, or :class:`UnexpectedResponseError` (``route`` relative)."""
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise UnexpectedResponseError(
            method=method,
            route=API_PREFIX + route,
            status=response.status_code,
            detail=f"expected JSON, got {kind}",
        ) from None


def _outcome_name(outcome: requests.Response | BaseException) -> int | str:
    if isinstance(outcome, requests.Response):
        return outcome.status_code
    if isinstance(outcome, ValueError):  # InvalidURL, MissingSchema, ...: never sent
        return requestcounts.INVALID_REQUEST
    if isinstance(outcome, requests.exceptions.SSLError):
        return requestcounts.TLS_ERROR
    if isinstance(outcome, requests.exceptions.ConnectTimeout):
        return requestcounts.CONNECT_TIMEOUT
    if isinstance(outcome, requests.exceptions.ReadTimeout):
        return requestcounts.READ_TIMEOUT
    if isinstance(outcome, requests.exceptions.ProxyError):
        return requestcounts.CONNECT_ERROR
    if isinstance(outcome, requests.exceptions.ConnectionError) and _never_connected(outcome):
        return requestcounts.CONNECT_ERROR
    return requestcounts.CONNECTION_DROPPED


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError)


def _refused(exc: BaseException) -> bool:
    """Whether the endpoint's host actively refused the connection (nothing listens)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ConnectionRefusedError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return bool(_REFUSED.search(str(exc)))


def _root_cause(exc: BaseException) -> str:
    found = _ERRNO.search(str(exc))
    return found.group(0).strip() if found else type(exc).__name__


def _may_resend(resendable: bool, outcome: requests.Response | requests.RequestException) -> bool:
    """Whether resending cannot make the server act twice (and may help)."""
    if isinstance(outcome, requests.Response):
        status = outcome.status_code
        return status == 429 or (status in RETRY_STATUSES and resendable)
    marker = _outcome_name(outcome)
    if marker in (requestcounts.TLS_ERROR, requestcounts.INVALID_REQUEST) or _refused(outcome):
        return False
    return marker in requestcounts.NOT_SENT_MARKERS or resendable


def _delay(retry: Retry, outcome: requests.Response | requests.RequestException) -> float:
    """``Retry-After`` when the server sent one, else urllib3's backoff with jitter.

    urllib3 resends the first time at once; here the first resend waits a random part of
    ``backoff_factor`` too, so that many clients refused together do not return together."""
    after = _retry_after_seconds(outcome) if isinstance(outcome, requests.Response) else None
    if after:
        return after
    backoff = float(retry.get_backoff_time())
    return backoff if backoff > 0 else random.uniform(0, retry.backoff_factor)  # noqa: S311


def _cause(outcome: requests.Response | requests.RequestException) -> Exception | None:
    return outcome if isinstance(outcome, requests.RequestException) else None


def _retry_after_seconds(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return float(Retry(total=1).parse_retry_after(raw))
    except InvalidHeader:
        return None
