"""``dr-gitops serve`` and the namespace lock shared with ``apply``."""

from __future__ import annotations

import argparse
import os
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
from controller.remote import DataRobotClient
from controller.service import NamespaceLock, file_lock, serve
from controller.service.datarobot_leases import DataRobotLeaseStore
from controller.service.reconciler import EngineRunner
from controller.settings import ServiceSettings, parse_listen, read_webhook_secret
from controller.sources import open_source


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


def add_lock_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("namespace lock")
    group.add_argument(
        "--lock",
        choices=["datarobot", "file", "none"],
        default="datarobot",
        help="where the lock lives: a lock object in DataRobot (excludes controllers on any "
        "machine), a file in --lock-dir (one host), or none (default: datarobot)",
    )
    group.add_argument("--lock-ttl", type=float, default=60.0, metavar="SECONDS",
                       help="a holder that stops heart-beating loses the lock after this (default: 60)")  # fmt: skip
    group.add_argument("--lock-dir", type=Path, metavar="DIR", help="folder of --lock file")
    group.add_argument(
        "--no-wait",
        action="store_true",
        help="exit 1 at once, naming the holder, when another controller holds the namespace",
    )


def make_lock(
    args: argparse.Namespace, namespace: str, client: DataRobotClient
) -> NamespaceLock | None:
    settings = ServiceSettings(lock_ttl_seconds=args.lock_ttl, lock_dir=args.lock_dir)
    if args.lock == "none":
        return None
    if args.lock == "file":
        return file_lock(namespace, settings)
    store = DataRobotLeaseStore(client, namespace)
    return NamespaceLock(store, namespace=namespace, ttl_seconds=args.lock_ttl)


def run_serve(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    secret = read_webhook_secret(args.webhook_secret_file)
    redactor.register(secret)
    host, port = parse_listen(args.listen)
    git = git_settings(args, env)
    api = api_settings(args, env)
    settings = ServiceSettings(
        ref=args.ref or "main",
        listen_host=host,
        listen_port=port,
        interval_seconds=args.interval,
        jitter_seconds=args.jitter,
        shutdown_grace_seconds=args.shutdown_grace,
        readiness_window_seconds=args.readiness_window,
        webhook_secret=secret,
        lock_wait=not args.no_wait,
        lock_ttl_seconds=args.lock_ttl,
        lock_dir=args.lock_dir,
    )
    with open_source(git, environ=env) as source:
        namespace = source.namespace()
    runner = EngineRunner(git, api, engine_settings(args), env)
    with DataRobotClient(api) as client:
        return serve(settings, runner, lock=make_lock(args, namespace, client))
