"""The heartbeat of ``serve``'s lock (LeaseKeeper): an outage suspends applying, a refresh
within the TTL resumes it, a lease taken over or none confirmed for a TTL is a lost lock."""

from __future__ import annotations

from typing import Any

from controller.service.heartbeats import LeaseKeeper
from controller.service.locks import LockLost


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FlakyLock:
    """A lock whose refresh fails while ``down``; ``taken`` makes it find the lease gone."""

    ttl_seconds = 60.0
    heartbeat_seconds = 20.0

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.down = False
        self.taken = False
        self.refreshed_at = clock.now

    def refresh(self) -> None:
        if self.taken:
            raise LockLost("taken over by ci-7")
        if self.down:
            raise ConnectionError("DataRobot is down")
        self.refreshed_at = self.clock.now

    def seconds_since_refresh(self) -> float:
        return self.clock.now - self.refreshed_at


class Effects:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def pause_writes(self) -> None:
        self.seen.append(("pause", None))

    def suspended(self, heartbeat_seconds: float) -> None:
        self.seen.append(("suspended", heartbeat_seconds))

    def resumed(self, heartbeat_seconds: float) -> None:
        self.seen.append(("resumed", heartbeat_seconds))

    def lost(self, reason: str) -> None:
        self.seen.append(("lost", reason))


def _keeper() -> tuple[LeaseKeeper, FlakyLock, Clock, Effects]:
    clock = Clock()
    lock = FlakyLock(clock)
    effects = Effects()
    keeper = LeaseKeeper(lock, effects, monotonic=clock)  # type: ignore[arg-type]
    return keeper, lock, clock, effects


def test_an_outage_suspends_after_half_the_ttl_and_a_refresh_in_time_resumes() -> None:
    keeper, lock, clock, effects = _keeper()
    lock.down = True
    clock.now += 20
    keeper.beat()
    assert effects.seen == []  # a third of the TTL: not yet
    clock.now += 20
    keeper.beat()
    assert effects.seen == [("pause", None), ("suspended", 6.0)]
    assert keeper.suspended
    lock.down = False
    clock.now += 6
    keeper.beat()
    assert effects.seen[-1] == ("resumed", 20.0)
    assert not keeper.suspended


def test_no_refresh_for_a_whole_ttl_is_a_lost_lock() -> None:
    keeper, lock, clock, effects = _keeper()
    lock.down = True
    clock.now += 61
    keeper.beat()
    assert effects.seen[-1][0] == "lost"
    assert "longer than its TTL (60s)" in effects.seen[-1][1]


def test_a_refresh_landing_after_the_ttl_proves_nothing() -> None:
    keeper, lock, clock, effects = _keeper()
    lock.down = True
    clock.now += 40
    keeper.beat()  # suspended, 40 s after the last refresh
    lock.down = False
    clock.now += 25  # 65 s unconfirmed: a contender may be taking over
    keeper.beat()
    assert effects.seen[-1][0] == "lost"


def test_a_lease_taken_over_is_lost_at_once_and_nothing_resumes_while_stopping() -> None:
    keeper, lock, clock, effects = _keeper()
    lock.taken = True
    keeper.beat()
    assert effects.seen == [("lost", "taken over by ci-7")]
    keeper, lock, clock, effects = _keeper()
    lock.down = True
    clock.now += 40
    keeper.beat(stopping=True)
    assert effects.seen == [("pause", None)]  # writes paused, but no suspension begins
