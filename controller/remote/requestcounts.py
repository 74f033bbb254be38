"""Counting HTTP attempts: the ``on_request`` hook's signature and a thread-safe tally.

The client calls its hook once per HTTP attempt (a retried request is two attempts) with the
method, the route template (``/api/v2/customModels/{customModelId}/``), the status or an
error marker (:data:`OUTCOME_MARKERS`), and the attempt's wall time in seconds. Benchmarks
and the service's ``/metrics`` aggregate them with :class:`RequestCounter`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

RequestHook = Callable[[str, str, "int | str", float], None]
"""``hook(method, route_template, status_or_marker, elapsed_seconds)``."""

CONNECT_ERROR = "connect_error"
CONNECT_TIMEOUT = "connect_timeout"
TLS_ERROR = "tls_error"
READ_TIMEOUT = "read_timeout"
CONNECTION_DROPPED = "connection_dropped"
INVALID_REQUEST = "invalid_request"
OUTCOME_MARKERS = frozenset(
    {CONNECT_ERROR, CONNECT_TIMEOUT, TLS_ERROR, READ_TIMEOUT, CONNECTION_DROPPED, INVALID_REQUEST}
)
NOT_SENT_MARKERS = frozenset({CONNECT_ERROR, CONNECT_TIMEOUT, TLS_ERROR, INVALID_REQUEST})
"""Markers of failures before the request reached the server: nothing can have happened."""


@dataclass(frozen=True)
class RequestTally:
    """Counts of attempts at one moment, by ``(method, route, outcome)``."""

    counts: Mapping[tuple[str, str, str], int]
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def by_route(self) -> dict[str, int]:
        """Attempts per ``"METHOD /route/template/"`` (the emulator's stats keys)."""
        out: Counter[str] = Counter()
        for (method, route, _), n in self.counts.items():
            out[f"{method} {route}"] += n
        return dict(sorted(out.items()))

    def by_outcome(self) -> dict[str, int]:
        """Attempts per status code or error marker, as strings."""
        out: Counter[str] = Counter()
        for (_, _, outcome), n in self.counts.items():
            out[outcome] += n
        return dict(sorted(out.items()))

    def count(
        self, method: str | None = None, route: str | None = None, outcome: int | str | None = None
    ) -> int:
        """Attempts matching every given part."""
        want = None if outcome is None else str(outcome)
        return sum(
            n
            for (m, r, o), n in self.counts.items()
            if (method is None or m == method)
            and (route is None or r == route)
            and (want is None or o == want)
        )


class RequestCounter:
    """A ``RequestHook`` that tallies attempts; safe to share between threads.

    Pass it as ``DataRobotClient(settings, on_request=counter)``; read with
    :meth:`snapshot`, start over with :meth:`reset`. ``chain`` calls another hook too.
    """

    def __init__(self, chain: RequestHook | None = None) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._seconds = 0.0
        self._chain = chain

    def __call__(self, method: str, route: str, outcome: int | str, elapsed: float) -> None:
        with self._lock:
            self._counts[(method, route, str(outcome))] += 1
            self._seconds += elapsed
        if self._chain is not None:
            self._chain(method, route, outcome, elapsed)

    def snapshot(self) -> RequestTally:
        with self._lock:
            return RequestTally(dict(self._counts), self._seconds)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._seconds = 0.0

    @property
    def total(self) -> int:
        return self.snapshot().total
