"""What the commands that read git and DataRobot share: a session from their flags.

The settings themselves are resolved in :mod:`controller.cli.configuration`, the edge.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeAlias

from controller.cli.configuration import (
    api_settings,
    ci_context,
    engine_settings,
    environment,
    git_settings,
    register_secrets,
)
from controller.remote import RequestHook
from controller.service.orchestrator import Session, open_session

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@contextmanager
def session(
    args: argparse.Namespace,
    *,
    ref: str | None = None,
    on_request: RequestHook | None = None,
    environ: Mapping[str, str] | None = None,
    **engine_overrides: Any,
) -> Iterator[Session]:
    """Resolve the settings of a command's flags and environment, then open a
    :func:`~controller.service.orchestrator.open_session`."""
    env = environment() if environ is None else environ
    api = api_settings(args, env)
    git = git_settings(args, env, ref=ref)
    register_secrets(api.token, git.https_token)
    engine = engine_settings(args, env, **engine_overrides)
    with open_session(
        git, api, engine, environ=env, ci=ci_context(env), on_request=on_request
    ) as s:
        yield s


def use_color(stream: Any = None) -> bool:
    """Colours only on a terminal, and never when NO_COLOR is set."""
    out = stream or sys.stdout
    return bool(getattr(out, "isatty", lambda: False)()) and "NO_COLOR" not in environment()
