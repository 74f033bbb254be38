"""``dr-gitops serve``: settings from the flags and the environment, then the service."""

from __future__ import annotations

import argparse

from controller.cli.configuration import (
    api_settings,
    engine_settings,
    environment,
    git_settings,
    lock_settings,
    parse_listen,
    read_webhook_secret,
    register_secrets,
)
from controller.cli.notificationfile import load_notifications
from controller.cli.servicecalls import operations_settings
from controller.remote import DataRobotClient, RequestHook
from controller.service import serve
from controller.service.apply_lock import lock_api, make_lock
from controller.service.engine_runs import EngineRunner
from controller.service.metrics import ServiceMetrics
from controller.service.notifier import Notifier
from controller.settings import ServiceSettings
from controller.sources import Checkout, open_source


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
    env = environment()
    secret = read_webhook_secret(args.webhook_secret_file, env)
    git = git_settings(args, env)
    api = api_settings(args, env)
    register_secrets(secret, api.token, git.https_token)
    host, port = parse_listen(args.listen)
    probes = parse_listen(args.probe_listen, flag="--probe-listen") if args.probe_listen else None
    engine = engine_settings(args, env)
    locking = lock_settings(args, env)
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
    )
    operations = operations_settings(args, env, api=api, service=settings, namespace=namespace)
    runner = EngineRunner(git, api, engine, env, namespace=namespace)
    metrics = ServiceMetrics()
    notifier = None
    if args.notifications is not None:
        notifier = Notifier(load_notifications(args.notifications, env, namespace), metrics)
    with DataRobotClient(lock_api(api, args.lock_ttl), on_request=counting_into(metrics)) as client:
        lock = make_lock(locking, namespace, client)
        return serve(
            settings, runner, lock=lock, metrics=metrics, notifier=notifier, operations=operations
        )
