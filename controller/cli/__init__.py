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
from controller.cli.commands import (
    register_control,
    register_demo,
    register_export,
    register_plan_and_apply,
    register_serve,
    register_status,
    register_validate,
)
from controller.errors import DrGitopsError, SettingError

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dr-gitops",
        description=(
            "Keep DataRobot custom models, custom jobs, runtime parameters and sharing equal "
            "to the manifests in a git repository."
        ),
        epilog="Exit codes: 0 success, 1 error (or a plan with a blocked action), 2 "
        "`plan --detailed-exitcode` found changes.",
    )
    parser.add_argument("--version", action="version", version=f"dr-gitops {__version__}")
    _add_logging_options(parser, default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_validate(sub)
    register_plan_and_apply(sub)
    register_serve(sub)
    register_status(sub)
    register_control(sub)
    register_demo(sub)
    register_export(sub)
    for command in sub.choices.values():
        # Also after the command (`dr-gitops apply --log-level debug`); given there, they win.
        _add_logging_options(command, default=argparse.SUPPRESS)
    return parser


def _add_logging_options(parser: argparse.ArgumentParser, *, default: object) -> None:
    parser.add_argument(
        "--log-level",
        default=default,
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: info for serve, and for apply without a terminal; "
        "warning otherwise)",
    )
    parser.add_argument(
        "--log-format",
        default=default,
        choices=["auto", "json", "console"],
        help="log format: JSON when stderr is not a TTY, and always for serve, unless set "
        "(default: auto)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    choice = logs.choose_logging(
        args.command, level=args.log_level, log_format=args.log_format, tty=sys.stderr.isatty()
    )
    logs.configure(level=choice.level, json=choice.json)
    command: Command = args.run
    try:
        return command(args)
    except DrGitopsError as exc:
        # Messages carry names taken from DataRobot (lock models, other namespaces, creators):
        # escape control characters so none reaches the terminal or the CI log as one. The
        # lines a message is made of stay lines.
        if isinstance(exc, SettingError):
            # The settings name their fields; a person typed flags.
            from controller.cli.configuration import flag_named

            exc = flag_named(exc)
        from controller.engine.render import visible  # only on errors: --help stays fast

        message = logs.redactor.scrub(str(exc))
        shown = "\n".join(visible(line) for line in message.split("\n"))
        print(f"error: {shown}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
