"""The canonical JSON text of our values, the bytes the plan basis digests (pure).

:func:`canonical_json` writes exactly what ``json.dumps(value, sort_keys=True,
default=shallow)`` writes (ASCII only, ``", "`` and ``": "`` separators, keys sorted, a
dataclass as the object of its own fields, a :class:`Fields` as its map), so that the
digests of saved plans stay the same; a test compares the two on many values. It is
faster because it builds no encoder per call, calls no ``default`` hook per dataclass,
and lets a caller reuse the text of a part inside the text of the whole
(:func:`object_json` with ``texts``) instead of encoding it twice.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from json.encoder import encode_basestring_ascii
from math import isfinite
from operator import attrgetter
from typing import Any

from controller.model.values import Fields


def shallow(value: object) -> object:
    """JSON for our values without deep copies: a dataclass's own fields, a Fields' dict."""
    if isinstance(value, Fields):
        return dict(value.items())
    names = field_names(value)
    if names is not None:
        return {name: getattr(value, name) for name in names}
    return str(value)


def field_names(value: object) -> tuple[str, ...] | None:
    """A dataclass instance's field names, sorted (None for anything else)."""
    shape = _shape(type(value)) if is_dataclass(value) and not isinstance(value, type) else None
    return shape.names if shape is not None else None


@dataclass(frozen=True)
class _Shape:
    """How to write the instances of one dataclass type: its field names, sorted, a getter
    of their values in that order, and the text around them (``{"a": {}, "b": {}}``)."""

    names: tuple[str, ...]
    values: Callable[[object], tuple[object, ...]]
    template: str
    strings: bool
    """Every field is annotated ``str``: the values are tried as strings first."""
    slots: dict[frozenset[str], tuple[tuple[int, str], ...]] = field(default_factory=dict)
    """The (index, name) of the fields each set of given texts names (object_variants)."""

    def slots_of(self, given: Mapping[str, str]) -> tuple[tuple[int, str], ...]:
        names = frozenset(given)
        found = self.slots.get(names)
        if found is None:
            found = tuple((i, n) for i, n in enumerate(self.names) if n in names)
            self.slots[names] = found
        return found


def _shape(kind: type) -> _Shape:
    # Looked up once per type: dataclasses.fields() builds its tuple at every call.
    shape = _SHAPES.get(kind)
    if shape is None:
        found = fields(kind)
        names = tuple(sorted(f.name for f in found))
        strings = all(f.type in ("str", str) for f in found)
        getter = (
            attrgetter(*names)
            if len(names) > 1
            else (lambda v: tuple(getattr(v, n) for n in names))
        )
        template = "{{" + ", ".join(f'"{name}": {{}}' for name in names) + "}}"
        shape = _SHAPES.setdefault(kind, _Shape(names, getter, template, strings))
        _WRITERS.setdefault(kind, object_json)
    return shape


_SHAPES: dict[type, _Shape] = {}

# The reference encoding, for what the fast paths below do not cover (subclasses of str,
# int, float, list or dict; keys that are not strings): its bytes are the contract.
_REFERENCE = json.JSONEncoder(sort_keys=True, default=shallow)


def canonical_json(value: object) -> str:
    """``json.dumps(value, sort_keys=True, default=shallow)``, byte for byte."""
    writer = _WRITERS.get(type(value))
    if writer is not None:
        return writer(value)
    if isinstance(value, str | int | float | list | tuple | dict):
        return _REFERENCE.encode(value)
    if is_dataclass(value) and not isinstance(value, type):
        _shape(type(value))
        return object_json(value)
    return encode_basestring_ascii(str(value))


def object_json(value: object, texts: Mapping[str, str] | None = None) -> str:
    """The canonical text of a dataclass instance; ``texts`` gives the text of some fields
    already encoded (or of the values they are to be taken as)."""
    if texts:
        return object_variants(value, texts)[0]
    shape = _shape(type(value))
    values = shape.values(value)
    if shape.strings:
        # Any str (a subclass too) is written as the reference writes it; anything else
        # raises here and takes the general way.
        with contextlib.suppress(TypeError):
            return shape.template.format(*map(encode_basestring_ascii, values))  # type: ignore[arg-type]
    return shape.template.format(
        *[_WRITERS.get(type(item), canonical_json)(item) for item in values]
    )


def object_variants(value: object, *variants: Mapping[str, str]) -> tuple[str, ...]:
    """The canonical texts of a dataclass instance with some fields taken as given texts,
    one text per map of ``variants`` (each naming the same fields): the other fields are
    encoded once for all of them (the plan basis writes a version and a model twice, once
    whole and once without their parts)."""
    shape = _shape(type(value))
    given = variants[0]
    texts = [
        "" if name in given else _WRITERS.get(type(item), canonical_json)(item)
        for name, item in zip(shape.names, shape.values(value), strict=True)
    ]
    slots = shape.slots_of(given)
    written = []
    for variant in variants:
        for index, name in slots:
            texts[index] = variant[name]
        written.append(shape.template.format(*texts))
    return tuple(written)


def field_texts(fields: Fields) -> dict[str, str]:
    """The text of each value of ``fields`` by name, in name order."""
    return {
        name: _WRITERS.get(type(value), canonical_json)(value) for name, value in fields.items()
    }


def map_text(texts: Mapping[str, str]) -> str:
    """The canonical text of a map of ``str`` keys whose values are given as texts, in name
    order (as :func:`field_texts` gives them)."""
    return "{" + ", ".join([f"{encode_basestring_ascii(k)}: {t}" for k, t in texts.items()]) + "}"


def _float(value: float) -> str:
    return float.__repr__(value) if isfinite(value) else _REFERENCE.encode(value)


def _array(value: tuple[object, ...] | list[object]) -> str:
    return "[" + ", ".join([_WRITERS.get(type(item), canonical_json)(item) for item in value]) + "]"


def _map_json(value: Mapping[object, object]) -> str:
    if {type(key) for key in value} - {str}:
        return _REFERENCE.encode(value)
    # A Fields holds its items sorted by name already; keys are unique, so sorting the
    # pairs sorts by key alone, as the reference does.
    pairs = value.items() if type(value) is Fields else sorted(value.items())
    return (
        "{"
        + ", ".join(
            [
                f"{encode_basestring_ascii(k)}: {_WRITERS.get(type(v), canonical_json)(v)}"  # type: ignore[arg-type]
                for k, v in pairs
            ]
        )
        + "}"
    )


# The writer of each exact type (a subclass takes the reference's way); dataclass types are
# added as they are met.
_WRITERS: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii,
    # C functions rather than Python ones: ``"null".format`` ignores its argument, and a
    # bool indexes a pair.
    type(None): "null".format,
    bool: ("false", "true").__getitem__,
    int: int.__repr__,
    float: _float,
    tuple: _array,
    list: _array,
    dict: _map_json,
    Fields: _map_json,
}
