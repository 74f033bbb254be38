"""The DataRobot API settings as the official ``datarobot`` client finds them.

Flags, a drconfig.yaml, the environment (``DATAROBOT_*``), the CA bundle and proxies are
resolved here, at the command-line edge, into one frozen :class:`ApiSettings`; the token is
registered with the log redactor here, as the explicit first step after it is read.
"""

from __future__ import annotations

import ipaddress
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from controller.errors import ConfigError
from controller.logs import redactor
from controller.settings import ApiSettings

DRCONFIG_PATH = Path("~/.config/datarobot/drconfig.yaml")
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def load_api_settings(
    flags: Mapping[str, str | None],
    env: Mapping[str, str],
    config_path: Path | None = None,
) -> ApiSettings:
    """Read the API settings as the official DataRobot client does.

    Token and endpoint each come from the first of, in the official client's order:
    ``flags`` (``endpoint``, ``token``); a drconfig.yaml named explicitly (``config_path``,
    else ``DATAROBOT_CONFIG_FILE``); the environment (``DATAROBOT_ENDPOINT``,
    ``DATAROBOT_API_TOKEN``); ``~/.config/datarobot/drconfig.yaml``. Both must come from the
    same one, so a token is never sent to an endpoint configured elsewhere. ``ssl_verify``
    comes from the same order (``DATAROBOT_SSL_VERIFY`` in the environment), and so do the
    official client's ``connect_timeout`` (seconds to establish a connection; a drconfig key)
    and ``max_retries`` (how many times a failed request is sent again; a drconfig key, or
    ``DATAROBOT_MAX_RETRIES``). The CA bundle ``REQUESTS_CA_BUNDLE`` (or ``CURL_CA_BUNDLE``)
    and the proxies for the endpoint (``HTTPS_PROXY``, ``NO_PROXY``...) come from ``env``,
    as requests would read them. Other keys of ``flags`` (``read_timeout``,
    ``max_retry_time``, ``page_size``) tune the client.
    """
    file_values, file_name, explicit = _read_drconfig(config_path, env)
    from_env = {
        "endpoint": env.get("DATAROBOT_ENDPOINT"),
        "token": env.get("DATAROBOT_API_TOKEN"),
        "ssl_verify": env.get("DATAROBOT_SSL_VERIFY"),
        "max_retries": env.get("DATAROBOT_MAX_RETRIES"),
    }
    environment = ("the environment", from_env)
    from_file = (file_name, file_values)
    sources: list[tuple[str, Mapping[str, Any]]] = [
        ("command-line flags", {k: flags.get(k) for k in (*_SOURCED, "endpoint", "token")}),
        *((from_file, environment) if explicit else (environment, from_file)),
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
            "give both in one place so a token is never sent to another server: --endpoint "
            "with --token-file, DATAROBOT_ENDPOINT with DATAROBOT_API_TOKEN, or one "
            "drconfig.yaml"
        )
    ssl_raw = _first_set(*(values.get("ssl_verify") for _, values in sources))
    normalized = normalize_endpoint(str(endpoint))
    return ApiSettings(
        endpoint=normalized,
        token=str(token),
        auth_scheme=_auth_scheme(
            file_values.get("token_type") if token_from == file_name else None
        ),
        ssl_verify=_ssl_verify(ssl_raw),
        source=endpoint_from,
        ca_bundle=env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or None,
        proxies=environment_proxies(normalized, env),
        **_tuning(
            {
                **flags,
                **{k: _first_set(*(v.get(k) for _, v in sources)) for k in _SOURCED},
            }
        ),
    )


# Keys read like the official client: from the flags, else the first source that sets them.
_SOURCED = ("ssl_verify", "connect_timeout", "max_retries")


def normalize_endpoint(raw: str) -> str:
    """``https://host[/prefix][/api[/v2]][/]`` → ``https://host[/prefix]/api/v2``."""
    try:
        parts = urlsplit(raw.strip())
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"DataRobot endpoint {raw!r} is not a valid http(s) URL; set DATAROBOT_ENDPOINT to e.g. "
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


def _read_drconfig(
    config_path: Path | None, env: Mapping[str, str]
) -> tuple[dict[str, Any], str, bool]:
    """The drconfig.yaml's values, how to name it, and whether it was named explicitly."""
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
        return {}, name, False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {name}: {type(exc).__name__}; fix its YAML") from None
    if data is None:
        return {}, name, explicit is not None
    if not isinstance(data, dict):
        raise ConfigError(f"{name} must be a YAML mapping with keys endpoint, token, ssl_verify")
    for key in ("endpoint", "token", "token_type"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ConfigError(f"`{key}` in {name} must be a string")
    return data, name, explicit is not None


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


def _tuning(flags: Mapping[str, Any]) -> dict[str, Any]:
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
            if isinstance(raw, bool):
                raise ValueError(raw)
            out[name] = kind(raw)
        except ValueError:
            raise ConfigError(
                f"API setting {name} must be a {kind.__name__}, not {raw!r}"
            ) from None
    return out


def environment_proxies(endpoint: str, env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The proxies requests would take from the environment for ``endpoint``
    (``requests.utils.get_environ_proxies``), read from ``env``: ``<scheme>_proxy``
    variables (a lowercase name wins over its uppercase one), none when ``no_proxy`` (a host
    suffix, an IP, a CIDR block or ``*``) covers the endpoint's host."""
    proxies: dict[str, str] = {}
    for name, value in env.items():  # as urllib.request.getproxies_environment
        if value and name[-6:].lower() == "_proxy":
            proxies[name[:-6].lower()] = value
    if "REQUEST_METHOD" in env:  # a CGI request could set HTTP_PROXY through its headers
        proxies.pop("http", None)
    for name, value in env.items():
        if name[-6:] == "_proxy":
            if value:
                proxies[name[:-6].lower()] = value
            else:
                proxies.pop(name[:-6].lower(), None)
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY")
    proxies.pop("no", None)
    parts = urlsplit(endpoint)
    if not proxies or parts.hostname is None or _bypassed(parts.hostname, parts.port, no_proxy):
        return ()
    return tuple(sorted(proxies.items()))


def _bypassed(host: str, port: int | None, no_proxy: str | None) -> bool:
    """requests' ``should_bypass_proxies`` for ``host``, with ``no_proxy`` given."""
    if not no_proxy:
        return False
    entries = [entry for entry in no_proxy.replace(" ", "").split(",") if entry]
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        address = None
    for entry in entries:
        if address is not None:
            try:
                if address in ipaddress.IPv4Network(entry, strict=False):
                    return True
            except ValueError:
                continue
        elif host.endswith(entry) or (port is not None and f"{host}:{port}".endswith(entry)):
            return True
    # What requests asks urllib last (its proxy_bypass on Linux; missing from typeshed).
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    return bool(bypass(host, {"no": no_proxy}))
