"""Runtime parameters: definitions from the files, values from the API, the merged live view.

Definitions come from ``runtimeParameterDefinitions`` in ``model-metadata.yaml`` (model
versions) or ``metadata.yaml`` (custom jobs) at the root of the uploaded files. Values
come from ``runtimeParameterValues`` (``[{"fieldName", "type", "value"}]``); they merge
with the previous version's (or the job's) values, and ``"value": null`` drops an
override so the default applies again. Values for parameters the new files no longer
define are dropped. The live view, ``runtimeParameters[]``, is each definition plus
``defaultValue``, ``overrideValue`` and ``currentValue``.

Checks (each failure is a 422 naming the field): unknown ``fieldName``, a ``type`` that
differs from the definition, a value of the wrong JSON type, strings over 4096
characters, empty strings where ``allowEmpty`` is false, numbers outside
``minValue``/``maxValue``, credential and deployment values that are not object IDs.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

TYPES = ("string", "boolean", "numeric", "credential", "deployment", "customMetric", "modelPackage")
CREDENTIAL_TYPES = (
    "adlsGen2Oauth", "apiToken", "azure", "azureServicePrincipal", "basic", "bearer",
    "databricksAccessTokenAccount", "databricksServicePrincipalAccount", "datasphereOauth",
    "gcp", "oauth", "rsa", "s3", "snowflakeKeyPairUserAccount", "snowflakeOauthUserAccount",
    "tableauAccessToken",
)  # fmt: skip
MAX_STRING = 4096
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_DEFINITION_KEYS = {
    "fieldName", "type", "defaultValue", "minValue", "maxValue", "credentialType", "allowEmpty", "description",
}  # fmt: skip


class InvalidRuntimeParameters(ValueError):
    """Definitions or values the API refuses; ``errors`` maps fields to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid runtime parameters")
        self.errors = errors


# -- definitions ------------------------------------------------------------------------


