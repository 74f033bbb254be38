"""The JSON Schemas: valid, documented, shipped in the package, and covering the API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from controller.manifests import schema_text
from controller.manifests.schemas import SCHEMA_FILES

ROOT = Path(__file__).parents[2]
SCHEMAS = ROOT / "schemas"
# The reference the project is built on; the emulator ships the same file.
API_REFERENCE = ROOT / "emulator" / "data" / "api-reference.json"
API_FORMS = (
    "CustomModelCreate",
    "CustomModelUpdate",
    "CustomModelVersionCreate",
    "CustomModelVersionCreateFromLatest",
    "CreateCustomJob",
    "UpdateCustomJob",
)


def _schema(kind: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))


def _properties(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}".lstrip("."), sub
        for key, sub in node.items():
            if key in ("properties", "$defs"):
                for name, inner in sub.items():
                    yield from _properties(inner, f"{path}.{name}".lstrip("."))
            elif isinstance(sub, dict | list):
                yield from _properties(sub, path)
    elif isinstance(node, list):
        for item in node:
            yield from _properties(item, path)


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_each_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = _schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_every_field_has_a_description_for_the_editor(kind: str) -> None:
    schema = _schema(kind)
    defs = schema["$defs"]
    undocumented = []
    for path, sub in _properties(schema):
        target = defs[sub["$ref"].rsplit("/", 1)[-1]] if "$ref" in sub else {}
        if not sub.get("description") and not target.get("description"):
            undocumented.append(path)
    assert undocumented == []


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_the_package_ships_the_canonical_schema(kind: str) -> None:
    assert schema_text(kind) == (SCHEMAS / SCHEMA_FILES[kind]).read_text(encoding="utf-8")


def test_every_example_manifest_names_its_schema_for_the_editor() -> None:
    files = sorted((ROOT / "manifests-example").rglob("*.yaml"))
    manifests = [f for f in files if "apiVersion: dr-gitops/v1" in f.read_text()]
    assert len(manifests) == 6
    for manifest in manifests:
        first = manifest.read_text().splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, manifest
        assert (manifest.parent / match.group(1)).resolve().is_file()


def _coverage_table() -> dict[tuple[str, str], str]:
    text = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    text = text.split("## Every editable API field", 1)[1]
    rows = re.findall(r"^\| (\w+) \| (\w+) \| (.+) \|$", text, flags=re.MULTILINE)
    return {(form, field): place for form, field, place in rows}


def _schema_has(kind: str, dotted: str) -> bool:
    node: dict[str, Any] = _schema(kind)
    defs = node["$defs"]
    for part in dotted.split("."):
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
        properties = node.get("properties", {})
        if part not in properties:
            return False
        node = properties[part]
    return True


def test_every_editable_api_field_has_a_place_or_a_reason() -> None:
    reference = json.loads(API_REFERENCE.read_text(encoding="utf-8"))["schemas"]
    table = _coverage_table()
    missing = [
        f"{form}.{field}"
        for form in API_FORMS
        for field in reference[form]["properties"]
        if (form, field) not in table
    ]
    assert missing == []


def test_every_place_named_in_the_coverage_table_exists_in_the_schema() -> None:
    for (form, field), place in _coverage_table().items():
        match = re.match(r"`(spec\.[\w.]+)`", place)
        if not match:
            assert place.startswith("none"), f"{form}.{field}: {place}"
            continue
        kind = "CustomJob" if "Job" in form else "CustomModel"
        assert _schema_has(kind, match.group(1)), f"{form}.{field} → {match.group(1)}"


def test_the_package_ships_an_exact_copy_of_the_canonical_schemas() -> None:
    # schemas/ is the source people and editors use; controller/schemas/ is the copy the
    # package ships (a real folder: the Dockerfile copies only controller/, and a symbolic
    # link to ../schemas would dangle there). `make schemas` refreshes it.
    packaged = ROOT / "controller" / "schemas"
    assert not packaged.is_symlink()
    canonical = {p.name: p.read_bytes() for p in SCHEMAS.glob("*.json")}
    shipped = {p.name: p.read_bytes() for p in packaged.glob("*.json")}
    assert sorted(shipped) == sorted(canonical), "run `make schemas`"
    for name, text in canonical.items():
        assert shipped[name] == text, f"controller/schemas/{name} is stale: run `make schemas`"


@pytest.mark.parametrize("kind", sorted(SCHEMA_FILES))
def test_descriptions_leave_room_for_the_ownership_stamp(kind: str) -> None:
    from controller.model.identity import DESCRIPTION_MAX, Stamp

    # The object's description carries the stamp (jobs always, adopted models); a
    # version's description does not.
    limits = {path: node.get("maxLength") for path, node in _properties(_schema(kind))}
    assert limits["spec.description"] == DESCRIPTION_MAX
    longest = Stamp("n" * 200, "m" * 63, "c" * 40, "d" * 12).render()
    assert DESCRIPTION_MAX + len("\n\n") + len(longest) <= 10_000  # the API's limit
