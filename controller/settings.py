"""The one place where flags, environment variables and config files meet.

Each part of the controller takes a small frozen settings group as an argument; nothing
deeper reads ``os.environ`` or files on its own. Secrets are kept out of ``repr``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from controller import __version__
from controller.errors import ConfigError
from controller.logs import redactor

# --- DataRobot API (controller.remote) ----------------------------------------------------

DRCONFIG_PATH = Path("~/.config/datarobot/drconfig.yaml")
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


@dataclass(frozen=True)
class ApiSettings:
    """How to reach the DataRobot API and how patiently.

    ``endpoint`` always ends in ``/api/v2`` (no trailing slash). ``ssl_verify`` is a bool or
    the path of a CA bundle. Retries are bounded both in count (``max_retries``) and in
    total time (``max_retry_time`` seconds, waits included). The token is never in ``repr``.
    """

    endpoint: str
    token: str = field(repr=False)
    auth_scheme: str = "Bearer"
    ssl_verify: bool | str = True
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 5
    max_retry_time: float = 120.0
    backoff_factor: float = 0.5
    backoff_jitter: float = 0.5
    backoff_max: float = 20.0
    page_size: int = 100
    async_timeout: float = 600.0
    user_agent: str = f"dr-gitops/{__version__}"
    source: str = ""

    def __post_init__(self) -> None:
        if not self.token:
            raise ConfigError("the DataRobot API token is empty; set DATAROBOT_API_TOKEN")
        for name in ("connect_timeout", "read_timeout", "max_retry_time", "async_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"API setting {name} must be a positive number, not {value!r}")
        if self.max_retries < 0 or not 1 <= self.page_size <= 1000:
            raise ConfigError("API settings: max_retries must be >= 0 and page_size in 1..1000")
        redactor.register(self.token)


def load_api_settings(
    flags: Mapping[str, str | None],
    env: Mapping[str, str],
    config_path: Path | None = None,
) -> ApiSettings:
    """Read the API settings as the official DataRobot client does.

    Token and endpoint each come from the first of: ``flags`` (``endpoint``, ``token``),
    the environment (``DATAROBOT_ENDPOINT``, ``DATAROBOT_API_TOKEN``), the drconfig.yaml
    file (``config_path``, else ``DATAROBOT_CONFIG_FILE``, else ``~/.config/datarobot/
    drconfig.yaml``), and both must come from the same one, so a token is never sent to an
    endpoint configured elsewhere. ``ssl_verify`` comes from the flags, then
    ``DATAROBOT_SSL_VERIFY``, then the file. Other keys of ``flags`` (``connect_timeout``,
    ``read_timeout``, ``max_retries``, ``max_retry_time``, ``page_size``) tune the client.
    """
    file_values, file_name = _read_drconfig(config_path, env)
    sources: list[tuple[str, Mapping[str, Any]]] = [
        ("command-line flags", {k: flags.get(k) for k in ("endpoint", "token")}),
        (
            "environment (DATAROBOT_ENDPOINT, DATAROBOT_API_TOKEN)",
            {"endpoint": env.get("DATAROBOT_ENDPOINT"), "token": env.get("DATAROBOT_API_TOKEN")},
        ),
        (file_name, file_values),
    ]
    endpoint, endpoint_from = _first("endpoint", sources)
    token, token_from = _first("token", sources)
    if endpoint is None or token is None:
        missing = [n for n, v in (("endpoint", endpoint), ("token", token)) if v is None]
        raise ConfigError(
            f"no DataRobot API {' and '.join(missing)} configured: set DATAROBOT_ENDPOINT and "
            f"DATAROBOT_API_TOKEN (or `endpoint` and `token` in {file_name})"
        )
    redactor.register(str(token))
    if endpoint_from != token_from:
        raise ConfigError(
            f"the DataRobot endpoint comes from {endpoint_from} but the token from {token_from}; "
            "set both in the same place so a token is never sent to another server"
        )
    ssl_raw = _first_set(
        flags.get("ssl_verify"), env.get("DATAROBOT_SSL_VERIFY"), file_values.get("ssl_verify")
    )
    return ApiSettings(
        endpoint=normalize_endpoint(str(endpoint)),
        token=str(token),
        auth_scheme=_auth_scheme(
            file_values.get("token_type") if token_from == file_name else None
        ),
        ssl_verify=_ssl_verify(ssl_raw),
        source=endpoint_from,
        **_tuning(flags),
    )


def normalize_endpoint(raw: str) -> str:
    """``https://host[/prefix][/api[/v2]][/]`` → ``https://host[/prefix]/api/v2``."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"DataRobot endpoint {raw!r} is not an http(s) URL; set DATAROBOT_ENDPOINT to e.g. "
            "https://app.datarobot.com/api/v2"
        )
    if parts.username or parts.password:
        raise ConfigError("put the DataRobot token in DATAROBOT_API_TOKEN, not in the endpoint URL")
    path = parts.path.rstrip("/")
    if path.endswith("/api"):
        path += "/v2"
    elif not path.endswith("/api/v2"):
        path += "/api/v2"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _read_drconfig(config_path: Path | None, env: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    explicit = config_path or (
        Path(env["DATAROBOT_CONFIG_FILE"]) if env.get("DATAROBOT_CONFIG_FILE") else None
    )
    path = (explicit or DRCONFIG_PATH).expanduser()
    name = f"config file {path}"
    if not path.is_file():
        if explicit is not None:
            raise ConfigError(
                f"DataRobot config file {path} does not exist; fix the path or unset DATAROBOT_CONFIG_FILE"
            )
        return {}, name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {name}: {type(exc).__name__}; fix its YAML") from None
    if data is None:
        return {}, name
    if not isinstance(data, dict):
        raise ConfigError(f"{name} must be a YAML mapping with keys endpoint, token, ssl_verify")
    for key in ("endpoint", "token", "token_type"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ConfigError(f"`{key}` in {name} must be a string")
    return data, name


def _first(key: str, sources: list[tuple[str, Mapping[str, Any]]]) -> tuple[Any, str]:
    for name, values in sources:
        value = values.get(key)
        if value is not None and str(value).strip() != "":
            return str(value).strip(), name
    return None, ""


def _first_set(*values: Any) -> Any:
    return next((v for v in values if v is not None and v != ""), None)


def _ssl_verify(raw: Any) -> bool | str:
    if raw is None or isinstance(raw, bool):
        return True if raw is None else raw
    text = str(raw).strip()
    if text.lower() in _FALSE_WORDS:
        return False
    if text.lower() in _TRUE_WORDS:
        return True
    path = Path(text).expanduser()
    if not path.exists():
        raise ConfigError(
            f"ssl_verify {text!r} is neither true/false nor an existing CA bundle path; "
            "set DATAROBOT_SSL_VERIFY to true, false or the path of a CA bundle"
        )
    return str(path)


def _auth_scheme(raw: Any) -> str:
    if raw is None:
        return "Bearer"
    if str(raw).lower() not in ("bearer", "token"):
        raise ConfigError(f"token_type must be Bearer or Token, not {raw!r}")
    return str(raw).capitalize()


def _tuning(flags: Mapping[str, str | None]) -> dict[str, Any]:
    kinds: dict[str, type[int] | type[float]] = {
        "connect_timeout": float,
        "read_timeout": float,
        "max_retries": int,
        "max_retry_time": float,
        "page_size": int,
        "async_timeout": float,
    }
    out: dict[str, Any] = {}
    for name, kind in kinds.items():
        raw = flags.get(name)
        if raw is None or raw == "":
            continue
        try:
            out[name] = kind(raw)
        except ValueError:
            raise ConfigError(
                f"API setting {name} must be a {kind.__name__}, not {raw!r}"
            ) from None
    return out


def api_settings_from_environment() -> ApiSettings:
    """Convenience for the CLI: no flags, the process environment, the default file."""
    return load_api_settings({}, dict(os.environ), None)
