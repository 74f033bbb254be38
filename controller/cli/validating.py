"""``dr-gitops validate``: check manifests without contacting DataRobot."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from controller.errors import ConfigError
from controller.settings import read_repository_settings


def run_validate(args: argparse.Namespace) -> int:
    from controller.manifests import find_repo_root, load

    path = Path(args.path)
    if not path.is_dir():
        raise ConfigError(f"{args.path} is not a folder; give the folder that holds the manifests")
    root = find_repo_root(path)
    # The repository settings file beside the manifests is checked too (a forbidden or
    # unknown key is an error naming the file and the key); its excludes apply.
    where = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    settings = read_repository_settings(root, "" if where.startswith("..") else where)
    loaded = load(root, path, default_exclude=settings.exclude)
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
