"""The compiled fast check and jsonschema agree on which manifests are valid."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.manifests.schemas import _fast_check, _validator

ROOT = Path(__file__).parents[2]
KINDS = ("CustomModel", "CustomJob")


def _documents() -> list[tuple[str, Any]]:
    found = []
    for path in sorted(
        [*ROOT.glob("manifests-example/**/*.yaml"), *ROOT.glob("tests/manifests/corpus/**/*.yaml")]
    ):
        try:
            text = path.read_text(encoding="utf-8")
            if len(text) > 20_000 or re.search(r"[&*][A-Za-z]", text):
                continue  # the corpus's alias bombs and huge files have cases of their own
            docs = list(yaml.safe_load_all(text))
        except (yaml.YAMLError, UnicodeDecodeError, ValueError):
            continue
        found += [(d["kind"], d) for d in docs if isinstance(d, dict) and d.get("kind") in KINDS]
    return found


def _plain(document: Any) -> bool:
    """Not one of the corpus's deliberately hostile documents (alias bombs, deep nesting)."""
    try:
        return _depth(document) < 20
    except RecursionError:
        return False


def _depth(node: Any) -> int:
    if isinstance(node, dict):
        return 1 + max((_depth(v) for v in node.values()), default=0)
    if isinstance(node, list):
        return 1 + max((_depth(v) for v in node), default=0)
    return 0


def _agree(kind: str, document: Any) -> None:
    slow_valid = not any(True for _ in _validator(kind).iter_errors(document))
    try:
        _fast_check(kind)(copy.deepcopy(document))
        fast_valid = True
    except Exception:
        fast_valid = False
    assert fast_valid == slow_valid, (kind, document)


DOCUMENTS = _documents()


def test_there_are_documents_of_both_kinds_to_compare() -> None:
    assert {kind for kind, _ in DOCUMENTS} == set(KINDS)
    assert len(DOCUMENTS) > 20


@pytest.mark.parametrize(
    ("kind", "document"), DOCUMENTS, ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_example_and_corpus_document(kind: str, document: Any) -> None:
    _agree(kind, document)


def test_the_fast_check_never_fills_in_defaults() -> None:
    kind, document = next((k, d) for k, d in DOCUMENTS if k == "CustomModel")
    before = copy.deepcopy(document)
    _fast_check(kind)(document) if not any(
        True for _ in _validator(kind).iter_errors(document)
    ) else None
    assert document == before


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10**10)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_documents(data: st.DataObject) -> None:
    kind, original = data.draw(st.sampled_from([d for d in DOCUMENTS if _plain(d[1])]))
    document = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(document)[1:] or [()]))
        if not path:
            break
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            parent.pop(path[-1], None) if data.draw(st.booleans()) else parent.update(
                {data.draw(st.text(max_size=8)): data.draw(JSON)}
            )
        else:
            parent[path[-1]] = data.draw(JSON)
    _agree(kind, document)
