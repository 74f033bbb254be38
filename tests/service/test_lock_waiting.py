"""A waiting apply says, every 30 s, who holds the lock and how long it will still wait."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from controller.errors import LockError
from controller.service import FileLeaseStore, Holder, NamespaceLock
from controller.service.locks import LockWait
from tests.service.fakeclock import Clock

NAMESPACE = "team-a/models"


def _lock(tmp_path: Path, clock: Clock, name: str, **kwargs: float) -> NamespaceLock:
    return NamespaceLock(
        FileLeaseStore(tmp_path, NAMESPACE),
        namespace=NAMESPACE,
        ttl_seconds=3600,  # a live holder: no take-over while the test waits
        holder=Holder("ci-host", 7, name),
        monotonic=clock,
        wall=clock,
        **kwargs,
    )


def test_a_waiting_instance_reports_the_holder_and_the_time_left_every_interval(
    tmp_path: Path,
) -> None:
    clock = Clock()
    _lock(tmp_path, clock, "serve").acquire(wait=False)
    waiting = _lock(tmp_path, clock, "apply", poll_seconds=5.0, report_seconds=30.0)
    reports: list[LockWait] = []
    with capture_logs() as logged, pytest.raises(LockError, match="Timed out"):
        waiting.acquire(timeout=100, cancel=clock, on_wait=reports.append)
    assert [(round(r.waited_seconds), round(r.remaining_seconds or 0)) for r in reports] == [
        (0, 100),
        (30, 70),
        (60, 40),
        (90, 10),
    ]
    assert all("ci-host pid 7 (instance serve)" in r.holder for r in reports)
    events = [e for e in logged if e["event"] == "namespace_lock_waiting"]
    assert [e["gives_up_in_s"] for e in events] == [100, 70, 40, 10]
    assert (
        reports[1]
        .describe()
        .startswith(
            "waiting for the lock on namespace 'team-a/models', held by ci-host pid 7 (instance "
            "serve) since "
        )
    )
    assert (
        reports[1].describe().endswith(": waited 30 s, will wait 1 min 10 s more before giving up")
    )


def test_without_a_timeout_the_report_says_it_waits_until_the_lock_is_free(
    tmp_path: Path,
) -> None:
    clock = Clock()
    _lock(tmp_path, clock, "serve").acquire(wait=False)
    waiting = _lock(tmp_path, clock, "apply", poll_seconds=5.0, report_seconds=30.0)
    reports: list[LockWait] = []

    def stop_after_three(report: LockWait) -> None:
        reports.append(report)
        if len(reports) == 3:
            clock.wait = lambda timeout=None: True  # type: ignore[method-assign]

    assert waiting.acquire(cancel=clock, on_wait=stop_after_three) is False
    assert [round(r.waited_seconds) for r in reports] == [0, 30, 60]
    assert reports[0].describe().endswith("will wait until it is free")
