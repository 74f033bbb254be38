"""Runtime parameters: definitions read from the source's metadata file, values checked
against them.

Models define their parameters in ``model-metadata.yaml`` at the top of the version's
source folder, jobs in ``metadata.yaml`` (DRUM's conventions), under
``runtimeParameterDefinitions``. A manifest sets values by ``fieldName``; the value's type
must fit the definition's, numbers must respect ``minValue``/``maxValue``, strings are at
most 4096 characters, and a credential is only ever named by its credential ID.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from controller.manifests.limits import ManifestLimits
from controller.manifests.problems import FieldPath, Problem
from controller.manifests.schemas import describe, did_you_mean
from controller.manifests.yamlcache import YamlCache
from controller.manifests.yamlparser import Document, YamlProblem
from controller.model.desired import (
    KIND_MODEL,
    RuntimeParameterDefinition,
    RuntimeValue,
    Source,
)

METADATA_FILES = {KIND_MODEL: "model-metadata.yaml", "CustomJob": "metadata.yaml"}
TYPES = ("string", "numeric", "boolean", "credential", "deployment", "modelPackage", "customMetric")
MAX_STRING = 4096
_ID_TYPES = ("deployment", "modelPackage", "customMetric")

Definitions = tuple[RuntimeParameterDefinition, ...]


def read_definitions(
    repo_root: Path,
    source: Source,
    kind: str,
    limits: ManifestLimits,
    parsed: YamlCache,
    known: Mapping[str, bytes] | None = None,
) -> tuple[Definitions | None, list[Problem]]:
    """The definitions in the source's metadata file; ``None`` when it has no such file.
    ``known``: bytes of files read already, by repository path (read from disk otherwise)."""
    name = METADATA_FILES[kind]
    found = [f for f in source.files if f.path == name]
    if not found:
        return None, []
    repo_path = found[0].repo_path
    if found[0].size > limits.max_yaml_bytes:
        message = f"{name} is larger than {limits.max_yaml_bytes} bytes"
        return None, [Problem(repo_path, 1, 0, "", message, "shorten it")]
    try:
        raw = known.get(repo_path) if known is not None else None
        if raw is None:
            raw = (repo_root / repo_path).read_bytes()
        documents = parsed.documents(raw, repo_path, limits)
    except YamlProblem as exc:
        return None, [exc.problem]
    document = documents[0] if documents else None
    if document is None or not isinstance(document.data, dict):
        return (), []
    raw = document.data.get("runtimeParameterDefinitions")
    if raw is None:
        return (), []
    path: FieldPath = ("runtimeParameterDefinitions",)
    if not isinstance(raw, list):
        return None, [document.problem(path, "expected a list of definitions", "write a list")]
    return _definitions(document, raw)


def _definitions(document: Document, raw: list[Any]) -> tuple[Definitions | None, list[Problem]]:
    problems: list[Problem] = []
    out: dict[str, RuntimeParameterDefinition] = {}
    for index, item in enumerate(raw):
        path: FieldPath = ("runtimeParameterDefinitions", index)
        definition, problem = _definition(document, path, item)
        if problem:
            problems.append(problem)
        elif definition and definition.field_name in out:
            problems.append(
                document.problem(
                    (*path, "fieldName"),
                    f"runtime parameter {definition.field_name!r} is defined twice",
                    "keep one definition",
                )
            )
        elif definition:
            out[definition.field_name] = definition
    if problems:
        return None, problems
    return tuple(sorted(out.values(), key=lambda d: d.field_name)), []


def _definition(
    document: Document, path: FieldPath, item: Any
) -> tuple[RuntimeParameterDefinition | None, Problem | None]:
    if not isinstance(item, dict):
        return None, document.problem(path, "expected a mapping", "write fieldName: and type:")
    field_name, kind = item.get("fieldName"), item.get("type")
    if not isinstance(field_name, str) or not field_name:
        return None, document.problem((*path, "fieldName"), "fieldName is required", "add it")
    if not field_name.isprintable():
        return None, document.problem(
            (*path, "fieldName"),
            f"{field_name!r} holds a control character or a bidirectional-text control",
            "write it on one line of plain text: plans and pull-request comments show it",
        )
    if kind not in TYPES:
        return None, document.problem(
            (*path, "type"), f"unknown type {kind!r}", did_you_mean(str(kind), list(TYPES))
        )
    bounds = {k: item.get(k) for k in ("minValue", "maxValue")}
    for key, bound in bounds.items():
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            return None, document.problem((*path, key), f"{key} must be a number", "fix it")
    default = item.get("defaultValue")
    if isinstance(default, dict | list):
        return None, document.problem((*path, "defaultValue"), "must be a plain value", "fix it")
    allow_empty = item.get("allowEmpty", True)
    definition = RuntimeParameterDefinition(
        field_name=field_name,
        type=kind,
        default_value=default,
        min_value=bounds["minValue"],
        max_value=bounds["maxValue"],
        credential_type=_str_or_none(item.get("credentialType")),
        allow_empty=allow_empty if isinstance(allow_empty, bool) else True,
        description=_str_or_none(item.get("description")),
    )
    return definition, None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def check_values(
    document: Document,
    path: FieldPath,
    values: Mapping[str, Any],
    definitions: Definitions | None,
    metadata_file: str,
) -> tuple[tuple[RuntimeValue, ...], list[Problem]]:
    """The values as RuntimeValues typed by their definitions, or the problems found."""
    if definitions is None:
        if not values:
            return (), []
        return (), [
            document.problem(
                path,
                f"runtime parameters are set but {metadata_file} has no usable definitions",
                f"define them under runtimeParameterDefinitions in {metadata_file} "
                "at the top of the source folder",
            )
        ]
    by_name = {d.field_name: d for d in definitions}
    out: list[RuntimeValue] = []
    problems: list[Problem] = []
    for name in sorted(values):
        field_path = (*path, name)
        definition = by_name.get(name)
        if definition is None:
            hint = did_you_mean(name, list(by_name)) if by_name else f"define it in {metadata_file}"
            problems.append(
                document.problem(field_path, f"unknown runtime parameter {name!r}", hint)
            )
            continue
        value, problem = _check_value(document, field_path, values[name], definition)
        if problem:
            problems.append(problem)
        else:
            out.append(RuntimeValue(name, definition.type, value))
    problems.extend(_missing(document, path, values, definitions))
    return tuple(out), problems


def _check_value(
    document: Document, path: FieldPath, value: Any, definition: RuntimeParameterDefinition
) -> tuple[Any, Problem | None]:
    kind = definition.type
    if value is None:
        return None, None
    if kind == "credential":
        if isinstance(value, dict) and "credentialId" in value:
            return value["credentialId"], None
        return None, document.problem(
            path,
            "a credential parameter takes {credentialId: <id>}, never the secret itself",
            "store the secret in DataRobot credentials and give its ID here; "
            "remove the literal value from git history if it was a real secret",
        )
    if isinstance(value, dict):
        return None, document.problem(
            path,
            f"{definition.field_name} is a {kind} parameter, not a credential",
            "give a plain value",
        )
    if kind == "numeric":
        return _check_number(document, path, value, definition)
    if kind == "boolean" and not isinstance(value, bool):
        return None, document.problem(
            path,
            f"{definition.field_name} is boolean; got {describe(value)}",
            "write true or false",
        )
    if (kind == "string" or kind in _ID_TYPES) and not isinstance(value, str):
        return None, document.problem(
            path,
            f"{definition.field_name} is a {kind} parameter; got {describe(value)}",
            "quote the value so YAML reads it as text",
        )
    if isinstance(value, str) and len(value) > MAX_STRING:
        return None, document.problem(
            path,
            f"the value has {len(value)} characters; at most {MAX_STRING} allowed",
            "shorten it",
        )
    return value, None


def _check_number(
    document: Document, path: FieldPath, value: Any, definition: RuntimeParameterDefinition
) -> tuple[Any, Problem | None]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, document.problem(
            path, f"{definition.field_name} is numeric; got {describe(value)}", "write a number"
        )
    low, high = definition.min_value, definition.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"from {low if low is not None else '-inf'} to {high if high is not None else 'inf'}"
        return None, document.problem(
            path, f"{value} is out of range for {definition.field_name}", f"use a value {span}"
        )
    return value, None


def _missing(
    document: Document, path: FieldPath, values: Mapping[str, Any], definitions: Definitions
) -> list[Problem]:
    problems = []
    for definition in definitions:
        if definition.allow_empty or definition.default_value is not None:
            continue
        if values.get(definition.field_name) is None:
            problems.append(
                document.problem(
                    path,
                    f"runtime parameter {definition.field_name!r} has no value and no default "
                    "(allowEmpty: false)",
                    "set a value here; DataRobot will not register or run it without one",
                    "warning",
                )
            )
    return problems
