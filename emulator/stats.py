"""Request counters for ``GET /__emulator__/stats``.

Counts every ``/api/v2`` request by ``"METHOD /route/template/"`` (the reference's
templates, e.g. ``"POST /api/v2/customModels/{customModelId}/versions/"``) and by answered
status. ``writes`` counts state-changing requests: POST/PUT/PATCH/DELETE whose handler
succeeded, including those answered with an injected error *after* the change (their
effect is kept), and excluding those faulted *before* it. Admin routes are not counted.
"""

from __future__ import annotations

import threading
from typing import Any


class Stats:
    """Thread-safe request counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._routes: dict[str, dict[str, Any]] = {}
            self._total = 0
            self._writes = 0
            self._faults = {"injected": 0, "dropped": 0, "delayed": 0}

    def record(self, key: str, status: int | str, *, write: bool) -> None:
        """Count one answered (or dropped: ``status="dropped"``) request."""
        with self._lock:
            self._total += 1
            if write:
                self._writes += 1
            route = self._routes.setdefault(key, {"count": 0, "statuses": {}})
            route["count"] += 1
            statuses = route["statuses"]
            statuses[str(status)] = statuses.get(str(status), 0) + 1

    def fault(self, kind: str) -> None:
        """Count one injected fault of ``kind`` (injected, dropped or delayed)."""
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "writes": self._writes,
                "faults": dict(self._faults),
                "routes": {
                    k: {"count": v["count"], "statuses": dict(v["statuses"])}
                    for k, v in sorted(self._routes.items())
                },
            }
