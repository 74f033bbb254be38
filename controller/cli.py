"""The ``dr-gitops`` command line: parse flags, configure logging, run one command.

Every user mistake ends as a ``DrGitopsError`` whose message is printed without a stack
trace; exit codes are 0 (success), 1 (error) and 2 (``plan --detailed-exitcode`` found
changes).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from controller import __version__, logs
from controller.errors import ConfigError, DrGitopsError

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dr-gitops",
        description=(
            "Keep DataRobot custom models, custom jobs, runtime parameters and sharing equal "
            "to the manifests in a git repository."
        ),
    )
    parser.add_argument("--version", action="version", version=f"dr-gitops {__version__}")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: info)",
    )
    parser.add_argument(
        "--log-format",
        default="auto",
        choices=["auto", "json", "console"],
        help="log format: JSON when stderr is not a TTY unless set (default: auto)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in _REGISTRARS:
        register(sub)
    return parser


_REGISTRARS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = []


def _register_validate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "validate",
        help="check manifests and their source folders, without contacting DataRobot",
        description=(
            "Check every manifest under PATH: YAML, the JSON Schemas, rules between fields, "
            "source folders, entry points and runtime parameters. Lists every problem as "
            "`file:line: document N: field: message (what to do)`; exits 1 when any is an "
            "error. Files are named relative to the git repository holding PATH."
        ),
    )
    parser.add_argument(
        "path", nargs="?", default=".", metavar="PATH", help="folder to check (default: .)"
    )
    parser.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text for people, json (a list of problems) for machines (default: text)",
    )
    parser.set_defaults(run=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    from controller.manifests import find_repo_root, load

    path = Path(args.path)
    if not path.is_dir():
        raise ConfigError(f"{args.path} is not a folder; give the folder that holds the manifests")
    loaded = load(find_repo_root(path), path)
    if args.output == "json":
        print(json.dumps([p.to_json() for p in loaded.problems], indent=2))
    else:
        for problem in loaded.problems:
            print(problem)
        errors = _count(len(loaded.errors), "error")
        warnings = _count(len(loaded.warnings), "warning")
        manifests = _count(loaded.manifests, "manifest")
        if loaded.errors:
            print(f"{errors}, {warnings} in {manifests}")
        else:
            print(f"ok: {manifests} valid ({warnings})")
    return 1 if loaded.errors else 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"


_REGISTRARS.append(_register_validate)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(
        level=args.log_level,
        json={"auto": None, "json": True, "console": False}[args.log_format],
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
