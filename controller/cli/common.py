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
from pathlib import Path
from typing import Any, TypeAlias

from controller import logs
from controller.engine.reconciling import Engine
from controller.errors import ConfigError
from controller.remote import DataRobotClient, RequestHook
from controller.settings import ApiSettings, EngineSettings, GitSettings, load_api_settings
from controller.sources import GitSource, load_github_event, open_source

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_source_options(parser: argparse.ArgumentParser, *, repo_required: bool = False) -> None:
    group = parser.add_argument_group("repository")
    group.add_argument(
        "--repo",
        required=repo_required,
        default=None if repo_required else ".",
        metavar="PATH|URL",
        help="git repository: a local path (default: .) or a URL (https, ssh, file://)",
    )
    group.add_argument(
        "--ref",
        metavar="REF",
        help="branch, tag or commit to read (default: the working tree of a local path, "
        "the default branch of a URL)",
    )
    group.add_argument(
        "--path",
        default="",
        metavar="SUBDIR",
        help="folder inside the repository holding the manifests (default: the whole repository)",
    )
    group.add_argument(
        "--namespace",
        metavar="NS",
        help="ownership namespace (default: $DR_GITOPS_NAMESPACE, else derived from the git "
        "remote, e.g. github.com/acme/ml-models)",
    )
    group.add_argument(
        "--commit-url-template",
        metavar="TEMPLATE",
        help="commit link for gitModelVersion, e.g. https://git.example.com/{path}/commit/{sha} "
        "(default: derived from CI variables or the remote)",
    )
    group.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="where clones of URLs are kept (default: $DR_GITOPS_CACHE_DIR or ~/.cache/dr-gitops)",
    )


def add_api_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "DataRobot",
        "Credentials come from these flags, else DATAROBOT_ENDPOINT and DATAROBOT_API_TOKEN, "
        "else ~/.config/datarobot/drconfig.yaml (endpoint and token from one source).",
    )
    group.add_argument(
        "--endpoint", metavar="URL", help="API endpoint, e.g. https://app.datarobot.com/api/v2"
    )
    group.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="read the API token from FILE (there is no --token flag: command lines are visible "
        "to other users)",
    )
    group.add_argument(
        "--drconfig", type=Path, metavar="FILE", help="path of a drconfig.yaml to read instead"
    )


def add_engine_options(parser: argparse.ArgumentParser, *, applies: bool = True) -> None:
    """Engine flags; ``applies`` adds the ones that only matter when writing."""
    group = parser.add_argument_group("engine")
    group.add_argument(
        "--concurrency",
        type=int,
        default=4,
        metavar="N",
        help="objects written (and versions downloaded) at once (default: 4)",
    )
    if applies:
        group.add_argument(
            "--allow-dirty",
            action="store_true",
            help="apply even when the working tree has uncommitted changes",
        )


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


def engine_settings(args: argparse.Namespace, **overrides: Any) -> EngineSettings:
    values: dict[str, Any] = {
        "path": args.path,
        "concurrency": args.concurrency,
        "allow_dirty": getattr(args, "allow_dirty", False),
    }
    for name in ("prune", "max_deletions", "allow_empty"):
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
        open_source(git, environ=env) as source,
        DataRobotClient(api, on_request=on_request) as client,
    ):
        engine = Engine(client, engine_config, environ=env, event=load_github_event(env))
        yield Session(source, client, engine)


def use_color(stream: Any = None) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set."""
    out = stream or sys.stdout
    return bool(getattr(out, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ
