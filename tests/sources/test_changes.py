"""Prefix selection of changed paths: the binary search agrees with the plain rule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.sources import ChangedPaths, PathChange, PrefixMatcher
from controller.sources.changes import select_prefixed

segment = st.sampled_from(["a", "ab", "a.b", "a-b", "b", "m0", "m00", "é", "z"])
paths = st.lists(segment, min_size=1, max_size=4).map("/".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(paths, max_size=40, unique=True), st.lists(paths | st.just("."), max_size=4))
def test_binary_search_selection_matches_the_prefix_rule(
    all_paths: list[str], prefixes: list[str]
) -> None:
    ordered = sorted(all_paths)
    matcher = PrefixMatcher(prefixes)
    expected = [i for i, p in enumerate(ordered) if matcher.matches(p)]
    assert select_prefixed(ordered, prefixes) == expected


def test_a_prefix_matches_its_folder_and_itself_but_not_siblings_sharing_its_start() -> None:
    changes = ChangedPaths(
        "b",
        "h",
        (
            PathChange("models/a", "deleted"),
            PathChange("models/a/x.py", "added"),
            PathChange("models/a.py", "added"),
            PathChange("models/ab/y.py", "modified"),
        ),
    )
    assert changes.under(["models/a"]).paths == {"models/a", "models/a/x.py"}
    assert changes.under(["models/a/"]).paths == {"models/a", "models/a/x.py"}
    assert changes.under([]).is_empty
    assert changes.under(None) == changes


def test_changes_are_kept_sorted_by_path() -> None:
    changes = ChangedPaths("b", "h", (PathChange("z", "added"), PathChange("a", "deleted")))
    assert [c.path for c in changes.changes] == ["a", "z"]
