"""The ``serve --notifications FILE`` file, read and resolved at the edge.

::

    quietPeriod: 3600            # seconds before a repeated failure is sent again
    retries: 3                   # resends of a failed POST (exponential backoff)
    timeout: 10                  # seconds per POST
    targets:
      - name: ml-team            # the `target` label of dr_gitops_notifications_total
        type: slack              # slack | teams | webhook
        url: {env: SLACK_WEBHOOK_URL}      # or {file: PATH}, or the URL itself
        events: [failed, blocked, gate-failed, lock-lost, recovered]   # default: all
        headers: {Authorization: {file: /etc/dr-gitops/audit-token}}   # webhook only

URLs and header values are secrets (a Slack or Teams webhook URL is its own credential):
they are read here from the environment or files, registered with the log redactor, and
never repeated in errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import yaml

from controller.errors import ConfigError
from controller.logs import redactor
from controller.service.notifications import (
    EVENT_KINDS,
    TARGET_TYPES,
    EventKind,
    NotificationSettings,
    NotificationTarget,
    TargetType,
)

_TOP = ("quietPeriod", "retries", "timeout", "queueSize", "targets")
_TARGET = ("name", "type", "url", "events", "headers")


def load_notifications(
    path: Path, environ: Mapping[str, str], namespace: str
) -> NotificationSettings:
    """The resolved settings of the file at ``path``; ``ConfigError`` naming the file and
    the field otherwise."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read --notifications {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping with `targets`; see docs/service.md")
    _known(path, "", doc, _TOP)
    targets = doc.get("targets")
    if not isinstance(targets, list) or not targets:
        raise ConfigError(f"{path}: targets: give a list of at least one target")
    resolved = tuple(_target(path, f"targets[{i}]", t, environ) for i, t in enumerate(targets))
    names = [t.name for t in resolved]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{path}: targets: the name {name!r} is used twice")
    return NotificationSettings(
        targets=resolved,
        namespace=namespace,
        quiet_period_seconds=_number(path, "quietPeriod", doc.get("quietPeriod", 3600), 0),
        retries=int(_number(path, "retries", doc.get("retries", 3), 0)),
        timeout_seconds=_number(path, "timeout", doc.get("timeout", 10), 0.1),
        queue_size=int(_number(path, "queueSize", doc.get("queueSize", 100), 1)),
    )


def _known(path: Path, where: str, doc: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in doc:
        if key not in keys:
            raise ConfigError(f"{path}: {where}{key}: unknown key; the keys are {', '.join(keys)}")


def _number(path: Path, field: str, value: object, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(f"{path}: {field}: give a number of at least {minimum:g}")
    return float(value)


def _target(path: Path, where: str, doc: object, environ: Mapping[str, str]) -> NotificationTarget:
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: {where}: expected a mapping with name, type and url")
    _known(path, f"{where}.", doc, _TARGET)
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{path}: {where}.name: give the target a name")
    kind = doc.get("type")
    if kind not in TARGET_TYPES:
        raise ConfigError(f"{path}: {where}.type: one of {', '.join(TARGET_TYPES)}")
    url = _secret(path, f"{where}.url", doc.get("url"), environ)
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"{path}: {where}.url: an http(s) URL is expected (value not shown)")
    events = doc.get("events", list(EVENT_KINDS))
    if not isinstance(events, list) or not events:
        raise ConfigError(f"{path}: {where}.events: a list of {', '.join(EVENT_KINDS)}")
    for event in events:
        if event not in EVENT_KINDS:
            raise ConfigError(
                f"{path}: {where}.events: unknown event {event!r}; one of {', '.join(EVENT_KINDS)}"
            )
    headers = doc.get("headers") or {}
    if not isinstance(headers, dict) or (headers and kind != "webhook"):
        raise ConfigError(
            f"{path}: {where}.headers: a mapping of header names to values, webhook targets only"
        )
    resolved_headers = tuple(
        (str(k), _secret(path, f"{where}.headers.{k}", v, environ)) for k, v in headers.items()
    )
    return NotificationTarget(
        name=name.strip(),
        type=cast(TargetType, kind),
        url=url,
        events=frozenset(cast(list[EventKind], events)),
        headers=resolved_headers,
    )


def _secret(path: Path, field: str, value: object, environ: Mapping[str, str]) -> str:
    """A literal, ``{env: NAME}`` or ``{file: PATH}`` (relative to the notifications file),
    registered with the log redactor."""
    if isinstance(value, str) and value.strip():
        text = value.strip()
    elif isinstance(value, dict) and len(value) == 1 and "env" in value:
        name = str(value["env"])
        text = environ.get(name, "").strip()
        if not text:
            raise ConfigError(f"{path}: {field}: the environment variable {name} is not set")
    elif isinstance(value, dict) and len(value) == 1 and "file" in value:
        file = path.parent / Path(str(value["file"])).expanduser()
        try:
            text = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{path}: {field}: cannot read {file}: {exc.strerror}") from None
        if not text:
            raise ConfigError(f"{path}: {field}: {file} is empty")
    else:
        raise ConfigError(f"{path}: {field}: give a value, {{env: NAME}} or {{file: PATH}}")
    redactor.register(text)
    return text
