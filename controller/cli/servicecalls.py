"""``dr-gitops suspend``, ``resume`` and ``reconcile``: the control calls of a running
``serve`` (``flux suspend``/``resume``, Argo CD's sync), and the operations settings of
``serve`` itself (``--mode``, ``--read-token-file``, ``--control-token-file``).

The calls are plain HTTP POSTs with ``Authorization: Bearer <token>`` (the standard
library's client: they are not DataRobot requests). The token comes from a file, never
from a flag, so that it is in no process list or shell history.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from controller.cli.configuration import environment, read_secret_file
from controller.errors import ConfigError, DrGitopsError
from controller.logs import redactor
from controller.service.operations import OperationsSettings
from controller.settings import ApiSettings, ServiceSettings

CONTROL_TOKEN_FILE_ENV = "DR_GITOPS_CONTROL_TOKEN_FILE"  # noqa: S105 (a variable name)
READ_TOKEN_FILE_ENV = "DR_GITOPS_READ_TOKEN_FILE"  # noqa: S105 (a variable name)
SERVICE_URL_ENV = "DR_GITOPS_SERVICE_URL"
_MIN_TOKEN = 16


def read_token(
    path: Path | None, env_name: str, environ: Mapping[str, str], *, what: str
) -> str | None:
    """The token in ``path`` (else in the file ``$env_name`` names); ``None`` when neither
    is given. Errors name the file, never its content."""
    chosen = path or (Path(environ[env_name]) if environ.get(env_name) else None)
    if chosen is None:
        return None
    token = read_secret_file(chosen, what)
    if len(token) < _MIN_TOKEN or any(c.isspace() for c in token):
        raise ConfigError(
            f"the {what} in {chosen} must be one line of at least {_MIN_TOKEN} characters "
            "without spaces; use a long random value (e.g. `openssl rand -hex 32`)"
        )
    redactor.register(token)
    return token


def web_url(api: ApiSettings) -> str | None:
    """The DataRobot web app of ``api.endpoint`` (``https://app.datarobot.com/api/v2`` →
    ``https://app.datarobot.com``), for the page's links."""
    endpoint = api.endpoint.rstrip("/")
    if not endpoint.lower().startswith(("https://", "http://")):
        return None
    return endpoint.removesuffix("/api/v2") or None


def operations_settings(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    *,
    api: ApiSettings,
    service: ServiceSettings,
    namespace: str,
) -> OperationsSettings:
    """``serve``'s operations settings from its flags; the page lists the settings that
    are not secret."""
    read = read_token(args.read_token_file, READ_TOKEN_FILE_ENV, environ, what="read token")
    control = read_token(
        args.control_token_file, CONTROL_TOKEN_FILE_ENV, environ, what="control token"
    )
    shown = (
        ("Mode", args.mode),
        ("Namespace", namespace),
        ("Repository", _no_credentials(str(args.repo))),
        ("Tracked ref", service.tracked_ref),
        ("Manifest path", str(getattr(args, "path", None) or ".")),
        ("Interval", f"{service.interval_seconds:g} s (jitter {service.jitter_seconds:g} s)"),
        ("DataRobot", web_url(api) or "not a web address"),
        ("Webhooks", "on" if service.webhook_secret else "off (no secret)"),
        ("Prune", "on" if getattr(args, "prune", False) else "off"),
        ("Namespace lock", str(getattr(args, "lock", ""))),
        ("Read token", "required" if read else "off (anyone who reaches the port reads)"),
        ("Control calls", "on (bearer token)" if control else "off (no control token)"),
    )
    return OperationsSettings(
        mode=args.mode,
        read_token=read,
        control_token=control,
        namespace=namespace,
        web_url=web_url(api),
        shown=shown,
    )


def _no_credentials(url: str) -> str:
    """A repository URL without ``user:password@``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://{rest.split('@', 1)[1]}"


def run_control(args: argparse.Namespace) -> int:
    """POST one control call to a running ``serve`` and print what it answered."""
    environ = environment()
    token = read_token(args.token_file, CONTROL_TOKEN_FILE_ENV, environ, what="control token")
    if token is None:
        raise ConfigError(
            f"give the control token of the service: --token-file FILE or ${CONTROL_TOKEN_FILE_ENV}"
        )
    base = (args.service or environ.get(SERVICE_URL_ENV) or "http://127.0.0.1:8080").rstrip("/")
    if not base.lower().startswith(("http://", "https://")):
        raise ConfigError(f"--service must be an http(s) URL, not {base!r}")
    action = args.command
    request = urllib.request.Request(  # noqa: S310 (http(s) checked above)
        f"{base}/control/{action}",
        data=b"",
        method="POST",
        headers={"Authorization": f"Bearer {token}", "User-Agent": "dr-gitops"},
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:  # noqa: S310 (http(s) checked above)
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = _error_of(exc)
        hint = {
            401: "the token is not the service's control token",
            403: "the service was started without --control-token-file",
            404: "this service does not know control calls (an older dr-gitops?)",
        }.get(exc.code, "")
        raise DrGitopsError(
            f"{action} refused by {base}: HTTP {exc.code} {detail}" + (f"; {hint}" if hint else "")
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DrGitopsError(f"cannot reach the service at {base}: {reason}") from None
    print(_describe(action, answer))
    return 0


def _error_of(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read() or b"{}").get("error") or "")
    except ValueError:
        return ""


def _describe(action: str, answer: Mapping[str, object]) -> str:
    if action == "suspend":
        already = "" if answer.get("changed") else " (it already was)"
        return f"suspended{already}: runs plan and show drift, and apply nothing until resumed"
    if action == "resume":
        if not answer.get("changed"):
            return "not suspended: nothing to resume"
        return f"resumed: applying again; a run was {answer.get('run')}"
    return f"reconcile requested: the run was {answer.get('run')}"
