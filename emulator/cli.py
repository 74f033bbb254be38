"""The ``dr-emulator`` command: serve the DataRobot API emulator in the foreground.

``--help`` lists the seeded users, groups, organization and execution environments.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from emulator.seeding import SeedError, describe_seed, load_seed


def _seed_path(argv: Sequence[str]) -> str | None:
    """The --seed-file value, read before full parsing so --help can describe that seed."""
    for index, arg in enumerate(argv):
        if arg == "--seed-file" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--seed-file="):
            return arg.split("=", 1)[1]
    return None


EMULATOR_PORT = 8090


def build_parser(epilog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dr-emulator",
        description=(
            "Serve a stateful emulator of the DataRobot Custom Models / Custom Jobs API at "
            "http://HOST:PORT/api/v2 (admin routes under /__emulator__/)."
        ),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=EMULATOR_PORT,
        help=f"port to listen on; 0 picks a free one (default: {EMULATOR_PORT}, apart from "
        "the 8080 of `dr-gitops serve`, so both run on one machine)",
    )
    parser.add_argument(
        "--token",
        default="emulator-token",
        help="API token accepted for the token owner (default: emulator-token)",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="R",
        help="probability 0..1 of answering a request with 429/502/503/504 (default: 0)",
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        metavar="N",
        help="added latency per API request, in milliseconds (default: 0)",
    )
    parser.add_argument(
        "--seed-file",
        metavar="F",
        help="YAML or JSON seed replacing the built-in one (same shape as emulator/data/seed.yaml)",
    )
    parser.add_argument(
        "--state-file",
        metavar="F",
        help="keep the state in this JSON file across restarts (written atomically)",
    )
    parser.add_argument("--threads", type=int, default=8, help="worker threads (default: 8)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        seed = load_seed(_seed_path(args_list))
    except SeedError as exc:
        print(f"dr-emulator: error: {exc}", file=sys.stderr)
        return 1
    epilog = (
        describe_seed(seed)
        + "\n\nAdmin routes (no token): GET /__emulator__/ lists them (stats, reset,\nfaults, state, config, deploy)."
    )
    args = build_parser(epilog).parse_args(args_list)
    from emulator.errors import ApiError  # imported late: --help needs no Flask
    from emulator.server import EmulatorServer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        server = EmulatorServer(
            args.host, args.port, args.token, args.seed_file, args.state_file, args.threads
        )
        if args.fault_rate or args.latency_ms:
            server.set_faults({"rate": args.fault_rate, "latencyMs": args.latency_ms})
    except ApiError as exc:
        print(f"dr-emulator: error: {exc.message}: {exc.errors}", file=sys.stderr)
        return 1
    except (SeedError, ValueError, OSError) as exc:
        print(f"dr-emulator: error: {exc}", file=sys.stderr)
        return 1
    # SIGTERM (docker stop, kill) ends like Ctrl-C, so the state file gets its last write.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(
        f"dr-emulator serving {server.api_url} (token owner: {seed.user(seed.token_owner)['username']})",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        server.serve_forever()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
