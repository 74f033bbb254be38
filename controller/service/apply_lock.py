"""The namespace lock as ``apply`` takes it (:class:`ApplyLocking`): asked for only once
there is something to apply, heart-beaten while applying, released at the end; and the lock
``--lock`` asks for (:func:`make_lock`), for ``apply`` and ``serve`` alike.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Iterator

from controller.remote import DataRobotClient
from controller.service.datarobot_leases import DataRobotLeaseStore
from controller.service.heartbeats import holding
from controller.service.leases import LeaseStoreUnavailable
from controller.service.locks import LockWait, NamespaceLock, file_lock
from controller.settings import ApiSettings, LockSettings


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
    applying before a contender may call the lease stale (see :class:`LeaseKeeper`)."""
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
