"""Holding the namespace lock while applying: the heartbeat of a one-shot command
(:func:`holding`), and the lock as ``apply`` takes it (:class:`ApplyLocking`): asked for only
once there is something to apply, heart-beaten while applying, released at the end.

:func:`make_lock` builds the lock ``--lock`` asks for, for ``apply`` and ``serve`` alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator

from controller.logs import get_logger
from controller.remote import DataRobotClient
from controller.service.datarobot_leases import DataRobotLeaseStore
from controller.service.leases import LeaseStoreUnavailable
from controller.service.locks import LockLost, LockWait, NamespaceLock, file_lock
from controller.settings import ApiSettings, LockSettings

log = get_logger(__name__)


def make_lock(
    settings: LockSettings, namespace: str, client: DataRobotClient | None
) -> NamespaceLock | None:
    """The lock ``settings`` ask for (``client`` is needed for a lock in DataRobot)."""
    if settings.store == "none":
        return None
    if settings.store == "file":
        assert settings.directory is not None, "a file lock needs its folder"
        return file_lock(namespace, settings.directory, ttl_seconds=settings.ttl_seconds)
    assert client is not None, "a lock in DataRobot needs a DataRobot client"
    store = DataRobotLeaseStore(client, namespace, trusted_creators=settings.trusted_creators)
    return NamespaceLock(store, namespace=namespace, ttl_seconds=settings.ttl_seconds)


def lock_api(api: ApiSettings, ttl: float) -> ApiSettings:
    """The API settings of the lock's own client: every call (retries included) ends within
    a tenth of the TTL, so that a heartbeat failing in an outage is known in time to stop
    applying before a contender may call the lease stale (see controller.service.daemon)."""
    budget = max(1.0, ttl / 10)
    return dataclasses.replace(
        api,
        connect_timeout=min(api.connect_timeout, budget),
        read_timeout=min(api.read_timeout, budget),
        max_retry_time=min(api.max_retry_time, budget),
    )


class ApplyLocking:
    """The namespace lock as ``apply`` holds it (a :class:`~controller.service.orchestrator.
    Locking`): asked for only once there is something to apply, heart-beaten while applying,
    released at the end. ``on_wait`` hears whom it waits for. Use it as a context manager
    (it closes the lock's own client)."""

    def __init__(
        self,
        settings: LockSettings,
        api: ApiSettings,
        *,
        on_wait: Callable[[LockWait], None] | None = None,
    ) -> None:
        self._settings = settings
        self._api = api
        self._on_wait = on_wait
        self._client: DataRobotClient | None = None
        self._lock: NamespaceLock | None = None
        self._made = False

    def __enter__(self) -> ApplyLocking:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def try_take(self, namespace: str) -> bool:
        """One attempt without waiting; True when held (or when there is no lock)."""
        if not self._made:
            if self._settings.store == "datarobot":
                self._client = DataRobotClient(lock_api(self._api, self._settings.ttl_seconds))
            self._lock = make_lock(self._settings, namespace, self._client)
            self._made = True
        if self._lock is None:
            return True
        try:
            return self._lock.try_acquire()
        except LeaseStoreUnavailable:
            return False  # held() waits it out (or reports it with --no-wait)

    @contextlib.contextmanager
    def held(self, stop: threading.Event) -> Iterator[None]:
        """Hold the lock (waiting unless ``settings.wait`` is off, up to
        ``settings.timeout_seconds``); ``stop`` is set when the lock is lost, after which no
        new write may start."""
        assert self._made, "call try_take first"
        if self._lock is None:
            yield
            return
        with holding(
            self._lock,
            wait=self._settings.wait,
            timeout=self._settings.timeout_seconds,
            on_wait=self._on_wait,
            lost=stop,
        ):
            yield

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


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
