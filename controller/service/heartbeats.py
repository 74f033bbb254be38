"""The heartbeat of the namespace lock: a one-shot command's (:func:`holding`, which
``apply`` uses, see :mod:`controller.service.apply_lock`), and ``serve``'s
(:class:`LeaseKeeper`), which suspends applying while the lock cannot be confirmed.

A heartbeat of ``serve`` that cannot reach the lock store (a DataRobot outage) is not a lost
lock at once: at the first heartbeat (every third of the TTL) that finds more than half the
TTL gone without a refresh, the service *suspends*, asking the run in progress to start no
new action and starting no other, and reports not ready; the heartbeat goes on, ten times a
TTL, and the first refresh that succeeds within the TTL (the lease is still ours: nobody
could take it over yet) resumes it with a run. A refresh that finds the lease taken over, or
none succeeding within the TTL (a contender may be taking it over), is a lost lock.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from controller.logs import get_logger
from controller.service.locks import LockLost, LockWait, NamespaceLock

log = get_logger(__name__)


class KeeperEffects(Protocol):
    """What the service does when its :class:`LeaseKeeper` decides."""

    def pause_writes(self) -> None:
        """The lock is unconfirmed: the run in progress starts no new action."""

    def suspended(self, heartbeat_seconds: float) -> None:
        """Applying is suspended; heartbeat every ``heartbeat_seconds`` meanwhile."""

    def resumed(self, heartbeat_seconds: float) -> None:
        """The lock is confirmed again: resume, heart-beating every ``heartbeat_seconds``."""

    def lost(self, reason: str) -> None:
        """The lock is lost: stop."""


class LeaseKeeper:
    """The heartbeat of ``serve``'s namespace lock (see the module docstring): each
    :meth:`beat` refreshes the lease and decides between going on, suspending, resuming and
    a lost lock; ``effects`` carries the decision out."""

    def __init__(
        self,
        lock: NamespaceLock,
        effects: KeeperEffects,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = lock
        self._effects = effects
        self._monotonic = monotonic
        self._suspended_since: float | None = None  # monotonic: when last refreshed

    @property
    def suspended(self) -> bool:
        return self._suspended_since is not None

    def beat(self, *, stopping: bool = False) -> None:
        """One heartbeat; ``stopping`` when the service shuts down (nothing resumes)."""
        lock = self.lock
        try:
            lock.refresh()
        except LockLost as exc:
            self._effects.lost(str(exc))
        except Exception as exc:
            since = lock.seconds_since_refresh() or 0.0
            log.warning("namespace_lock_refresh_failed", error=exc, seconds_since_refresh=since)
            # Stop applying well before a contender could call the lease stale; past the TTL
            # a contender may be taking it over, and a late refresh would prove nothing.
            if since >= lock.ttl_seconds:
                self._effects.lost(
                    f"the namespace lock could not be refreshed for {since:.0f}s, longer "
                    f"than its TTL ({lock.ttl_seconds:g}s)"
                )
            elif since > lock.ttl_seconds / 2:
                self._suspend(since, stopping=stopping)
        else:
            self._resume(stopping=stopping)

    def _suspend(self, since: float, *, stopping: bool) -> None:
        """The lock could not be refreshed for a while: apply nothing until it can be."""
        self._effects.pause_writes()  # even when shutting down
        if self._suspended_since is not None or stopping:
            return
        self._suspended_since = self._monotonic() - since
        log.error(
            "namespace_lock_unconfirmed",
            seconds_since_refresh=round(since, 1),
            action="applying suspended until the lock can be refreshed",
        )
        self._effects.suspended(self.lock.ttl_seconds / 10)  # catch the end of the outage

    def _resume(self, *, stopping: bool) -> None:
        if self._suspended_since is None or stopping:
            return
        unconfirmed = self._monotonic() - self._suspended_since
        if unconfirmed >= self.lock.ttl_seconds:
            # A contender may have judged the lease stale meanwhile and be taking it over:
            # a refresh that lands now proves nothing. Stop; a restart waits for the lock.
            self._effects.lost(
                f"the namespace lock could not be refreshed for {unconfirmed:.0f}s, longer "
                f"than its TTL ({self.lock.ttl_seconds:g}s)"
            )
            return
        log.warning(
            "namespace_lock_confirmed",
            suspended_seconds=round(unconfirmed, 1),
            action="applying resumed",
        )
        self._suspended_since = None
        self._effects.resumed(self.lock.heartbeat_seconds)


@contextlib.contextmanager
def holding(
    lock: NamespaceLock,
    *,
    wait: bool,
    timeout: float | None = None,
    on_wait: Callable[[LockWait], None] | None = None,
    lost: threading.Event | None = None,
) -> Iterator[threading.Event]:
    """Hold ``lock`` for a one-shot command, heart-beating it from a background thread.

    Yields an event (``lost``, when given) that is set if the lock is lost mid-way (the
    caller should stop starting new writes). Released on exit, whatever happens.
    ``on_wait`` hears, while waiting, whom it waits for (see :meth:`NamespaceLock.acquire`).
    """
    lock.acquire(wait=wait, timeout=timeout, on_wait=on_wait)
    lost = threading.Event() if lost is None else lost
    done = threading.Event()

    def beat() -> None:
        while not done.wait(lock.heartbeat_seconds):
            try:
                lock.refresh()
            except LockLost as exc:
                log.error("namespace_lock_lost", namespace=lock.namespace, error=str(exc))
                lost.set()
                return
            except Exception as exc:
                since = lock.seconds_since_refresh() or 0.0
                log.warning(
                    "namespace_lock_heartbeat_failed",
                    error=f"{type(exc).__name__}: {exc}",
                    seconds_since_refresh=round(since, 3),
                )
                # Stop writing well before a contender could call the lease stale.
                if since > lock.ttl_seconds * 2 / 3:
                    log.error("namespace_lock_lost", namespace=lock.namespace, error=str(exc))
                    lost.set()
                    return

    thread = threading.Thread(target=beat, name="lock-heartbeat", daemon=True)
    thread.start()
    try:
        yield lost
    finally:
        done.set()
        thread.join(timeout=5)
        try:
            lock.release()
        except Exception as exc:  # the lease then expires after its TTL
            log.warning("namespace_lock_release_failed", error=f"{type(exc).__name__}: {exc}")
