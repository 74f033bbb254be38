"""Reading YAML safely: every value keeps its line; what PyYAML lets through is refused."""

from __future__ import annotations

import itertools

import pytest

from controller.manifests.limits import ManifestLimits
from controller.manifests.yamlparser import YamlProblem, decode, parse_documents

LIMITS = ManifestLimits()


def test_every_key_and_item_keeps_its_line() -> None:
    text = "a: 1\nb:\n  c: [x,\n    y]\n  d:\n    - e: 2\n"
    (document,) = parse_documents(text, "f.yaml", LIMITS)

    assert document.data == {"a": 1, "b": {"c": ["x", "y"], "d": [{"e": 2}]}}
    assert document.line_of(("a",)) == 1
    assert document.line_of(("b", "c", 1)) == 4
    assert document.line_of(("b", "d", 0, "e")) == 6
    assert document.line_of(("b", "d", 0, "missing")) == 6


def test_merge_keys_merge_and_explicit_keys_win() -> None:
    text = "base: &base {x: 1, y: 2}\nitem:\n  <<: *base\n  y: 3\n"
    (document,) = parse_documents(text, "f.yaml", LIMITS)

    assert document.data["item"] == {"x": 1, "y": 3}


def test_a_duplicate_key_is_refused_with_both_lines() -> None:
    with pytest.raises(YamlProblem) as raised:
        parse_documents("a: 1\nb: 2\na: 3\n", "f.yaml", LIMITS)

    problem = raised.value.problem
    assert (problem.line, problem.path) == (3, "a")
    assert "duplicate key 'a' (first on line 1)" in problem.message


def test_aliases_that_multiply_past_the_limit_are_refused() -> None:
    names = ["a0", "a1", "a2", "a3", "a4", "a5"]
    text = "a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + "".join(
        f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]\n"
        for previous, name in itertools.pairwise(names)
    )

    with pytest.raises(YamlProblem) as raised:
        parse_documents(text, "f.yaml", ManifestLimits(max_yaml_values=10_000))

    assert "expands to more than 10000 values" in raised.value.problem.message


def test_reusing_an_anchor_a_few_times_is_fine() -> None:
    text = "x: &v {k: 1}\ny: *v\nz: *v\n"
    (document,) = parse_documents(text, "f.yaml", LIMITS)

    assert document.data["z"] == {"k": 1}


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_numbers_are_refused(value: str) -> None:
    with pytest.raises(YamlProblem, match="not a finite number"):
        parse_documents(f"a: {value}\n", "f.yaml", LIMITS)


def test_unknown_tags_are_refused_not_constructed() -> None:
    with pytest.raises(YamlProblem, match="unsupported tag"):
        parse_documents("a: !!python/object:os.system ls\n", "f.yaml", LIMITS)


def test_a_tab_in_indentation_is_named_as_such() -> None:
    with pytest.raises(YamlProblem) as raised:
        parse_documents("a:\n\tb: 1\n", "f.yaml", LIMITS)

    assert (raised.value.problem.line, raised.value.problem.message) == (
        2,
        "a tab is used for indentation",
    )


def test_a_tab_inside_a_value_is_not_an_indentation_problem() -> None:
    (document,) = parse_documents('a: "x\\ty"\nb: |\n  one\ttwo\n', "f.yaml", LIMITS)

    assert document.data == {"a": "x\ty", "b": "one\ttwo\n"}


def test_decoding_accepts_utf8_with_a_bom_and_refuses_latin1() -> None:
    assert decode("\ufeffa: é\n".encode(), "f.yaml") == "a: é\n"
    with pytest.raises(YamlProblem) as raised:
        decode("a: 1\nb: é\n".encode("latin-1"), "f.yaml")
    assert raised.value.problem.line == 2
    assert "not valid UTF-8" in raised.value.problem.message


def test_an_empty_document_is_kept_as_empty() -> None:
    documents = parse_documents("a: 1\n---\n---\nb: 2\n", "f.yaml", LIMITS)

    assert [d.data for d in documents] == [{"a": 1}, None, {"b": 2}]
    assert [d.index for d in documents] == [1, 2, 3]
