"""Manifest names from display names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from controller.engine.export.naming import MAX_NAME, NAME_PATTERN, NameAllocator, slugify


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ("Fraud detector", "fraud-detector"),
        ("Fraud detector (v2)", "fraud-detector-v2"),
        ("  --Churn__Model--  ", "churn-model"),
        ("Prévision des ventes", "prevision-des-ventes"),
        ("ÆØÅ", "a"),  # only Å decomposes to an ASCII letter
        ("日本語のモデル", "model"),
        ("x" * 80, "x" * 63),
        ("a" * 62 + " b", "a" * 62),
    ],
)
def test_display_names_fold_to_valid_manifest_names(display: str, expected: str) -> None:
    assert slugify(display, "model") == expected


@given(st.text(max_size=120))
def test_every_display_name_gives_a_valid_manifest_name(display: str) -> None:
    name = slugify(display, "job")
    assert NAME_PATTERN.match(name)
    assert len(name) <= MAX_NAME


def test_taken_names_get_the_next_free_number() -> None:
    names = NameAllocator()
    assert names.reserve("churn")
    assert [names.allocate("churn"), names.allocate("churn"), names.allocate("other")] == [
        "churn-2",
        "churn-3",
        "other",
    ]


def test_numbered_names_stay_within_63_characters() -> None:
    names = NameAllocator({"a" * 63})
    numbered = names.allocate("a" * 63)
    assert numbered == "a" * 61 + "-2"
    assert NAME_PATTERN.match(numbered)
