"""The service's HTTP endpoints, as a plain WSGI application (served by waitress).

=======================  ==================================================================
``GET /healthz``         200 while the process serves requests (liveness).
``GET /readyz``          200 when the last successful run is recent; 503 with a reason.
``GET /metrics``         Prometheus text (or OpenMetrics, by ``Accept``).
``GET /status``          JSON: state, lock, the last runs.
``GET /``, ``/runs/<id>`` the status page; ``POST /control/...``: suspend, resume,
                         reconcile (see ``controller.service.operations``).
``POST /webhooks/github`` / ``POST /webhooks/gitlab``
                         200 triggered, 200 replayed (the same body or delivery ID
                         already received: no run), 202 ignored (with a reason), 400 malformed,
                         401 bad or missing signature/token (nothing triggered),
                         404 webhooks disabled (no secret configured), 413 body too large
                         (refused from ``Content-Length`` before reading it), 503 stopping.
=======================  ==================================================================

Bodies over the limit with a ``Content-Length`` are refused by waitress itself (configured
by the service) before this application is called, so they do not reach the webhook
metrics; bodies without one are cut off here after ``limit + 1`` bytes.

With ``--probe-listen``, :func:`probes_only` serves ``/healthz``, ``/readyz`` and
``/metrics`` on a listener of their own (see ``controller.service.listeners``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from prometheus_client import make_wsgi_app

from controller.logs import get_logger
from controller.service.answers import json_answer
from controller.service.metrics import ServiceMetrics
from controller.service.runner import Admission
from controller.service.runs import Trigger
from controller.service.webhooks import (
    DeliveryLog,
    WebhookVerdict,
    delivery_id,
    github_verdict,
    gitlab_verdict,
    replay_keys,
    replay_verdict,
)

log = get_logger(__name__)

_Judge = Callable[..., WebhookVerdict]
# (path, method, environ, start_response) -> an answer, or None to route it here
_Extra = Callable[[str, str, WSGIEnvironment, StartResponse], Iterable[bytes] | None]
_WEBHOOKS: dict[str, tuple[str, Trigger, _Judge]] = {
    "/webhooks/github": ("github", "webhook:github", github_verdict),
    "/webhooks/gitlab": ("gitlab", "webhook:gitlab", gitlab_verdict),
}


@dataclass(frozen=True)
class EndpointConfig:
    """What the endpoints need from the settings."""

    webhook_secret: str | None
    tracked_ref: str
    max_body_bytes: int


class ServiceApp:
    """The WSGI application. The service's state is reached through the callables."""

    def __init__(
        self,
        config: EndpointConfig,
        *,
        metrics: ServiceMetrics,
        request_run: Callable[[Trigger, str | None], Admission],
        readiness: Callable[[], tuple[bool, dict[str, Any]]],
        status: Callable[[], dict[str, Any]],
        extra: _Extra | None = None,
    ) -> None:
        self._config = config
        self._metrics = metrics
        self._request_run = request_run
        self._readiness = readiness
        self._status = status
        self._extra = extra
        self._metrics_app = make_wsgi_app(metrics.registry)
        self._deliveries = DeliveryLog()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET")
        if self._extra is not None:  # the status page, control calls, /status's read token
            answer = self._extra(path, method, environ, start_response)
            if answer is not None:
                return answer
        if path in _WEBHOOKS:
            if method != "POST":
                return json_answer(start_response, 405, {"error": "use POST"}, [("Allow", "POST")])
            return self._webhook(path, environ, start_response)
        if path not in ("/healthz", "/readyz", "/metrics", "/status"):
            return json_answer(start_response, 404, {"error": f"no route {path}"})
        if method not in ("GET", "HEAD"):
            return json_answer(start_response, 405, {"error": "use GET"}, [("Allow", "GET, HEAD")])
        if path == "/metrics":
            return self._metrics_app(environ, start_response)  # type: ignore[no-any-return]
        if path == "/healthz":
            return json_answer(start_response, 200, {"status": "alive"})
        if path == "/readyz":
            ready, body = self._readiness()
            return json_answer(start_response, 200 if ready else 503, body)
        return json_answer(start_response, 200, self._status())

    def _webhook(
        self, path: str, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        source, trigger, judge = _WEBHOOKS[path]
        secret = self._config.webhook_secret
        if not secret:
            return json_answer(
                start_response,
                404,
                {"error": "webhooks are disabled: no webhook secret is configured"},
            )
        body = _read_body(environ, self._config.max_body_bytes)
        if body is None:
            self._metrics.webhook(source, "too-large")
            log.warning("webhook_refused", source=source, reason="body too large")
            limit = self._config.max_body_bytes
            return json_answer(start_response, 413, {"error": f"body larger than {limit} bytes"})
        headers = _headers(environ)
        verdict: WebhookVerdict = judge(
            headers, body, secret=secret, tracked_ref=self._config.tracked_ref
        )
        delivery = delivery_id(headers)
        # Only authentic deliveries are remembered: a forged one must not shadow a real ID.
        authentic = verdict.status not in (400, 401)
        if authentic and self._deliveries.replayed(source, *replay_keys(headers, body)):
            verdict = replay_verdict(delivery)
        answer = verdict.to_json()
        if verdict.trigger:
            admission = self._request_run(trigger, verdict.revision)
            answer["run"] = admission
            if admission == "stopping":
                verdict = WebhookVerdict(503, "stopping", "the controller is shutting down")
                answer = verdict.to_json()
        self._metrics.webhook(source, verdict.outcome)
        emit = log.warning if verdict.status in (400, 401) else log.info
        emit(
            "webhook_received",
            source=source,
            webhook_event=headers.get("x-github-event") or headers.get("x-gitlab-event"),
            delivery=delivery,
            outcome=verdict.outcome,
            reason=verdict.reason,
            pushed_revision=verdict.revision,
            run=answer.get("run"),
        )
        return json_answer(start_response, verdict.status, answer)


_PROBE_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def probes_only(app: ServiceApp) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """``app`` restricted to ``/healthz``, ``/readyz`` and ``/metrics`` (the probe listener:
    no webhooks, no ``/status``)."""

    def serve_probe(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if path not in _PROBE_ROUTES:
            return json_answer(
                start_response, 404, {"error": f"no route {path} on the probe listener"}
            )
        return app(environ, start_response)

    return serve_probe


def _read_body(environ: WSGIEnvironment, limit: int) -> bytes | None:
    """The request body, or ``None`` when it is larger than ``limit`` (decided from
    ``Content-Length`` without reading, else after reading at most ``limit + 1`` bytes)."""
    try:
        declared = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        declared = -1
    if declared > limit:
        return None
    stream = environ["wsgi.input"]
    body: bytes = stream.read(limit + 1 if declared < 0 else declared)
    return None if len(body) > limit else body


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return headers
