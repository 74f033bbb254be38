"""The ``dr-gitops`` command line: parse flags, configure logging, run one command.

Every user mistake ends as a ``DrGitopsError`` whose message is printed without a stack
trace. Exit codes: 0 success (no changes for ``plan --detailed-exitcode``), 1 error
(invalid manifests included), 2 ``plan --detailed-exitcode`` found changes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from controller import __version__, logs
from controller.cli.options import (
    register_demo,
    register_export,
    register_plan_and_apply,
    register_serve,
    register_validate,
)
from controller.errors import DrGitopsError

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dr-gitops",
        description=(
            "Keep DataRobot custom models, custom jobs, runtime parameters and sharing equal "
            "to the manifests in a git repository."
        ),
        epilog="Exit codes: 0 success, 1 error, 2 `plan --detailed-exitcode` found changes.",
    )
    parser.add_argument("--version", action="version", version=f"dr-gitops {__version__}")
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: info for serve and apply, warning otherwise)",
    )
    parser.add_argument(
        "--log-format",
        default="auto",
        choices=["auto", "json", "console"],
        help="log format: JSON when stderr is not a TTY unless set (default: auto)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_validate(sub)
    register_plan_and_apply(sub)
    register_serve(sub)
    register_demo(sub)
    register_export(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = args.log_level or ("info" if args.command in ("serve", "apply") else "warning")
    logs.configure(
        level=level, json={"auto": None, "json": True, "console": False}[args.log_format]
    )
    command: Command = args.run
    try:
        return command(args)
    except DrGitopsError as exc:
        print(f"error: {logs.redactor.scrub(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
