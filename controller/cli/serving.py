"""``dr-gitops serve`` and the namespace lock shared with ``apply``."""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from controller.cli.common import (
    Subparsers,
    add_api_options,
    add_engine_options,
    add_source_options,
    api_settings,
    engine_settings,
    git_settings,
)
from controller.logs import redactor
from controller.remote import DataRobotClient, RequestHook
from controller.service import NamespaceLock, file_lock, serve
from controller.service.datarobot_leases import DataRobotLeaseStore
from controller.service.leases import LeaseStoreUnavailable
from controller.service.locking import holding
from controller.service.metrics import ServiceMetrics
from controller.service.reconciler import EngineRunner
from controller.settings import ApiSettings, ServiceSettings, parse_listen, read_webhook_secret
from controller.sources import Checkout, open_source


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "serve",
        help="keep DataRobot equal to a branch: poll, take webhooks, heal drift",
        description=(
            "Run as a service: reconcile on an interval (and at once on a GitHub or GitLab "
            "push webhook), fetching git first each time, and serve /healthz, /readyz, "
            "/metrics, /status and /webhooks/{github,gitlab} on --listen. Only one "
            "controller applies to a namespace at a time (see --lock). SIGTERM lets a running "
            "apply finish, then exits 0."
        ),
    )
    add_source_options(parser, repo_required=True)
    add_api_options(parser)
    add_engine_options(parser)
    group = parser.add_argument_group("service")
    group.add_argument("--interval", type=float, default=300.0, metavar="SECONDS",
                       help="seconds between runs (default: 300)")  # fmt: skip
    group.add_argument("--jitter", type=float, default=30.0, metavar="SECONDS",
                       help="random delay added to each interval (default: 30)")  # fmt: skip
    group.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                       help="where the HTTP endpoints listen (default: 127.0.0.1:8080)")  # fmt: skip
    group.add_argument(
        "--webhook-secret-file",
        type=Path,
        metavar="FILE",
        help="shared secret of the webhooks (else $DR_GITOPS_WEBHOOK_SECRET_FILE or "
        "$DR_GITOPS_WEBHOOK_SECRET; without one, webhook routes are disabled)",
    )
    group.add_argument("--shutdown-grace", type=float, default=240.0, metavar="SECONDS",
                       help="how long SIGTERM waits for a running apply (default: 240)")  # fmt: skip
    group.add_argument("--readiness-window", type=float, default=None, metavar="SECONDS",
                       help="/readyz fails when no run succeeded this recently (default: 3 intervals)")  # fmt: skip
    group.add_argument(
        "--prune", action="store_true", help="delete owned objects whose manifests are gone"
    )
    group.add_argument("--max-deletions", type=int, default=5, metavar="N",
                       help="refuse to prune more than N objects in one run (default: 5)")  # fmt: skip
    group.add_argument("--allow-empty", action="store_true",
                       help="allow pruning when the manifests declare nothing")  # fmt: skip
    add_lock_options(parser)
    parser.set_defaults(run=run_serve)


def add_lock_options(parser: argparse.ArgumentParser, *, timeout: float | None = None) -> None:
    """The namespace-lock flags; ``timeout`` is the default of --lock-timeout."""
    group = parser.add_argument_group(
        "namespace lock",
        "Only one controller applies to a namespace at a time. The default lock is a custom "
        "model named 'dr-gitops lock: <namespace>' in DataRobot (userProvidedId "
        "<namespace>/.dr-gitops-lock), so it excludes controllers on any machine; the "
        "token's user must be allowed to create custom models.",
    )
    group.add_argument(
        "--lock",
        choices=["datarobot", "file", "none"],
        default="datarobot",
        help="where the lock lives: in DataRobot (excludes controllers on any machine), a "
        "file in --lock-dir (one host), or none (default: datarobot)",
    )
    group.add_argument("--lock-ttl", type=float, default=60.0, metavar="SECONDS",
                       help="a holder that stops heart-beating loses the lock after this (default: 60)")  # fmt: skip
    group.add_argument("--lock-dir", type=Path, metavar="DIR",
                       help="folder of --lock file (default: $XDG_STATE_HOME/dr-gitops/locks)")  # fmt: skip
    wait = "wait as long as it takes" if timeout is None else f"{timeout:g}"
    group.add_argument(
        "--lock-timeout",
        type=float,
        default=timeout,
        metavar="SECONDS",
        help=f"give up (exit 1, naming the holder) after waiting this long for the lock (default: {wait})",
    )
    group.add_argument(
        "--no-wait",
        action="store_true",
        help="exit 1 at once, naming the holder, when another controller holds the namespace",
    )


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
    store = DataRobotLeaseStore(client, namespace)
    return NamespaceLock(store, namespace=namespace, ttl_seconds=args.lock_ttl)


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
    with open_source(git, environ=env) as source:
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
        lock_wait=not args.no_wait,
        lock_wait_timeout_seconds=args.lock_timeout,
        lock_ttl_seconds=args.lock_ttl,
        lock_dir=args.lock_dir,
    )
    runner = EngineRunner(git, api, engine_settings(args), env)
    metrics = ServiceMetrics()
    with DataRobotClient(api, on_request=counting_into(metrics)) as client:
        lock = make_lock(args, namespace, client)
        return serve(settings, runner, lock=lock, metrics=metrics)


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
                self._client = DataRobotClient(self._api)
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
            self._lock, wait=not self._args.no_wait, timeout=self._args.lock_timeout
        ) as lost:
            yield lost

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@contextlib.contextmanager
def apply_locking(args: argparse.Namespace) -> Iterator[ApplyLocking]:
    """:class:`ApplyLocking` for a command with the lock options; closes its client."""
    locking = ApplyLocking(args, api_settings(args, os.environ))
    try:
        yield locking
    finally:
        locking.close()