def definitions_from(metadata_name: str, content: bytes | None) -> list[dict[str, Any]]:
    """The definitions in a metadata file's content (none when the file is absent)."""
    if content is None:
        return []
    try:
        metadata = yaml.safe_load(content.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidRuntimeParameters({metadata_name: f"is not valid YAML: {exc}"}) from None
    if metadata is None:
        return []
    if not isinstance(metadata, dict):
        raise InvalidRuntimeParameters({metadata_name: "must be a YAML mapping"})
    raw = metadata.get("runtimeParameterDefinitions") or []
    if not isinstance(raw, list):
        raise InvalidRuntimeParameters(
            {f"{metadata_name}:runtimeParameterDefinitions": "must be a list"}
        )
    errors: dict[str, str] = {}
    definitions = [
        _definition(item, f"{metadata_name}:runtimeParameterDefinitions[{i}]", errors)
        for i, item in enumerate(raw)
    ]
    names = [d["fieldName"] for d in definitions]
    for name in {n for n in names if names.count(n) > 1}:
        errors[f"{metadata_name}:runtimeParameterDefinitions"] = (
            f"fieldName {name} is defined more than once"
        )
    if errors:
        raise InvalidRuntimeParameters(errors)
    return definitions


def _definition(item: Any, where: str, errors: dict[str, str]) -> dict[str, Any]:
    if not isinstance(item, dict):
        errors[where] = "must be a mapping"
        return {"fieldName": where}
    for key in sorted(set(item) - _DEFINITION_KEYS):
        errors[f"{where}.{key}"] = f"{key} is not allowed key"
    name, kind = item.get("fieldName"), item.get("type")
    if not isinstance(name, str) or not name:
        errors[f"{where}.fieldName"] = "is required (a string)"
    if kind not in TYPES:
        errors[f"{where}.type"] = "must be one of: " + ", ".join(TYPES)
    definition = {
        "fieldName": name,
        "type": kind,
        "description": str(item.get("description") or ""),
        "allowEmpty": item.get("allowEmpty", True),
        "defaultValue": _loose(kind, item.get("defaultValue")),
        "minValue": item.get("minValue"),
        "maxValue": item.get("maxValue"),
        "credentialType": item.get("credentialType"),
    }
    if not isinstance(definition["allowEmpty"], bool):
        errors[f"{where}.allowEmpty"] = "must be a boolean"
    for bound in ("minValue", "maxValue"):
        value = definition[bound]
        if value is not None and (
            kind != "numeric" or isinstance(value, bool) or not isinstance(value, int | float)
        ):
            errors[f"{where}.{bound}"] = "is only for numeric parameters, and must be a number"
    if definition["credentialType"] is not None and (
        kind != "credential" or definition["credentialType"] not in CREDENTIAL_TYPES
    ):
        errors[f"{where}.credentialType"] = (
            "is only for credential parameters, one of: " + ", ".join(CREDENTIAL_TYPES)
        )
    if (
        definition["defaultValue"] is not None
        and kind in TYPES
        and not errors.get(f"{where}.minValue")
    ):
        problem = _value_problem(definition, definition["defaultValue"])
        if problem:
            errors[f"{where}.defaultValue"] = problem
    return definition


def _loose(kind: Any, value: Any) -> Any:
    """YAML types loosely (``10`` for a string parameter): read defaults as their type asks."""
    if value is None:
        return None
    if kind in (
        "string",
        "credential",
        "deployment",
        "customMetric",
        "modelPackage",
    ) and not isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "numeric" and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


# -- values -----------------------------------------------------------------------------


def _value_problem(definition: dict[str, Any], value: Any) -> str | None:
    kind = definition["type"]
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be a boolean"
    if kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        low, high = definition["minValue"], definition["maxValue"]
        if low is not None and value < low:
            return f"must be at least {low}"
        if high is not None and value > high:
            return f"must be at most {high}"
        return None
    if not isinstance(value, str):
        return "must be a string"
    if kind in ("credential", "deployment") and not _OBJECT_ID.fullmatch(value):
        return f"must be the ID of a {kind} (24 hex digits), never the secret itself"
    if len(value) > MAX_STRING:
        return f"must be at most {MAX_STRING} characters long"
    if value == "" and definition["allowEmpty"] is False:
        return "must not be empty (allowEmpty is false)"
    return None


def check_values(
    values: Any, definitions: list[dict[str, Any]], field: str = "runtimeParameterValues"
) -> dict[str, Any]:
    """``{fieldName: value}`` from a list of values (``None`` resets); 422s collected."""
    if not isinstance(values, list):
        raise InvalidRuntimeParameters({field: "must be a list of {fieldName, type, value}"})
    by_name = {d["fieldName"]: d for d in definitions}
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for index, item in enumerate(values):
        where = f"{field}.{index}"
        if (
            not isinstance(item, dict)
            or not {"fieldName", "type", "value"} <= set(item)
            or set(item) - {"fieldName", "type", "value"}
        ):
            errors[where] = "must be an object with exactly fieldName, type and value"
            continue
        definition = by_name.get(item["fieldName"])
        if definition is None:
            errors[where] = (
                f"fieldName {item['fieldName']!r} is not defined in the runtimeParameterDefinitions"
            )
        elif item["type"] != definition["type"]:
            errors[where] = f"type must be {definition['type']!r} for {item['fieldName']}"
        elif item["value"] is not None and (problem := _value_problem(definition, item["value"])):
            errors[where] = f"value {problem}"
        else:
            changes[item["fieldName"]] = item["value"]
    if errors:
        raise InvalidRuntimeParameters(errors)
    return changes


def merge(
    previous: dict[str, Any], changes: dict[str, Any], definitions: list[dict[str, Any]]
) -> dict[str, Any]:
    """The overrides after ``changes``: kept only for defined parameters; ``None`` drops one."""
    defined = {d["fieldName"] for d in definitions}
    merged = {name: value for name, value in previous.items() if name in defined}
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def render(definitions: list[dict[str, Any]], overrides: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``runtimeParameters[]`` view: definitions with default, override and current value."""
    view = []
    for definition in definitions:
        override = overrides.get(definition["fieldName"])
        default = definition["defaultValue"]
        view.append(
            {
                **definition,
                "overrideValue": override,
                "currentValue": override if override is not None else default,
            }
        )
    return view
