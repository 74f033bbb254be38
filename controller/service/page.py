"""The status page of ``serve`` (``GET /`` and ``GET /runs/<id>``): HTML made with Jinja2.

Rendering reads only what the service already holds: ``/status``'s facts and the pages of
the last runs (:class:`RunPages`, filled once per run). A page view makes no DataRobot or
git call, so page views cannot slow or change reconciling. The pending plan is the one the
last run computed, never one computed for a page load.

Everything interpolated is escaped by Jinja2's autoescape (names and reasons come from
pull requests); the page has no script, refreshes itself with ``<meta http-equiv=refresh>``
and is laid out for a phone as well as a laptop. Secrets never reach it: the values shown
are names, IDs, commits, plans (which mask secret-looking runtime values) and settings
chosen as not secret.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from controller import __version__
from controller.service.history import RunRecord, isoformat
from controller.service.objectstates import ObjectState
from controller.service.runs import RunOutcome

if TYPE_CHECKING:
    from jinja2 import Environment

    from controller.service.operations import OperationsSettings


@functools.cache
def _environment() -> Environment:
    """The templates (imported and loaded at the first page view: ``serve`` starts and
    takes its lock without waiting for them)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("controller.service", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_STATE_LABELS = {
    "in-sync": "in sync",
    "drifted": "drifted",
    "missing": "not created yet",
    "pending": "gate pending",
    "failed": "failed",
    "blocked": "blocked",
    "orphaned": "orphaned",
}


class RunPages:
    """The last ``size`` runs' records and outcomes (objects, plan), by run ID; safe to
    read from HTTP threads while the run worker adds to it."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, tuple[RunRecord, RunOutcome]] = OrderedDict()
        self._objects: tuple[ObjectState, ...] = ()
        self._objects_run: str | None = None

    def add(self, record: RunRecord, outcome: RunOutcome) -> None:
        with self._lock:
            self._runs[record.run_id] = (record, outcome)
            while len(self._runs) > self._size:
                self._runs.popitem(last=False)
            if outcome.objects or record.succeeded:
                # A run that failed before it knew the objects keeps the last picture.
                self._objects, self._objects_run = outcome.objects, record.run_id

    def get(self, run_id: str) -> tuple[RunRecord, RunOutcome] | None:
        with self._lock:
            return self._runs.get(run_id)

    def latest(self) -> tuple[RunRecord, RunOutcome] | None:
        with self._lock:
            return next(reversed(self._runs.values()), None)

    def objects(self) -> tuple[tuple[ObjectState, ...], str | None]:
        """The objects as the last run that knew them left them, and that run's ID."""
        with self._lock:
            return self._objects, self._objects_run


@dataclass(frozen=True)
class PageFacts:
    """What one page view renders from (read once per view)."""

    status: Mapping[str, Any]
    operations: Mapping[str, Any]
    settings: OperationsSettings
    pages: RunPages


def render_index(facts: PageFacts) -> str:
    """``GET /``: objects, pending plan, last runs, lock, next run, version and settings."""
    objects, objects_run = facts.pages.objects()
    latest = facts.pages.latest()
    return (
        _environment()
        .get_template("index.html")
        .render(
            **_common(facts),
            objects=[_object(o, facts.settings.web_url) for o in objects],
            objects_run=objects_run,
            counts=_counts(objects),
            pending=_pending(latest),
            runs=[_run(r) for r in facts.status.get("runs", [])],
            lock=_lock(facts.status.get("lock")),
            settings=facts.settings.shown,
        )
    )


def render_run(facts: PageFacts, found: tuple[RunRecord, RunOutcome] | None, run_id: str) -> str:
    """``GET /runs/<id>``: one run's facts, failures, plan and objects (404 page when it is
    not among the runs kept)."""
    if found is None:
        return _environment().get_template("missing.html").render(**_common(facts), run_id=run_id)
    record, outcome = found
    return (
        _environment()
        .get_template("run.html")
        .render(
            **_common(facts),
            run=_run(record.to_json()),
            errors=record.errors,
            blocked=outcome.blocked,
            changes=outcome.changes,
            gates=outcome.gates,
            plan=outcome.plan,
            planned=record.result == "planned",
            objects=[_object(o, facts.settings.web_url) for o in outcome.objects],
        )
    )


def _common(facts: PageFacts) -> dict[str, Any]:
    status, operations = facts.status, facts.operations
    current = status.get("current")
    state = str(status.get("state", ""))
    if operations.get("suspended"):
        state = "suspended"
    elif operations.get("mode") == "observe" and state == "running":
        state = "observing"
    elif state == "running" and status.get("consecutiveFailures"):
        state = "failing"
    return {
        "version": __version__,
        "namespace": facts.settings.namespace,
        "refresh": facts.settings.refresh_seconds,
        "state": state,
        "mode": operations.get("mode"),
        "suspended": bool(operations.get("suspended")),
        "suspended_since": operations.get("suspendedSince"),
        "tracked_ref": status.get("trackedRef"),
        "next_run": status.get("nextRunAt"),
        "current": current,
        "failures": status.get("consecutiveFailures", 0),
    }


def _object(item: ObjectState, web_url: str | None) -> dict[str, Any]:
    link = None
    if web_url and item.id:
        ident = quote(item.id, safe="")
        if item.kind == "Deployment":
            link = f"{web_url}/deployments/{ident}/overview"
        else:
            segment = "custom-models" if item.kind == "CustomModel" else "custom-jobs"
            link = f"{web_url}/registry/{segment}/{ident}"
    return {
        "kind": item.kind,
        "name": item.name,
        "display_name": item.display_name,
        "id": item.id,
        "link": link,
        "version": item.version,
        "commit": (item.commit or "")[:12] or None,
        "commit_url": item.commit_url if _web(item.commit_url) else None,
        "updated": item.updated,
        "state": item.state,
        "state_label": _STATE_LABELS.get(item.state, item.state),
        "reason": item.reason,
        "actions": ", ".join(item.actions),
        "test_result": item.test_result,
        "serves": item.serves,
    }


def _web(url: str | None) -> bool:
    """Only http(s) links: a ``javascript:`` URL in a version's metadata is not a link."""
    return bool(url) and str(url).lower().startswith(("https://", "http://"))


def _counts(objects: tuple[ObjectState, ...]) -> list[tuple[str, int]]:
    found: dict[str, int] = {}
    for item in objects:
        found[item.state] = found.get(item.state, 0) + 1
    return [(_STATE_LABELS.get(s, s), n) for s, n in sorted(found.items())]


def _pending(latest: tuple[RunRecord, RunOutcome] | None) -> dict[str, Any]:
    """What the next run would do, as the last run computed it."""
    if latest is None:
        return {"text": None, "why": "no run has finished yet", "run": None}
    record, outcome = latest
    if record.result == "planned":
        return {
            "text": outcome.plan,
            "why": "planned by the last run, not applied",
            "run": record.run_id,
        }
    if record.result == "failed" and outcome.plan:
        return {
            "text": outcome.plan,
            "why": "the last run failed to apply all of it",
            "run": record.run_id,
        }
    if record.result == "failed":
        return {
            "text": None,
            "why": "the last run failed before it could plan",
            "run": record.run_id,
        }
    return {
        "text": None,
        "why": "nothing: the last run left DataRobot equal to the manifests",
        "run": record.run_id,
    }


def _run(raw: Mapping[str, Any]) -> dict[str, Any]:
    counts = raw.get("counts") or {}
    actions = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "none"
    revision = raw.get("revision") or ""
    return {
        "id": raw.get("runId"),
        "trigger": raw.get("trigger"),
        "revision": revision[:12] or None,
        "started": raw.get("started"),
        "duration": raw.get("durationSeconds"),
        "result": raw.get("result"),
        "actions": actions,
        "errors": len(raw.get("errors") or ()),
    }


def _lock(raw: Any) -> str:
    if not isinstance(raw, Mapping):
        return "no namespace lock (--lock none)"
    if raw.get("held"):
        return f"held by this instance ({raw.get('holder')}) since {raw.get('acquiredAt')}"
    waiting = raw.get("waitingFor")
    return f"not held; held by {waiting}" if waiting else "not held"


__all__ = ["PageFacts", "RunPages", "isoformat", "render_index", "render_run"]
