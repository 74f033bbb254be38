"""The namespace lock: only one controller applies to a namespace at a time.

A lease with a heartbeat, kept in a :class:`~controller.service.leases.LeaseStore`:

- ``acquire`` creates the lease if there is none. If there is one, it watches it: a lease
  whose record has not changed for its TTL, *measured on this process's monotonic clock*,
  is stale (its holder crashed or hangs) and is taken over by deleting it by token and
  creating a new one. Clocks of different machines are never compared, so clock skew
  cannot make a live lease look stale; the price is that a newcomer waits one full TTL
  before taking over, however old the lease already was.
- The holder calls ``refresh`` every ``ttl / 3`` (the service does, from its scheduler),
  which rewrites the record with a new ``renewed_at``. A refresh that finds the lease
  taken over raises :class:`LockLost`; the service then stops applying.
- ``release`` deletes the lease by token on a clean exit.

There is no fencing: a holder that hangs for longer than the TTL and then wakes up may
apply for up to one heartbeat before it notices. Keep the TTL well above any expected
pause (garbage collection, a suspended VM).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from controller.errors import LockError
from controller.logs import get_logger
from controller.service.history import isoformat
from controller.service.leases import (
    FileLeaseStore,
    Holder,
    LeaseRecord,
    LeaseStore,
    LeaseStoreUnavailable,
)

log = get_logger(__name__)

# A waiting instance looks at the lease at least this often (a freed lock is taken soon).
_MAX_POLL_SECONDS = 5.0
# ...and says whom it waits for, and how much longer it will, this often.
WAIT_REPORT_SECONDS = 30.0


class LockLost(LockError):
    """This instance held the namespace lock and no longer does."""


class Cancellation(Protocol):
    """Anything with ``threading.Event.wait`` semantics: True once cancelled."""

    def wait(self, timeout: float | None = None) -> bool: ...


@dataclass(frozen=True)
class LockWait:
    """What a waiting instance reports: who holds the lock, how long it has waited, and how
    long it will still wait (``None``: until the lock is free)."""

    namespace: str
    holder: str
    waited_seconds: float
    remaining_seconds: float | None

    def describe(self) -> str:
        """One line for people."""
        still = (
            "until it is free"
            if self.remaining_seconds is None
            else f"{_duration(self.remaining_seconds)} more before giving up"
        )
        return (
            f"waiting for the lock on namespace {self.namespace!r}, held by {self.holder}: "
            f"waited {_duration(self.waited_seconds)}, will wait {still}"
        )


def _duration(seconds: float) -> str:
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


@dataclass(frozen=True)
class _Observation:
    token: str
    record: LeaseRecord | None
    since: float  # monotonic


class NamespaceLock:
    """A lease on a namespace for this process (see the module docstring)."""

    def __init__(
        self,
        store: LeaseStore,
        *,
        namespace: str,
        ttl_seconds: float = 60.0,
        poll_seconds: float | None = None,
        holder: Holder | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        report_seconds: float = WAIT_REPORT_SECONDS,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.store = store
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds
        self.poll_seconds = (
            poll_seconds if poll_seconds is not None else min(ttl_seconds / 4, _MAX_POLL_SECONDS)
        )
        self.holder = holder or Holder.current()
        self.report_seconds = report_seconds
        self._monotonic = monotonic
        self._wall = wall
        self._mutex = threading.Lock()
        self._record: LeaseRecord | None = None
        self._token: str | None = None
        self._last_refresh = 0.0
        self._seen: _Observation | None = None

    @property
    def heartbeat_seconds(self) -> float:
        """How often the holder must ``refresh``."""
        return self.ttl_seconds / 3

    @property
    def held(self) -> bool:
        return self._token is not None

    def seconds_since_refresh(self) -> float | None:
        """Monotonic seconds since the lease was last written by us; ``None`` when not held."""
        return self._monotonic() - self._last_refresh if self.held else None

    def try_acquire(self) -> bool:
        """One attempt: create the lease, or take it over if it has been stale for its TTL."""
        with self._mutex:
            if self._token is not None:
                return True
            if self._create():
                return True
            found = self.store.read()
            if found is None:
                return self._create()  # released between our create and read
            record, token = found
            if record is not None and record.holder == self.holder:
                # Ours, from an attempt whose answer was lost (an "outcome unknown" create).
                self._token, self._record, self._seen = token, record, None
                self._last_refresh = self._monotonic()
                return True
            if not self._stale(record, token):
                return False
            log.warning(
                "namespace_lock_stale", namespace=self.namespace, **_describe_record(record)
            )
            if not self.store.delete(token):
                return False  # someone else took it over first
            taken = self._create()
            if taken:
                log.warning("namespace_lock_taken_over", namespace=self.namespace)
            return taken

    def acquire(
        self,
        *,
        wait: bool = True,
        timeout: float | None = None,
        cancel: Cancellation | None = None,
        on_wait: Callable[[LockWait], None] | None = None,
    ) -> bool:
        """Take the lock. Returns True when held, False when ``cancel`` was set while
        waiting. Raises :class:`LockError` naming the holder when ``wait`` is False and the
        lock is held, or when ``timeout`` seconds passed. While waiting, a store that cannot
        be reached (:class:`LeaseStoreUnavailable`) is waited out too; without ``wait`` it is
        raised. A waiting instance logs (and passes ``on_wait``) whom it waits for and how
        long it will still wait, at once, every ``report_seconds`` and when the holder
        changes."""
        started = self._monotonic()
        deadline = None if timeout is None else started + timeout
        cancel = cancel if cancel is not None else threading.Event()
        announced: str | None = None
        next_report = started
        while True:
            try:
                if self.try_acquire():
                    break
                current = self.describe_holder() or "another controller"
            except LeaseStoreUnavailable as exc:
                if not wait:
                    raise
                current = f"an unreachable lock store ({exc})"
            if not wait or (deadline is not None and self._monotonic() >= deadline):
                raise LockError(self._held_message(current, waited=wait))
            now = self._monotonic()
            if current != announced or now >= next_report:
                report = LockWait(
                    self.namespace,
                    current,
                    now - started,
                    None if deadline is None else max(0.0, deadline - now),
                )
                log.info(
                    "namespace_lock_waiting",
                    namespace=self.namespace,
                    holder=current,
                    waited_s=round(report.waited_seconds),
                    gives_up_in_s=None
                    if report.remaining_seconds is None
                    else round(report.remaining_seconds),
                )
                if on_wait is not None:
                    on_wait(report)
                announced, next_report = current, now + self.report_seconds
            pause = self.poll_seconds
            if deadline is not None:
                pause = max(0.0, min(pause, deadline - self._monotonic()))
            if cancel.wait(pause):
                return False
        log.info("namespace_lock_acquired", namespace=self.namespace, holder=str(self.holder))
        return True

    def refresh(self) -> None:
        """Heartbeat. Raises :class:`LockLost` if the lease was taken over or deleted; lets
        storage errors through (the caller decides how long it can go without a refresh)."""
        with self._mutex:
            if self._token is None or self._record is None:
                raise LockLost(f"the lock on namespace {self.namespace!r} is not held")
            renewed = self._record.renewed(self._wall())
            if not self.store.refresh(renewed, self._token):
                self._token = self._record = None
                raise LockLost(
                    f"the lock on namespace {self.namespace!r} was taken over by another "
                    "controller (this one missed its heartbeats for longer than the TTL)"
                )
            self._record = renewed
            self._last_refresh = self._monotonic()

    def release(self) -> None:
        """Delete the lease if still ours. Never raises for a lease already gone."""
        with self._mutex:
            token, self._token, self._record = self._token, None, None
        if token is None:
            return
        if self.store.delete(token):
            log.info("namespace_lock_released", namespace=self.namespace)
        else:
            log.warning("namespace_lock_already_gone", namespace=self.namespace)

    def describe(self) -> dict[str, object]:
        """What ``/status`` shows about the lock (no storage call)."""
        seen = self._seen
        return {
            "namespace": self.namespace,
            "held": self.held,
            "holder": str(self.holder),
            "acquiredAt": isoformat(self._record.acquired_at) if self._record else None,
            "waitingFor": None if self.held or seen is None else self.describe_holder(),
        }

    def describe_holder(self) -> str | None:
        """The other holder, as last seen, for people (``None`` before the first look)."""
        seen = self._seen
        if seen is None:
            return None
        if seen.record is None:
            return "an unreadable lease"
        return _holder_text(seen.record)

    def _create(self) -> bool:
        now = self._wall()
        record = LeaseRecord(
            namespace=self.namespace,
            holder=self.holder,
            acquired_at=now,
            renewed_at=now,
            ttl_seconds=self.ttl_seconds,
            lease_id=uuid.uuid4().hex,
        )
        token = self.store.create_if_absent(record)
        if token is None:
            return False
        self._token, self._record, self._seen = token, record, None
        self._last_refresh = self._monotonic()
        return True

    def _stale(self, record: LeaseRecord | None, token: str) -> bool:
        now = self._monotonic()
        seen = self._seen
        if seen is None or seen.token != token or seen.record != record:
            self._seen = _Observation(token, record, now)
            return False
        # The record's TTL is honoured up to ours: a record claiming 1e18 s (or NaN) must
        # not hold the namespace for ever.
        ttl = self.ttl_seconds
        if record is not None and 0 < record.ttl_seconds < ttl:
            ttl = record.ttl_seconds
        return now - seen.since >= ttl

    def _held_message(self, holder: str, *, waited: bool) -> str:
        how = (
            "timed out waiting for it"
            if waited
            else "run without --no-wait to wait until it is free"
        )
        return (
            f"namespace {self.namespace!r} is locked by {holder}; only one controller may "
            f"apply to a namespace at a time. {how.capitalize()}; a holder that crashed "
            f"loses the lock after its TTL without a heartbeat."
        )


def _holder_text(record: LeaseRecord) -> str:
    return (
        f"{record.holder} since {isoformat(record.acquired_at)} "
        f"(last heartbeat {isoformat(record.renewed_at)})"
    )


def _describe_record(record: LeaseRecord | None) -> dict[str, object]:
    if record is None:
        return {"holder": "unreadable lease"}
    return {
        "holder": str(record.holder),
        "since": isoformat(record.acquired_at),
        "last_heartbeat": isoformat(record.renewed_at),
    }


def file_lock(namespace: str, directory: Path, *, ttl_seconds: float) -> NamespaceLock:
    """The namespace lock kept as a file in ``directory`` (resolved at the edge: ``--lock-dir``,
    else ``$XDG_STATE_HOME/dr-gitops/locks``)."""
    store = FileLeaseStore(directory, namespace)
    return NamespaceLock(store, namespace=namespace, ttl_seconds=ttl_seconds)
