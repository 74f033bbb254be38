"""``dr-gitops validate``: check manifests without contacting DataRobot."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from controller.cli.common import Subparsers
from controller.errors import ConfigError


def register(sub: Subparsers) -> None:
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
