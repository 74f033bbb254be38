"""Readers of the ``params`` object of a saved plan: each returns the value of one key in
its type, reads a missing key as empty, and raises ``TypeError`` naming the key when the
value has another type (see :mod:`controller.model.params`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def mapping_at(value: object, name: str) -> Mapping[str, Any]:
    """``value`` as an object (``None``: an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"params.{name}: not an object")
    return value


def text_at(doc: Mapping[str, Any], name: str) -> str:
    value = doc.get(name, "")
    if not isinstance(value, str):
        raise TypeError(f"params.{name}: not a string")
    return value


def flag_at(doc: Mapping[str, Any], name: str) -> bool:
    value = doc.get(name, False)
    if not isinstance(value, bool):
        raise TypeError(f"params.{name}: not true or false")
    return value


def opt_flag_at(doc: Mapping[str, Any], name: str) -> bool | None:
    return None if doc.get(name) is None else flag_at(doc, name)


def opt_text_at(doc: Mapping[str, Any], name: str) -> str | None:
    return None if doc.get(name) is None else text_at(doc, name)


def opt_number_at(doc: Mapping[str, Any], name: str) -> float | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"params.{name}: not a number")
    return float(value)


def integer_at(doc: Mapping[str, Any], name: str) -> int:
    value = doc.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"params.{name}: not an integer")
    return value
