"""Request-body validation driven by the API reference's JSON Schemas.

The schemas come from ``data/api-reference.json`` (a copy of the project's
``seed/api-reference.json``) plus ``data/extensions.json`` (fields API-NOTES.md documents
and the reference omits). Nothing here is hand-written per route: the reference names
each route's body schema, and :meth:`Reference.validate` checks a body against it.

Like DataRobot's own servers, a key the schema does not know is refused
(``"<key> is not allowed key"``). Every failure becomes one 422
``{"message": "Invalid field data", "errors": {field: message}}``.

Multipart bodies arrive as strings; :meth:`Reference.coerce_form` turns form fields into
the JSON types their schema asks for ("true"/"False" booleans, integers as strings,
JSON-encoded objects, repeated fields as arrays) before validation.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any
from urllib.parse import urlparse

import jsonschema
from jsonschema.exceptions import ValidationError

from emulator.errors import invalid

_BOOL_STRINGS = {"true": True, "True": True, "false": False, "False": False}
_INT = re.compile(r"-?\d+")


def _load_json(name: str) -> Any:
    return json.loads(resources.files("emulator.data").joinpath(name).read_text("utf-8"))


def _forbid_unknown_keys(node: Any) -> None:
    """Set ``additionalProperties: false`` on every object schema that lists properties."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _forbid_unknown_keys(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_unknown_keys(value)


_format_checker = jsonschema.FormatChecker(formats=())


@_format_checker.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlparse(value)
    return bool(parts.scheme and parts.netloc)


