"""``python -m tests.service.fakeserve``: the real ``serve()`` with a fake run function.

What the CLI will do for ``dr-gitops serve``, minus the engine: configure logging, read the
settings, build a file-based namespace lock, call ``serve``. Used by the process tests.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from controller import logs
from controller.cli.configuration import parse_listen, read_webhook_secret
from controller.errors import DrGitopsError
from controller.service import file_lock, serve
from controller.settings import ServiceSettings
from tests.fixtures.service import FakeRun


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--interval", type=float, default=3600.0)
    parser.add_argument("--run-seconds", type=float, default=0.0)
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--journal", type=Path)
    parser.add_argument("--lock-dir", type=Path)
    parser.add_argument("--lock-ttl", type=float, default=1.0)
    parser.add_argument("--no-wait", action="store_true")
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--webhook-secret-file", type=Path)
    args = parser.parse_args()

    token = os.environ.get("DATAROBOT_API_TOKEN")
    secret = read_webhook_secret(args.webhook_secret_file, os.environ)
    logs.configure(json=True, secrets=[token, secret])
    host, port = parse_listen(args.listen)
    settings = ServiceSettings(
        listen_host=host,
        listen_port=port,
        interval_seconds=args.interval,
        jitter_seconds=0.0,
        backoff_initial_seconds=0.05,
        backoff_max_seconds=0.2,
        shutdown_grace_seconds=args.grace,
        webhook_secret=secret,
        webhook_min_interval_seconds=0.0,  # the tests send webhooks back to back
        lock_wait=not args.no_wait,
        lock_ttl_seconds=args.lock_ttl,
    )
    lock = None
    if args.lock_dir:
        lock = file_lock("team-a/models", args.lock_dir, ttl_seconds=args.lock_ttl)
    run = FakeRun(
        seconds=args.run_seconds, fail_first=args.fail_first, journal=args.journal, leak=token
    )
    try:
        return serve(settings, run, lock=lock)
    except DrGitopsError as exc:
        print(f"error: {logs.redactor.scrub(str(exc))}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
