"""``dr-gitops validate``: check manifests without contacting DataRobot."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from controller.errors import ConfigError
from controller.repository_settings import (
    RepositorySettings,
    RepositorySettingsError,
    read_repository_settings,
)


def run_validate(args: argparse.Namespace) -> int:
    from controller.manifests import Problem, find_repo_root, load

    path = Path(args.path)
    if not path.is_dir():
        raise ConfigError(f"{args.path} is not a folder; give the folder that holds the manifests")
    root = find_repo_root(path)
    # The repository settings file beside the manifests is checked too (a forbidden or
    # unknown key is an error naming the file and the key); its excludes apply. A broken
    # one is reported with the manifests' problems, which are checked without its excludes.
    where = os.path.relpath(os.path.realpath(path), os.path.realpath(root))
    manifests_path = "" if where.startswith("..") else where
    settings_problems: list[Problem] = []
    try:
        settings = read_repository_settings(root, manifests_path)
    except RepositorySettingsError as exc:
        settings = RepositorySettings()
        settings_problems.append(Problem(exc.file, 0, 0, exc.key, exc.detail))
    loaded = load(root, path, default_exclude=settings.exclude)
    problems = [*settings_problems, *loaded.problems]
    failed = bool(settings_problems or loaded.errors)
    if args.output == "json":
        print(json.dumps([p.to_json() for p in problems], indent=2))
    else:
        for problem in problems:
            print(problem)
        errors = _count(len(settings_problems) + len(loaded.errors), "error")
        warnings = _count(len(loaded.warnings), "warning")
        manifests = _count(loaded.manifests, "manifest")
        if failed:
            print(f"{errors}, {warnings} in {manifests}")
        else:
            print(f"ok: {manifests} valid ({warnings})")
    return 1 if failed else 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"
