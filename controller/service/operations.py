"""Operating ``serve`` like Argo CD and Flux: observe mode, suspend and resume, reconcile
now, and the read token of the status page and ``/status``.

=========================  ============================================================
``POST /control/suspend``  apply nothing until resumed: runs go on planning and report
                           the drift (page, ``/status``, metrics, notifications)
``POST /control/resume``   apply again, with a run at once
``POST /control/reconcile`` a run at once (coalesced with one in progress or pending)
=========================  ============================================================

The control calls need ``Authorization: Bearer <control token>`` (``--control-token-file``);
without a configured token they are refused (403), with a wrong or missing one they answer
401 and change nothing. ``GET /``, ``GET /runs/<id>`` and ``GET /status`` are open unless a
read token is configured (``--read-token-file``): then they need it (or the control
token) as a bearer token, or as the password of HTTP basic authentication (what a browser
asks for, any user name). Tokens are compared in constant time and never logged.

``--mode observe`` makes every run a dry run; so does a suspension. The suspension is kept
in this process's memory: a restarted service applies again (start it with
``--mode observe`` to keep it from applying across restarts).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias
from wsgiref.types import StartResponse, WSGIEnvironment

from prometheus_client import Counter, Gauge

from controller.logs import get_logger
from controller.service.answers import html_answer, json_answer
from controller.service.history import RunRecord, isoformat
from controller.service.page import PageFacts, RunPages, render_index, render_run
from controller.service.runs import RunOutcome, Trigger

log = get_logger(__name__)

Mode: TypeAlias = Literal["apply", "observe"]
MODES: tuple[Mode, ...] = ("apply", "observe")
_CONTROL = {
    "/control/suspend": "suspend",
    "/control/resume": "resume",
    "/control/reconcile": "reconcile",
}
_PAGES = ("/", "/status")
_RENDERED_KEPT = 64
_FRESH_SECONDS = 1.0  # a page may be this much older than the facts (it refreshes in 15 s)


@dataclass(frozen=True)
class OperationsSettings:
    """How ``serve`` is operated. Tokens are secrets: never in ``repr``, logs or pages.

    ``web_url`` is the DataRobot web app (the API endpoint without ``/api/v2``), for links;
    ``shown`` the settings the status page lists (none of them secret).
    """

    mode: Mode = "apply"
    read_token: str | None = field(default=None, repr=False)
    control_token: str | None = field(default=None, repr=False)
    namespace: str = ""
    web_url: str | None = None
    shown: tuple[tuple[str, str], ...] = ()
    refresh_seconds: int = 15
    pages_kept: int = 50


class Operations:
    """The suspension, the control calls and the pages (see the module docstring)."""

    def __init__(
        self,
        settings: OperationsSettings,
        *,
        registry: Any,
        request_run: Callable[[Trigger], str],
        status: Callable[[], dict[str, Any]],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.pages = RunPages(settings.pages_kept)
        self._request_run = request_run
        self._status = status
        self._wall = wall
        self._lock = threading.Lock()
        self._suspended_at: float | None = None
        # path -> (when checked, the facts' version, the page): see _page.
        self._rendered: dict[str, tuple[float, str, tuple[int, str]]] = {}
        self._mode_gauge = Gauge(
            "dr_gitops_mode",
            "1 for the mode runs are in: apply, observe (--mode observe) or suspended.",
            ["mode"],
            registry=registry,
        )
        self._pending_gauge = Gauge(
            "dr_gitops_pending_actions",
            "Actions the last run planned and did not apply (observe mode, suspended).",
            registry=registry,
        )
        self._calls = Counter(
            "dr_gitops_control_requests",
            "Control calls (suspend, resume, reconcile), by action and result.",
            ["action", "result"],
            registry=registry,
        )
        self._show_mode()

    @property
    def suspended(self) -> bool:
        with self._lock:
            return self._suspended_at is not None

    def dry_run(self) -> bool:
        """True when the next run must apply nothing (observe mode, or suspended)."""
        return self.settings.mode == "observe" or self.suspended

    def suspend(self) -> bool:
        """Apply nothing from the next run on; False when already suspended."""
        with self._lock:
            if self._suspended_at is not None:
                return False
            self._suspended_at = self._wall()
        log.warning("reconcile_suspended", action="runs plan and report, apply nothing")
        self._forget_pages()
        self._show_mode()
        return True

    def resume(self) -> str | None:
        """Apply again, with a run at once; ``None`` when it was not suspended, else what
        became of the run's request."""
        with self._lock:
            if self._suspended_at is None:
                return None
            self._suspended_at = None
        log.warning("reconcile_resumed")
        self._forget_pages()
        self._show_mode()
        return self._request_run("resume")

    def on_run(self, record: RunRecord, outcome: RunOutcome) -> None:
        """Keep the run's page and count what it left pending."""
        self.pages.add(record, outcome)
        self._forget_pages()
        pending = sum(1 for o in outcome.objects if o.state in ("drifted", "missing"))
        if outcome.objects or record.succeeded:
            self._pending_gauge.set(pending if record.result == "planned" else 0)

    def to_json(self) -> dict[str, Any]:
        """The operations part of ``/status``."""
        with self._lock:
            since = self._suspended_at
        return {
            "mode": self.settings.mode,
            "suspended": since is not None,
            "suspendedSince": isoformat(since),
        }

    def _forget_pages(self) -> None:
        """A run finished or the suspension changed: the next view renders anew."""
        with self._lock:
            self._rendered.clear()

    def _show_mode(self) -> None:
        current = "suspended" if self.suspended else self.settings.mode
        for mode in (*MODES, "suspended"):
            self._mode_gauge.labels(mode).set(1 if mode == current else 0)

    # --- HTTP --------------------------------------------------------------------------

    def handle(
        self, path: str, method: str, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes] | None:
        """Answer the routes of this module; ``None`` lets the request through (``/status``
        once its read token is checked, and every other route)."""
        if path in _CONTROL:
            if method != "POST":
                return json_answer(start_response, 405, {"error": "use POST"}, [("Allow", "POST")])
            return self._control(_CONTROL[path], environ, start_response)
        if path not in _PAGES and not path.startswith("/runs/"):
            return None
        if method not in ("GET", "HEAD"):
            return json_answer(start_response, 405, {"error": "use GET"}, [("Allow", "GET, HEAD")])
        if not self._may_read(environ):
            return json_answer(
                start_response,
                401,
                {"error": "this page needs the read token (--read-token-file)"},
                [("WWW-Authenticate", 'Basic realm="dr-gitops", charset="UTF-8"')],
            )
        if path == "/status":
            return None
        return html_answer(start_response, *self._page(path))

    def _page(self, path: str) -> tuple[int, str]:
        """The page at ``path``: rendered again only when what it shows changed. Finished
        runs and suspensions show at once; other changes (a run starting, the lock) are
        looked for at most once a second, so a flood of views costs lookups."""
        now = time.monotonic()
        with self._lock:
            cached = self._rendered.get(path)
        if cached is not None and now - cached[0] < _FRESH_SECONDS:
            return cached[2]
        facts = self._facts()
        version = _version(facts)
        fresh = cached is None or cached[1] != version
        page = self._render(path, facts) if fresh else cached[2]  # type: ignore[index]
        with self._lock:
            if len(self._rendered) >= _RENDERED_KEPT:
                self._rendered.clear()
            self._rendered[path] = (now, version, page)
        return page

    def _render(self, path: str, facts: PageFacts) -> tuple[int, str]:
        if path == "/":
            return 200, render_index(facts)
        run_id = path[len("/runs/") :]
        found = self.pages.get(run_id)
        return (404 if found is None else 200), render_run(facts, found, run_id)

    def _facts(self) -> PageFacts:
        return PageFacts(
            status=self._status(),
            operations=self.to_json(),
            settings=self.settings,
            pages=self.pages,
        )

    def _control(
        self, action: str, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        token = self.settings.control_token
        if not token:
            self._calls.labels(action, "disabled").inc()
            return json_answer(
                start_response,
                403,
                {"error": "control calls are disabled: start serve with --control-token-file"},
            )
        if not _matches(_presented(environ, basic=False), (token,)):
            self._calls.labels(action, "unauthorized").inc()
            log.warning("control_refused", control=action, reason="missing or wrong token")
            return json_answer(
                start_response,
                401,
                {"error": "missing or wrong bearer token"},
                [("WWW-Authenticate", 'Bearer realm="dr-gitops"')],
            )
        body: dict[str, Any]
        if action == "suspend":
            changed = self.suspend()
            body = {"suspended": True, "changed": changed}
        elif action == "resume":
            admission = self.resume()
            body = {"suspended": False, "changed": admission is not None, "run": admission}
        else:
            admission = self._request_run("reconcile-now")
            body = {"run": admission}
        self._calls.labels(action, "done").inc()
        log.info("control_done", control=action, **body)
        status = 503 if body.get("run") == "stopping" else 200
        return json_answer(start_response, status, {**body, **self.to_json()})

    def _may_read(self, environ: WSGIEnvironment) -> bool:
        wanted = self.settings.read_token
        if not wanted:
            return True
        accepted = tuple(t for t in (wanted, self.settings.control_token) if t)
        return _matches(_presented(environ, basic=True), accepted)


def _version(facts: PageFacts) -> str:
    """What a page depends on that changes: the runs, the run in progress and the one
    pending, the next run, the state, the lock and the suspension (the pages of runs are
    added with the runs)."""
    status = facts.status
    runs = status.get("runs") or [{}]
    kept = facts.pages.latest()  # added just after the history: both are part of the key
    return json.dumps(
        [
            kept[0].run_id if kept is not None else None,
            runs[0].get("runId"),
            len(runs),
            status.get("current"),
            status.get("pending"),
            status.get("nextRunAt"),
            status.get("state"),
            status.get("consecutiveFailures"),
            status.get("lock"),
            facts.operations,
        ],
        default=str,
        sort_keys=True,
    )


def _presented(environ: Mapping[str, Any], *, basic: bool) -> str | None:
    """The token of ``Authorization: Bearer T`` (or, with ``basic``, the password of
    ``Authorization: Basic base64(user:T)``)."""
    header = str(environ.get("HTTP_AUTHORIZATION") or "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if basic and scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def _matches(presented: str | None, accepted: tuple[str, ...]) -> bool:
    if presented is None:
        return False
    given = presented.encode()
    # Every token is compared, in constant time, whichever matches.
    return sum(hmac.compare_digest(given, t.encode()) for t in accepted) > 0
