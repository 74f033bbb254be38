"""YAML with comments that always reads back as the data written."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from controller.engine.export.yamltext import Commented, block, to_yaml

TRICKY = [
    "yes",
    "no",
    "null",
    "1.0",
    "0x1F",
    "#ml-platform",
    "key: value",
    "- item",
    "  leading and trailing  ",
    "line one\nline two\n",
    "tab\there",
    "quote ' and \" both",
    "{braces}, [brackets]",
    "Prévision des ventes",
    "line\u2028separator",
    "",
    "~",
    "*alias",
    "&anchor",
    "!tag",
    "%directive",
    "@at",
    "`backtick`",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_strings_read_back_unchanged_everywhere(text: str) -> None:
    data = {
        "spec": {
            "description": text,
            "runtimeParameters": {"VALUE": text},
            "sharing": [{"username": text, "role": "OWNER"}],
        }
    }
    assert yaml.safe_load(to_yaml(Commented(data))) == data


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=20),
        st.one_of(
            st.text(max_size=50),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.booleans(),
            st.none(),
        ),
        max_size=5,
    )
)
def test_any_values_read_back_unchanged(values: dict[str, Any]) -> None:
    data = {"spec": {"runtimeParameters": values, "other": dict(values)}}
    assert yaml.safe_load(to_yaml(Commented(data))) == data


def test_comments_go_in_the_header_inside_mappings_and_after_list_items() -> None:
    doc = Commented(
        {"spec": {"runtimeParameters": {}, "sharing": [{"id": "g1", "role": "USER"}]}},
        header=("yaml-language-server: $schema=../schemas/x.json", ""),
        notes={("spec", "runtimeParameters"): ("TOKEN: not exported",), ("spec",): ("the end",)},
        trailing={(("spec", "sharing"), 0): "ml-platform\nwith a line break"},
    )

    assert to_yaml(doc) == (
        "# yaml-language-server: $schema=../schemas/x.json\n"
        "#\n"
        "spec:\n"
        "  runtimeParameters: {}\n"
        "    # TOKEN: not exported\n"
        "  sharing:\n"
        "    - {id: g1, role: USER}  # ml-platform with a line break\n"
        "  # the end\n"
    )


def test_a_block_to_comment_out_reads_back_once_uncommented() -> None:
    data = {"version": {"source": "./x", "runtimeParameters": {"C": {"credentialId": "a" * 24}}}}

    lines = block(data)

    assert lines == [
        "version:",
        "  source: ./x",
        "  runtimeParameters:",
        f"    C: {{credentialId: {'a' * 24}}}",
    ]
    assert yaml.safe_load("\n".join(lines)) == data
