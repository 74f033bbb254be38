"""``dr-gitops serve`` and the namespace lock shared with ``apply``."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import os
import sys
import threading
from collections.abc import Iterator

from controller import logs
from controller.cli.common import (
    api_settings,
    engine_settings,
    git_settings,
    trusted_creators,
)
from controller.cli.notificationfile import load_notifications
from controller.cli.servicecalls import operations_settings
from controller.logs import redactor
from controller.remote import DataRobotClient, RequestHook
from controller.service import NamespaceLock, file_lock, serve
from controller.service.datarobot_leases import DataRobotLeaseStore
from controller.service.leases import LeaseStoreUnavailable
from controller.service.locking import LockWait, holding
from controller.service.metrics import ServiceMetrics
from controller.service.notifying import Notifier
from controller.service.reconciler import EngineRunner
from controller.settings import ApiSettings, ServiceSettings, parse_listen, read_webhook_secret
from controller.sources import Checkout, open_source


def make_lock(
    args: argparse.Namespace, namespace: str, client: DataRobotClient | None
) -> NamespaceLock | None:
    """The lock ``--lock`` asks for (``client`` is needed for ``--lock datarobot``)."""
    settings = ServiceSettings(lock_ttl_seconds=args.lock_ttl, lock_dir=args.lock_dir)
    if args.lock == "none":
        return None
    if args.lock == "file":
        return file_lock(namespace, settings)
    assert client is not None, "--lock datarobot needs a DataRobot client"
    store = DataRobotLeaseStore(client, namespace, trusted_creators=trusted_creators(args))
    return NamespaceLock(store, namespace=namespace, ttl_seconds=args.lock_ttl)


def lock_api(api: ApiSettings, ttl: float) -> ApiSettings:
    """The API settings of the lock's own client: every call (retries included) ends within
    a tenth of the TTL, so that a heartbeat failing in an outage is known in time to stop
    applying before a contender may call the lease stale (see controller.service.serving)."""
    budget = max(1.0, ttl / 10)
    return dataclasses.replace(
        api,
        connect_timeout=min(api.connect_timeout, budget),
        read_timeout=min(api.read_timeout, budget),
        max_retry_time=min(api.max_retry_time, budget),
    )


def counting_into(metrics: ServiceMetrics) -> RequestHook:
    """A client hook that counts API requests in the service's metrics (the lock's own)."""

    def observe(method: str, route: str, status: int | str, _elapsed: float) -> None:
        metrics.observe_api_request(method, route, status if isinstance(status, int) else 0)

    return observe


def tracked_ref(checkout: Checkout, ref: str | None) -> str:
    """The ref whose pushes trigger a run: the branch or tag checked out (so a URL's
    default branch works without --ref), else ``--ref``, else ``main``."""
    if checkout.ref_kind == "tag" and checkout.ref_name:
        return f"refs/tags/{checkout.ref_name}"
    if checkout.ref_kind == "branch" and checkout.ref_name:
        return checkout.ref_name
    return ref or "main"


def run_serve(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    secret = read_webhook_secret(args.webhook_secret_file)
    git = git_settings(args, env)
    api = api_settings(args, env)
    redactor.register(secret, api.token, git.https_token)
    host, port = parse_listen(args.listen)
    probes = parse_listen(args.probe_listen, flag="--probe-listen") if args.probe_listen else None
    engine = engine_settings(args)
    with open_source(git, environ=env, manifests_path=engine.path) as source:
        namespace = source.namespace()
        ref = tracked_ref(source.checkout, args.ref)
    settings = ServiceSettings(
        ref=ref,
        listen_host=host,
        listen_port=port,
        interval_seconds=args.interval,
        jitter_seconds=args.jitter,
        shutdown_grace_seconds=args.shutdown_grace,
        readiness_window_seconds=args.readiness_window,
        webhook_secret=secret,
        webhook_min_interval_seconds=args.webhook_min_interval,
        http_connection_limit=args.connection_limit,
        http_channel_timeout_seconds=args.channel_timeout,
        probe_host=probes[0] if probes else "127.0.0.1",
        probe_port=probes[1] if probes else None,
        lock_wait=not args.no_wait,
        lock_wait_timeout_seconds=args.lock_timeout,
        lock_ttl_seconds=args.lock_ttl,
        lock_dir=args.lock_dir,
    )
    operations = operations_settings(args, env, api=api, service=settings, namespace=namespace)
    runner = EngineRunner(git, api, engine, env, namespace=namespace)
    metrics = ServiceMetrics()
    notifier = None
    if args.notifications is not None:
        notifier = Notifier(load_notifications(args.notifications, env, namespace), metrics)
    lock_settings = lock_api(api, args.lock_ttl)
    with DataRobotClient(lock_settings, on_request=counting_into(metrics)) as client:
        lock = make_lock(args, namespace, client)
        return serve(
            settings, runner, lock=lock, metrics=metrics, notifier=notifier, operations=operations
        )


class ApplyLocking:
    """The namespace lock as ``apply`` holds it: asked for only once there is something to
    apply, heart-beaten while applying, released at the end."""

    def __init__(self, args: argparse.Namespace, api: ApiSettings) -> None:
        self._args = args
        self._api = api
        self._client: DataRobotClient | None = None
        self._lock: NamespaceLock | None = None
        self._made = False

    def try_take(self, namespace: str) -> bool:
        """One attempt without waiting; True when held (or when ``--lock none``)."""
        if not self._made:
            if self._args.lock == "datarobot":
                self._client = DataRobotClient(lock_api(self._api, self._args.lock_ttl))
            self._lock = make_lock(self._args, namespace, self._client)
            self._made = True
        if self._lock is None:
            return True
        try:
            return self._lock.try_acquire()
        except LeaseStoreUnavailable:
            return False  # held() waits it out (or reports it with --no-wait)

    @contextlib.contextmanager
    def held(self) -> Iterator[threading.Event]:
        """Hold the lock (waiting per ``--no-wait``/``--lock-timeout``); yields an event set
        when the lock is lost, after which no new write may start."""
        assert self._made, "call try_take first"
        if self._lock is None:
            yield threading.Event()
            return
        with holding(
            self._lock,
            wait=not self._args.no_wait,
            timeout=self._args.lock_timeout,
            on_wait=functools.partial(_tell_people, command=self._args.command),
        ) as lost:
            yield lost

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _tell_people(report: LockWait, *, command: str) -> None:
    """On a terminal, where info logs are not shown, say whom apply waits for. Otherwise the
    ``namespace_lock_waiting`` log line says it, and a plain line would repeat it (with
    ``--log-level info``) or break a JSON log (``serve``)."""
    if command != "serve" and sys.stderr.isatty() and not logs.shows("info"):
        print(report.describe(), file=sys.stderr, flush=True)


@contextlib.contextmanager
def apply_locking(args: argparse.Namespace) -> Iterator[ApplyLocking]:
    """:class:`ApplyLocking` for a command with the lock options; closes its client."""
    locking = ApplyLocking(args, api_settings(args, os.environ))
    try:
        yield locking
    finally:
        locking.close()
