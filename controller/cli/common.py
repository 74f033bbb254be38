"""Flags shared by the commands that read git and DataRobot, and how they become settings.

This is the edge: the only place (with ``controller.settings``) that reads ``os.environ``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias

from controller import logs
from controller.engine.reconciling import Engine
from controller.errors import ConfigError
from controller.remote import DataRobotClient, RequestHook
from controller.settings import ApiSettings, EngineSettings, GitSettings, load_api_settings
from controller.sources import GitSource, load_github_event, open_source

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def git_settings(
    args: argparse.Namespace, environ: Mapping[str, str], *, ref: str | None = None
) -> GitSettings:
    return GitSettings.from_env(
        environ,
        repo=args.repo,
        ref=ref or args.ref,
        cache_dir=args.cache_dir,
        commit_url_template=args.commit_url_template,
        namespace=args.namespace,
    )


def api_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> ApiSettings:
    flags: dict[str, str | None] = {"endpoint": args.endpoint, "token": None}
    for name in ("connect_timeout", "max_retries"):
        value = getattr(args, name, None)
        flags[name] = None if value is None else str(value)
    if args.token_file is not None:
        try:
            flags["token"] = args.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read --token-file {args.token_file}: {exc.strerror}"
            ) from None
        if not flags["token"]:
            raise ConfigError(f"--token-file {args.token_file} is empty; put the API token in it")
    return load_api_settings(flags, environ, args.drconfig)


TRUSTED_CREATORS_ENV = "DR_GITOPS_TRUSTED_CREATORS"


def trusted_creators(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """``--trusted-creator`` (repeatable), else ``$DR_GITOPS_TRUSTED_CREATORS`` (commas)."""
    given = list(getattr(args, "trusted_creator", None) or [])
    if not given:
        env = os.environ if environ is None else environ
        given = env.get(TRUSTED_CREATORS_ENV, "").split(",")
    return tuple(dict.fromkeys(name.strip() for name in given if name.strip()))


def engine_settings(args: argparse.Namespace, **overrides: Any) -> EngineSettings:
    values: dict[str, Any] = {
        "path": args.path,
        "concurrency": args.concurrency,
        "allow_dirty": getattr(args, "allow_dirty", False),
        "targets": tuple(getattr(args, "target", None) or ()),
        "trusted_creators": trusted_creators(args),
    }
    for name in ("prune", "max_deletions", "allow_empty", "allow_deployment_deletion"):
        if hasattr(args, name):
            values[name] = getattr(args, name)
    values.update(overrides)
    return EngineSettings(**values)


@dataclass
class Session:
    """What one command works with: the opened source, the client and the engine."""

    source: GitSource
    client: DataRobotClient
    engine: Engine


@contextmanager
def session(
    args: argparse.Namespace,
    *,
    ref: str | None = None,
    on_request: RequestHook | None = None,
    environ: Mapping[str, str] | None = None,
    **engine_overrides: Any,
) -> Iterator[Session]:
    """Open the git source and a DataRobot client, and build the engine."""
    env = os.environ if environ is None else environ
    api = api_settings(args, env)
    git = git_settings(args, env, ref=ref)
    logs.redactor.register(api.token, git.https_token)
    engine_config = engine_settings(args, **engine_overrides)
    with (
        open_source(git, environ=env, manifests_path=engine_config.path) as source,
        DataRobotClient(api, on_request=on_request) as client,
    ):
        engine = Engine(client, engine_config, environ=env, event=load_github_event(env))
        yield Session(source, client, engine)


def use_color(stream: Any = None) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set."""
    out = stream or sys.stdout
    return bool(getattr(out, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ
