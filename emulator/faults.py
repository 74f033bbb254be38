"""Fault injection: errors, latency and dropped connections, random or scripted.

Two forms, settable together with ``PUT /__emulator__/faults``:

* random: ``{"rate", "statuses", "latencyMs", "latencyJitterMs", "retryAfter", "when",
  "dropConnection", "dropMode", "seed", "methods", "routes"}``. Each matching request
  first rolls ``dropConnection`` (probability of closing the socket without an answer),
  then ``rate`` (probability of answering with one of ``statuses``). With a ``seed`` the
  sequence of decisions is the same on every run for the same sequence of requests.
* scripted: ``{"script": [{"method", "route", "status", "when", "times",
  "dropConnection", "latencyMs", "retryAfter"}]}``: the next ``times`` requests matching a
  rule get exactly that fault; rules are tried in order, before any random fault.

A dropped connection is closed without an answer: ``"close"`` (the default, also
``dropConnection: true`` in a rule) closes it cleanly, so clients see "remote end closed
connection without response"; ``"reset"`` resets it (TCP RST), so clients see
"connection reset by peer", which the official client retries on its own.

``when`` is ``before`` (nothing happens to the state), ``after`` (the request is carried
out and its effect kept, then the error is answered: how duplicates are born) or
``both`` (either, at random). A random 429 is always ``before``: a rate limiter refuses a
request before the server acts on it (a scripted rule may still ask for ``after``). Only
``/api/v2`` requests are ever faulted.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from emulator.errors import invalid

_WHEN = ("before", "after", "both")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_RANDOM_KEYS = (
    "rate",
    "statuses",
    "latencyMs",
    "latencyJitterMs",
    "retryAfter",
    "when",
    "dropConnection",
    "dropMode",
    "seed",
    "methods",
    "routes",
)
_DROP_MODES = ("close", "reset")
_RULE_KEYS = (
    "method",
    "route",
    "status",
    "when",
    "times",
    "dropConnection",
    "latencyMs",
    "retryAfter",
)
DEFAULTS: dict[str, Any] = {
    "rate": 0.0,
    "statuses": [429, 502, 503, 504],
    "latencyMs": 0,
    "latencyJitterMs": 0,
    "retryAfter": 1,
    "when": "before",
    "dropConnection": 0.0,
    "dropMode": "close",
    "seed": None,
    "methods": None,
    "routes": None,
    "script": [],
}


@dataclass(frozen=True)
class Fault:
    """What to do to one request."""

    status: int | None
    when: str
    drop: str | None  # None, "close" or "reset"
    latency: float
    retry_after: int | None  # seconds; sent on 429 always, on other statuses when given
    source: str


class _Checker:
    """Collects per-field errors while reading a fault configuration."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def number(self, field: str, value: Any, low: float, high: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors[field] = "must be a number"
            return low
        if value < low or (high is not None and value > high):
            self.errors[field] = (
                f"must be between {low} and {high}"
                if high is not None
                else f"must be at least {low}"
            )
        return value

    def integer(self, field: str, value: Any, low: int, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[field] = "must be an integer"
            return low
        self.number(field, value, low, high)
        return value

    def choice(self, field: str, value: Any, choices: tuple[str, ...]) -> str:
        if value not in choices:
            self.errors[field] = "must be one of: " + ", ".join(choices)
            return choices[0]
        return str(value)

    def strings(self, field: str, value: Any) -> list[str] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors[field] = "must be a list of strings or null"
            return None
        return list(value)


class Faults:
    """The current fault configuration and the decisions it makes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.configure({})

    def configure(self, config: dict[str, Any]) -> dict[str, Any]:
        """Replace the configuration (unset keys take their defaults); 422 when invalid."""
        if not isinstance(config, dict):
            raise invalid({"body": "must be an object"})
        check = _Checker()
        unknown = set(config) - set(_RANDOM_KEYS) - {"script"}
        for key in sorted(unknown):
            check.errors[key] = f"{key} is not allowed key"
        merged = {**DEFAULTS, **config}
        settings = _read_random(check, merged)
        script = _read_script(check, merged["script"])
        if check.errors:
            raise invalid(check.errors, "Invalid fault configuration")
        with self._lock:
            self._settings = settings
            self._script = script
            self._rng = random.Random(settings["seed"])  # noqa: S311 - faults, not security
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        """The configuration in force, with the remaining ``times`` of each script rule."""
        with self._lock:
            return {**self._settings, "script": [dict(rule) for rule in self._script]}

    def decide(self, method: str, template: str, path: str) -> Fault | None:
        """The fault for one request, or ``None``; consumes script rules and randomness."""
        with self._lock:
            for rule in self._script:
                if rule["times"] > 0 and _matches(rule, method, template, path):
                    rule["times"] -= 1
                    return self._from_rule(rule)
            return self._random(method, template)

    def _from_rule(self, rule: dict[str, Any]) -> Fault:
        when = rule["when"] if rule["when"] != "both" else self._rng.choice(("before", "after"))
        return Fault(
            status=rule.get("status"),
            when=when,
            drop=rule["dropConnection"] or None,
            latency=rule["latencyMs"] / 1000,
            retry_after=rule["retryAfter"],
            source="script",
        )

    def _random(self, method: str, template: str) -> Fault | None:
        s = self._settings
        if s["methods"] is not None and method not in s["methods"]:
            return None
        if s["routes"] is not None and template not in s["routes"]:
            return None
        latency = (s["latencyMs"] + self._rng.uniform(0, s["latencyJitterMs"])) / 1000
        dropped = s["dropConnection"] > 0 and self._rng.random() < s["dropConnection"]
        drop = s["dropMode"] if dropped else None
        status = None
        if not drop and s["rate"] > 0 and self._rng.random() < s["rate"]:
            status = self._rng.choice(s["statuses"])
        if not drop and status is None and latency <= 0:
            return None
        when = s["when"] if s["when"] != "both" else self._rng.choice(("before", "after"))
        if status == 429:
            when = "before"  # a rate limiter refuses before the server acts, never after
        retry_after = s["retryAfter"] if status == 429 else None
        return Fault(status, when, drop, latency, retry_after, "random")


def _read_random(check: _Checker, merged: dict[str, Any]) -> dict[str, Any]:
    statuses = merged["statuses"]
    if not isinstance(statuses, list) or not statuses:
        check.errors["statuses"] = "must be a non-empty list of HTTP error statuses"
        statuses = DEFAULTS["statuses"]
    for status in statuses:
        check.integer("statuses", status, 400, 599)
    seed = merged["seed"]
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        check.errors["seed"] = "must be an integer or null"
    methods = check.strings("methods", merged["methods"])
    return {
        "rate": check.number("rate", merged["rate"], 0, 1),
        "statuses": list(statuses),
        "latencyMs": check.number("latencyMs", merged["latencyMs"], 0, 60_000),
        "latencyJitterMs": check.number("latencyJitterMs", merged["latencyJitterMs"], 0, 60_000),
        "retryAfter": check.integer("retryAfter", merged["retryAfter"], 0, 3600),
        "when": check.choice("when", merged["when"], _WHEN),
        "dropConnection": check.number("dropConnection", merged["dropConnection"], 0, 1),
        "dropMode": check.choice("dropMode", merged["dropMode"], _DROP_MODES),
        "seed": seed,
        "methods": [m.upper() for m in methods] if methods is not None else None,
        "routes": check.strings("routes", merged["routes"]),
    }


def _read_script(check: _Checker, script: Any) -> list[dict[str, Any]]:
    if not isinstance(script, list):
        check.errors["script"] = "must be a list of rules"
        return []
    rules = []
    for index, raw in enumerate(script):
        where = f"script.{index}"
        if not isinstance(raw, dict):
            check.errors[where] = "must be an object"
            continue
        for key in sorted(set(raw) - set(_RULE_KEYS)):
            check.errors[f"{where}.{key}"] = f"{key} is not allowed key"
        rule = {
            "method": str(raw.get("method", "*")).upper(),
            "route": raw.get("route", "*"),
            "status": raw.get("status"),
            "when": check.choice(f"{where}.when", raw.get("when", "before"), _WHEN),
            "times": check.integer(f"{where}.times", raw.get("times", 1), 1),
            "dropConnection": _drop_mode(
                check, f"{where}.dropConnection", raw.get("dropConnection", False)
            ),
            "latencyMs": check.number(f"{where}.latencyMs", raw.get("latencyMs", 0), 0, 60_000),
            # None: 1 s on a 429, no header on other statuses.
            "retryAfter": (
                check.integer(f"{where}.retryAfter", raw["retryAfter"], 0, 3600)
                if "retryAfter" in raw
                else None
            ),
        }
        if rule["method"] != "*" and rule["method"] not in _METHODS:
            check.errors[f"{where}.method"] = "must be an HTTP method or *"
        if not isinstance(rule["route"], str):
            check.errors[f"{where}.route"] = "must be a route template, a path or *"
        if rule["status"] is not None:
            check.integer(f"{where}.status", rule["status"], 400, 599)
        elif not rule["dropConnection"] and not rule["latencyMs"]:
            check.errors[where] = "needs a status, dropConnection or latencyMs"
        rules.append(rule)
    return rules


def _drop_mode(check: _Checker, field: str, value: Any) -> str | None:
    if value is True:
        return "close"
    if value in (False, None):
        return None
    return check.choice(field, value, _DROP_MODES)


def _matches(rule: dict[str, Any], method: str, template: str, path: str) -> bool:
    if rule["method"] not in ("*", method):
        return False
    return rule["route"] in ("*", template, path)