class Reference:
    """The API reference: routes, their body schemas, and validation against them."""

    def __init__(self) -> None:
        reference = _load_json("api-reference.json")
        extensions = _load_json("extensions.json")["schemas"]
        schemas: dict[str, Any] = copy.deepcopy(reference["schemas"])
        for name, extra in extensions.items():
            schemas[name]["properties"].update(extra["properties"])
        _forbid_unknown_keys(schemas)
        self.schemas = schemas
        self.endpoints: dict[tuple[str, str], dict[str, Any]] = {
            (e["method"], e["path"]): e for e in reference["endpoints"]
        }
        self._validators: dict[str, jsonschema.protocols.Validator] = {}

    # -- lookups ------------------------------------------------------------------------

    def body_schema(self, method: str, path: str) -> str | None:
        """The name of the body schema of a reference route (``None`` when it takes none)."""
        body: str | None = self.endpoints[(method, path)]["body"]
        return body

    def properties(self, schema_name: str) -> dict[str, Any]:
        """The properties of a schema, each with its ``$ref`` resolved."""
        props: dict[str, Any] = self.schemas[schema_name].get("properties", {})
        return {key: self._resolve(prop) for key, prop in props.items()}

    def _resolve(self, prop: dict[str, Any]) -> dict[str, Any]:
        ref = prop.get("$ref")
        if ref:
            resolved: dict[str, Any] = self.schemas[ref.rsplit("/", 1)[-1]]
            return resolved
        return prop

    # -- validation ---------------------------------------------------------------------

    def _validator(self, schema_name: str) -> jsonschema.protocols.Validator:
        validator = self._validators.get(schema_name)
        if validator is None:
            root = {"$ref": f"#/schemas/{schema_name}", "schemas": self.schemas}
            validator = jsonschema.Draft202012Validator(root, format_checker=_format_checker)
            self._validators[schema_name] = validator
        return validator

    def check(self, schema_name: str, body: Any) -> dict[str, str]:
        """Per-field error messages of ``body`` against a schema (empty when valid)."""
        errors: dict[str, str] = {}
        for error in self._validator(schema_name).iter_errors(body):
            for field, message in _describe(error):
                errors.setdefault(field, message)
        return errors

    def check_list_of(self, schema_name: str, items: Any, field: str) -> dict[str, str]:
        """Per-field errors of a list whose items must satisfy a schema (for JSON-string fields)."""
        if not isinstance(items, list):
            return {field: f"must be a list of {schema_name} objects"}
        errors: dict[str, str] = {}
        for index, item in enumerate(items):
            for sub, message in self.check(schema_name, item).items():
                errors.setdefault(
                    f"{field}.{index}" + ("" if sub == "body" else f".{sub}"), message
                )
        return errors

    def validate(self, schema_name: str, body: Any) -> dict[str, Any]:
        """Return ``body`` when it satisfies the schema; raise a 422 otherwise."""
        errors = self.check(schema_name, body)
        if errors:
            raise invalid(errors)
        result: dict[str, Any] = body
        return result

    # -- coercion -----------------------------------------------------------------------

    def coerce_form(
        self, schema_name: str, fields: Iterable[tuple[str, list[str]]]
    ) -> dict[str, Any]:
        """Turn multipart/urlencoded fields (all strings) into the JSON types of the schema."""
        props = self.properties(schema_name)
        body: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for key, values in fields:
            prop = props.get(key)
            if prop is None:
                body[key] = values[0] if len(values) == 1 else values
            elif _allows_array(prop):
                body[key] = values[0] if len(values) == 1 and _allows_string(prop) else values
            elif len(values) > 1:
                errors[key] = "must be given once"
            else:
                body[key] = _coerce_scalar(prop, values[0], key, errors)
        if errors:
            raise invalid(errors)
        return body

    def coerce_json(self, schema_name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Accept a JSON boolean where the schema wants a "true"/"false" string."""
        props = self.properties(schema_name)
        out = dict(body)
        for key, value in body.items():
            prop = props.get(key)
            if isinstance(value, bool) and prop is not None and _is_bool_string(prop):
                out[key] = "true" if value else "false"
        return out


def _types(prop: dict[str, Any]) -> list[str]:
    declared = prop.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _allows_array(prop: dict[str, Any]) -> bool:
    if "array" in _types(prop):
        return True
    return any("array" in _types(alt) for alt in prop.get("oneOf", []))


def _allows_string(prop: dict[str, Any]) -> bool:
    if "string" in _types(prop):
        return True
    return any("string" in _types(alt) for alt in prop.get("oneOf", []))


def _is_bool_string(prop: dict[str, Any]) -> bool:
    return set(prop.get("enum", ())) == set(_BOOL_STRINGS)


def _coerce_scalar(prop: dict[str, Any], value: str, key: str, errors: dict[str, str]) -> Any:
    types = _types(prop)
    if "object" in types or ("properties" in prop and not types):
        try:
            return json.loads(value)
        except ValueError:
            errors[key] = "must be a JSON-encoded object"
            return value
    if "null" in types and value in ("", "null", "None") and "string" not in types:
        return None
    if "integer" in types and _INT.fullmatch(value.strip()):
        return int(value)
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            return value
    if "boolean" in types and value in _BOOL_STRINGS:
        return _BOOL_STRINGS[value]
    return value


# -- error messages ---------------------------------------------------------------------

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _field(path: Iterable[Any], leaf: str | None = None) -> str:
    parts = [str(p) for p in path]
    if leaf is not None:
        parts.append(leaf)
    return ".".join(parts) or "body"


def _describe(error: ValidationError) -> list[tuple[str, str]]:
    """(field, message) pairs for one jsonschema error, worded for API users."""
    kind, instance = error.validator, error.instance
    limit: Any = error.validator_value
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    path = list(error.absolute_path)
    if kind == "required":
        present = instance if isinstance(instance, dict) else {}
        return [(_field(path, name), "is required") for name in limit if name not in present]
    if kind == "additionalProperties":
        known = set(schema.get("properties", {}))
        extra = sorted(set(instance) - known) if isinstance(instance, dict) else []
        return [(_field(path, name), f"{name} is not allowed key") for name in extra]
    if kind == "oneOf":
        return _describe_one_of(error, path)
    return [(_field(path), _message(str(kind), limit, instance, error))]


def _message(kind: str, limit: Any, instance: Any, error: ValidationError) -> str:
    if kind == "type":
        wanted = [limit] if isinstance(limit, str) else list(limit)
        return "must be " + " or ".join(_TYPE_NAMES.get(t, t) for t in wanted)
    if kind == "enum":
        return "must be one of: " + ", ".join("null" if v is None else str(v) for v in limit)
    messages = {
        "maxLength": f"must be at most {limit} characters long",
        "minLength": f"must be at least {limit} characters long",
        "maximum": f"must be at most {limit}",
        "minimum": f"must be at least {limit}",
        "exclusiveMinimum": f"must be greater than {limit}",
        "exclusiveMaximum": f"must be less than {limit}",
        "maxItems": f"must have at most {limit} items",
        "minItems": f"must have at least {limit} item(s)",
        "format": f"must be a valid {limit}",
        "anyOf": "must be a string, a number, a boolean or null",
    }
    return messages.get(kind, error.message)


def _describe_one_of(error: ValidationError, path: list[Any]) -> list[tuple[str, str]]:
    instance = error.instance
    variants: list[dict[str, Any]] = list(error.validator_value)  # type: ignore[arg-type]
    if all(_types(v) and set(_types(v)) <= {"string", "array"} for v in variants):
        return [(_field(path), "must be a string or an array of strings")]
    if isinstance(instance, dict) and "username" in instance and "id" in instance:
        return [(_field(path), "give either username or id, not both")]
    by_variant: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        by_variant.setdefault(int(sub.schema_path[0]), []).append(sub)
    if not by_variant:
        return [(_field(path), "matches more than one allowed form")]
    best = min(by_variant.values(), key=len)
    pairs: list[tuple[str, str]] = []
    for sub in best:
        pairs.extend(_describe(sub))
    return pairs
