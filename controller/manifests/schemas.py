"""The JSON Schemas of the manifest kinds, and schema errors told as problems.

The schemas are the files in ``schemas/`` at the repository root, shipped inside the
package as ``controller/schemas/`` and read with importlib.resources. For speed, local
``$ref``s are inlined once before the validator is built (the schemas have no recursion).
Each jsonschema error becomes a :class:`Problem` whose message names the field and whose
hint says what to write instead ("did you mean ...?" for unknown fields and enum values).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from controller.manifests.problems import FieldPath, Problem
from controller.manifests.yamlparser import Document
from controller.model.desired import KIND_JOB, KIND_MODEL

SCHEMA_FILES = {KIND_MODEL: "custom-model.schema.json", KIND_JOB: "custom-job.schema.json"}
SETTINGS_SCHEMA_FILE = "repository-settings.schema.json"


def schema_text(kind: str) -> str:
    """The JSON Schema of ``kind`` as shipped in the package."""
    files = resources.files("controller").joinpath("schemas")
    return files.joinpath(SCHEMA_FILES[kind]).read_text(encoding="utf-8")


def settings_schema_text() -> str:
    """The JSON Schema of the repository settings file (``.dr-gitops.yaml``)."""
    files = resources.files("controller").joinpath("schemas")
    return files.joinpath(SETTINGS_SCHEMA_FILE).read_text(encoding="utf-8")


@cache
def _inlined(kind: str) -> dict[str, Any]:
    schema = json.loads(schema_text(kind))
    defs = schema.pop("$defs", {})
    return _inline(schema, defs)  # type: ignore[no-any-return]


@cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(_inlined(kind))


@cache
def _fast_check(kind: str) -> Callable[[Any], Any]:
    """A compiled validity check: 10x faster than jsonschema, used to skip explaining
    documents that are valid. The schemas use only keywords that mean the same in draft-07
    (which fastjsonschema compiles), a test keeps the two in agreement, and defaults are
    never written into the document (``use_default=False``)."""
    schema = {**_inlined(kind), "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(schema, use_default=False, use_formats=False)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
            return {**target, **{k: _inline(v, defs) for k, v in node.items() if k != "$ref"}}
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def with_api_spelling(kind: str, document: Document) -> Document:
    """``document`` with every enum value given in another case written as the schema (the
    API) spells it: ``role: user`` → ``USER``, ``targetType: binary`` → ``Binary``.

    One rule for every enum of every kind, applied before the schema check: enum values are
    matched without regard to case, then normalised (so plans compare like with like); a
    value that matches no choice is left as it is for the schema to explain ("did you
    mean ...?"). The schemas list the API's spelling only.
    """
    data = _spelled(_inlined(kind), document.data)
    return document if data is document.data else replace(document, data=data)


def _spelled(schema: Any, value: Any) -> Any:
    """``value`` with enum values in the API's spelling; the same object when unchanged."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, str) and isinstance(schema.get("enum"), list):
        choices = {c.casefold(): c for c in schema["enum"] if isinstance(c, str)}
        return choices.get(value.casefold(), value)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        out = {k: _spelled(properties.get(k, extra), v) for k, v in value.items()}
        return value if all(out[k] is value[k] for k in value) else out
    if isinstance(value, list):
        items = [_spelled(schema.get("items"), v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def check_schema(kind: str, document: Document) -> list[Problem]:
    """Every schema problem of ``document``, which is a manifest of ``kind``."""
    try:
        _fast_check(kind)(document.data)
    except fastjsonschema.JsonSchemaException:
        pass  # explain it below, with jsonschema's detailed errors
    else:
        return []
    problems: list[Problem] = []
    for error in _validator(kind).iter_errors(document.data):
        problems.extend(_explain(error, document))
    return problems


def describe(value: Any) -> str:
    """How a value reads to a YAML author."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def did_you_mean(word: str, choices: list[str]) -> str:
    """A "did you mean" hint, case-insensitively, or a list of the choices."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return f"did you mean {lowered[close[0]]!r}?"
    return "expected one of: " + ", ".join(choices)


def _explain(error: ValidationError, document: Document) -> Iterator[Problem]:
    path: FieldPath = tuple(error.absolute_path)
    handler = _HANDLERS.get(str(error.validator), _generic)
    for sub_path, message, hint in handler(error, path):
        yield document.problem(sub_path, message, hint)


Found = Iterator[tuple[FieldPath, str, str]]


def _instance(error: ValidationError) -> Any:
    return error.instance


def _wanted(error: ValidationError) -> Any:
    return error.validator_value


def _schema(error: ValidationError) -> dict[str, Any]:
    return error.schema if isinstance(error.schema, dict) else {}


def _additional(error: ValidationError, path: FieldPath) -> Found:
    properties = _schema(error).get("properties", {})
    allowed = sorted(properties)
    nested = properties.get("version", {}).get("properties", {})  # a model's spec
    for key in sorted(k for k in _instance(error) if k not in allowed):
        if key in nested:  # a job keeps these in spec, a model in spec.version
            hint = f"move it under spec.version: a model's {key} belongs to its version"
        else:
            hint = did_you_mean(key, allowed) if allowed else "remove it"
        yield (*path, key), f"unknown field {key!r}", hint


def _required(error: ValidationError, path: FieldPath) -> Found:
    for key in _wanted(error):
        if key not in _instance(error):
            described = _schema(error).get("properties", {}).get(key, {}).get("description", "")
            first = described.split(". ")[0].split(" (API")[0].rstrip(".")
            what = f"{first[:1].lower()}{first[1:]}" if first else "..."
            yield (*path, key), f"{key} is required", f"add {key}: {what}"


def _type(error: ValidationError, path: FieldPath) -> Found:
    expected = _wanted(error)
    names = {"string": "a string", "integer": "a whole number", "number": "a number"}
    names |= {"boolean": "true or false", "object": "a mapping", "array": "a list"}
    want = names.get(expected, str(expected)) if isinstance(expected, str) else str(expected)
    hint = f"write {want}"
    if expected == "string" and isinstance(_instance(error), bool | int | float):
        hint = "quote the value so YAML reads it as text"
    yield path, f"expected {want}, got {describe(_instance(error))}", hint


def _enum(error: ValidationError, path: FieldPath) -> Found:
    # Any case of a choice was accepted before the check (see with_api_spelling).
    choices = [str(c) for c in _wanted(error)]
    yield path, f"{_instance(error)!r} is not allowed", did_you_mean(str(_instance(error)), choices)


def _const(error: ValidationError, path: FieldPath) -> Found:
    yield path, f"must be {_wanted(error)!r}", f"write {_wanted(error)}"


def _range(error: ValidationError, path: FieldPath) -> Found:
    low, high = _schema(error).get("minimum"), _schema(error).get("maximum")
    side = "below the minimum" if error.validator == "minimum" else "above the maximum"
    bound = _wanted(error)
    hint = f"use a value from {low} to {high}" if low is not None and high is not None else ""
    yield path, f"{_instance(error)!r} is {side} {bound}", hint or f"use at most/least {bound}"


def _length(error: ValidationError, path: FieldPath) -> Found:
    size = len(_instance(error))
    unit = "items" if isinstance(_instance(error), list) else "characters"
    if error.validator in ("minLength", "minItems"):
        what = "is empty" if size == 0 else f"has {size} {unit}"
        yield path, f"{what}; at least {_wanted(error)} needed", "add to it or remove it"
    else:
        hint = f"shorten it to at most {_wanted(error)} {unit}"
        yield path, f"has {size} {unit}; at most {_wanted(error)} allowed", hint


def _pattern(error: ValidationError, path: FieldPath) -> Found:
    hint = _schema(error).get("x-hint") or f"match the pattern {_wanted(error)}"
    if path[-2:] == ("metadata", "name"):
        hint = (
            "use lowercase letters, digits and dashes, starting and ending with a letter or digit"
        )
    # Runtime parameter values may be secrets typed where an ID belongs: never echo them.
    shown = "the value" if "runtimeParameters" in path else repr(_instance(error))
    yield path, f"{shown} {_schema(error).get('x-problem', 'is not valid here')}", hint


def _unique_items(error: ValidationError, path: FieldPath) -> Found:
    yield path, "has repeated items", "list each item once"


def _any_of(error: ValidationError, path: FieldPath) -> Found:
    hint = _schema(error).get("x-hint", "")
    # The branch written for this kind of value (the one not failing on its type) says
    # best what is wrong with it.
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [subs for subs in branches.values() if all(s.validator != "type" for s in subs)]
    if len(fitting) == 1:
        for sub in fitting[0]:
            handler = _HANDLERS.get(str(sub.validator), _generic)
            for sub_path, message, sub_hint in handler(sub, tuple(sub.absolute_path)):
                if sub.validator == "pattern" and not _schema(sub).get("x-hint"):
                    sub_hint = hint or sub_hint
                yield sub_path, message, sub_hint
        return
    yield path, f"{describe(_instance(error))} is not valid here", hint or "see the schema"


def _generic(error: ValidationError, path: FieldPath) -> Found:
    yield path, error.message, _schema(error).get("x-hint", "see the schema")


_HANDLERS = {
    "additionalProperties": _additional,
    "required": _required,
    "type": _type,
    "enum": _enum,
    "const": _const,
    "minimum": _range,
    "maximum": _range,
    "minLength": _length,
    "maxLength": _length,
    "minItems": _length,
    "maxItems": _length,
    "pattern": _pattern,
    "uniqueItems": _unique_items,
    "anyOf": _any_of,
    "oneOf": _any_of,
}
