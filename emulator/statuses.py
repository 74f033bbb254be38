"""Async work as DataRobot reports it: a status that is RUNNING until it is done.

A status document records where the finished resource lives (``location``) and when the
work completes (``readyAt``, epoch seconds). Nothing runs in the background: the state is
computed when someone looks (``GET /api/v2/status/{id}/``, or the resource itself), so
"finishing" costs nothing and survives restarts. ``settle_status`` ends work early with
``ERROR`` or ``ABORTED``.
"""

from __future__ import annotations

import time
from typing import Any

from emulator.routing import emulator


def new_status(
    kind: str,
    location: str,
    ready_at: float,
    description: str = "",
    *,
    final: str | None = None,
    message: str = "",
) -> dict[str, Any]:
    """Record async work that finishes at ``ready_at`` (epoch seconds) at ``location``.

    ``final``: the state once finished when the work fails (``ERROR``); default completed.
    """
    store = emulator().store
    status_id = store.new_id()
    created, _ = store.stamp()
    doc = {
        "id": status_id,
        "kind": kind,
        "location": location,
        "readyAt": ready_at,
        "created": created,
        "outcome": None,
        "final": final,
        "message": message,
        "description": description,
    }
    store.statuses[status_id] = doc
    return doc


def settle_status(status_id: str | None, outcome: str, message: str) -> None:
    """Finish a status early with ``outcome`` (``ERROR`` or ``ABORTED``)."""
    doc = emulator().store.statuses.get(status_id or "")
    if doc is not None:
        doc.update(outcome=outcome, message=message, readyAt=time.time())


def status_state(doc: dict[str, Any]) -> str:
    if doc["outcome"]:
        return str(doc["outcome"])
    if time.time() < doc["readyAt"]:
        return "RUNNING"
    return str(doc.get("final") or "COMPLETED")
