"""Differences on normalised essences (controller.model.diffs): fields, files, runtime
values and sharing, on values only."""

from __future__ import annotations

from controller.model.desired import RuntimeValue, SharingGrant, Source, SourceFile
from controller.model.diffs import (
    ContentEvidence,
    field_changes,
    file_changes,
    grant_changes,
    normalized,
    runtime_body,
    runtime_changes,
    same,
)
from controller.model.live import LiveGrant, LiveItem, LiveRuntimeParameter
from controller.model.plans import FieldChange, FileChange, FileChangeKind, GrantChange

# --- normalised values and fields --------------------------------------------------------


def test_empty_values_are_the_same_as_missing_ones():
    for empty in ("", [], {}, None):
        assert normalized("description", empty) is None
    assert same("description", "", None)


def test_numbers_compare_by_value_and_floats_are_rounded_to_nine_places():
    assert same("replicas", 2, 2.0)
    assert same("predictionThreshold", 0.1 + 0.2, 0.3)
    assert not same("predictionThreshold", 0.3, 0.31)
    assert normalized("replicas", 2.0) == 2
    assert isinstance(normalized("replicas", 2.0), int)


def test_enums_compare_in_the_apis_case_and_other_strings_exactly():
    assert same("networkEgressPolicy", "NONE", "none")
    assert same("egressNetworkPolicy", "public", "PUBLIC")
    assert not same("name", "Fraud", "fraud")


def test_nested_mappings_drop_empty_entries_and_ignore_key_order():
    assert same("resources", {"a": 1, "b": "", "c": None}, {"a": 1})
    assert normalized("resources", {"b": 2, "a": 1}) == {"a": 1, "b": 2}
    assert same("resources", {"only": ""}, None)


def test_metadata_pairs_compare_in_any_order_but_other_lists_in_order():
    pairs = [{"fieldName": "b", "value": "2"}, {"fieldName": "a", "value": "1"}]
    assert same("requiredMetadataValues", pairs, list(reversed(pairs)))
    assert not same("classLabels", ["yes", "no"], ["no", "yes"])


def test_field_changes_list_what_the_manifest_sets_and_differs_in_name_order():
    desired = {"name": "Fraud", "targetName": "y", "description": "", "replicas": 2}
    live = {"name": "Old", "targetName": "y", "description": None, "replicas": 1, "x": 9}
    assert field_changes(desired, live) == (
        FieldChange("name", "Old", "Fraud"),
        FieldChange("replicas", 1, 2),
    )


def test_a_field_the_manifest_does_not_set_is_not_managed():
    assert field_changes({}, {"language": "python"}) == ()


# --- files -------------------------------------------------------------------------------


def _source(*paths: str) -> Source:
    return Source("models/fraud", tuple(SourceFile(p, f"models/fraud/{p}", 1) for p in paths))


def _items(*paths: str) -> tuple[LiveItem, ...]:
    return tuple(LiveItem(f"item-{p}", p) for p in paths)


def test_files_only_on_one_side_are_added_or_deleted_whatever_the_evidence():
    changes = file_changes(
        _source("custom.py", "new.py"),
        _items("custom.py", "old.py"),
        ContentEvidence(changed_repo_paths=frozenset()),
    )
    assert changes == (
        FileChange("new.py", FileChangeKind.ADD, repo_path="models/fraud/new.py"),
        FileChange("old.py", FileChangeKind.DELETE, item_id="item-old.py"),
    )


def test_git_evidence_replaces_the_files_changed_since_the_recorded_commit():
    changes = file_changes(
        _source("a.py", "b.py"),
        _items("a.py", "b.py"),
        ContentEvidence(changed_repo_paths=frozenset({"models/fraud/b.py", "README.md"})),
    )
    assert changes == (
        FileChange(
            "b.py", FileChangeKind.MODIFY, repo_path="models/fraud/b.py", item_id="item-b.py"
        ),
    )


def test_content_evidence_replaces_the_files_whose_hashes_differ():
    evidence = ContentEvidence(
        live_hashes={"a.py": "1", "b.py": "2"}, desired_hashes={"a.py": "1", "b.py": "3"}
    )
    assert evidence.basis == "content"
    changes = file_changes(_source("a.py", "b.py"), _items("a.py", "b.py"), evidence)
    assert [c.path for c in changes] == ["b.py"]


def test_a_file_that_could_not_be_downloaded_counts_as_changed():
    evidence = ContentEvidence(live_hashes={}, desired_hashes={"a.py": "1"})
    changes = file_changes(_source("a.py"), _items("a.py"), evidence)
    assert [(c.path, c.change) for c in changes] == [("a.py", FileChangeKind.MODIFY)]


def test_the_same_paths_with_nothing_changed_since_the_recorded_commit_are_no_change():
    unchanged = ContentEvidence(changed_repo_paths=frozenset())
    assert file_changes(_source("a.py", "b.py"), _items("b.py", "a.py"), unchanged) == ()
    # Equal hashes, as content evidence, are no change either; other paths still are.
    hashes = ContentEvidence(live_hashes={"a.py": "1"}, desired_hashes={"a.py": "1"})
    assert file_changes(_source("a.py"), _items("a.py"), hashes) == ()
    assert [c.path for c in file_changes(_source("a.py"), _items("a.py", "c.py"), unchanged)] == [
        "c.py"
    ]


def test_equal_values_are_the_same_without_being_normalised():
    assert same("x", {"a": [1, 2]}, {"a": [1, 2]})
    assert same("x", 1, 1.0)
    assert same("x", True, 1)
    assert same("x", "", None)
    assert not same("x", float("nan"), float("nan"))  # not equal, as normalised


def test_without_evidence_every_common_file_is_replaced():
    evidence = ContentEvidence()
    assert evidence.basis == "none"
    changes = file_changes(_source("a.py", "b.py"), _items("a.py", "b.py"), evidence)
    assert [c.change for c in changes] == [FileChangeKind.MODIFY, FileChangeKind.MODIFY]


def test_the_evidence_basis_says_where_it_came_from():
    assert ContentEvidence(changed_repo_paths=frozenset()).basis == "git"
    assert ContentEvidence(live_hashes={}, desired_hashes={}).basis == "content"


def test_file_changes_are_sorted_by_path():
    changes = file_changes(
        _source("z.py", "a/b.py"), _items("m.py"), ContentEvidence(changed_repo_paths=frozenset())
    )
    assert [c.path for c in changes] == ["a/b.py", "m.py", "z.py"]


# --- runtime parameters ------------------------------------------------------------------


def _param(name: str, type_: str, override: object = None) -> LiveRuntimeParameter:
    return LiveRuntimeParameter(name, type_, None, override, override)  # type: ignore[arg-type]


def test_a_value_set_changed_or_dropped_is_a_runtime_change():
    desired = (RuntimeValue("NEW", "string", "x"), RuntimeValue("CHANGED", "numeric", 2))
    live = (_param("CHANGED", "numeric", 1), _param("DROPPED", "string", "old"))
    assert [(c.field_name, c.old, c.new) for c in runtime_changes(desired, live)] == [
        ("CHANGED", 1, 2),
        ("DROPPED", "old", None),
        ("NEW", None, "x"),
    ]


def test_a_live_default_is_not_dropped_and_equal_values_are_no_change():
    desired = (RuntimeValue("N", "numeric", 1),)
    live = (_param("N", "numeric", 1.0), _param("DEFAULTED", "string"))
    assert runtime_changes(desired, live) == ()


def test_runtime_booleans_are_not_numbers():
    changes = runtime_changes(
        (RuntimeValue("FLAG", "boolean", True),), (_param("FLAG", "boolean", 1),)
    )
    assert [(c.old, c.new) for c in changes] == [(1, True)]


def test_the_runtime_body_sends_every_desired_value_and_the_resets():
    desired = (RuntimeValue("KEEP", "numeric", 1), RuntimeValue("SET", "string", "x"))
    changes = runtime_changes(
        desired, (_param("KEEP", "numeric", 1), _param("GONE", "string", "y"))
    )
    assert runtime_body(desired, changes) == [
        {"fieldName": "GONE", "type": "string", "value": None},
        {"fieldName": "KEEP", "type": "numeric", "value": 1},
        {"fieldName": "SET", "type": "string", "value": "x"},
    ]


# --- sharing -----------------------------------------------------------------------------


def test_grants_role_changes_and_revocations_make_live_equal_the_declared_list():
    desired = (
        SharingGrant("user", "OWNER", name="alice@example.com"),
        SharingGrant("user", "USER", name="bob@example.com"),
        SharingGrant("group", "USER", name="data-science"),
    )
    live = (
        LiveGrant("user", "alice@example.com", "OWNER"),
        LiveGrant("user", "bob@example.com", "OWNER", id="u-bob"),
        LiveGrant("user", "carol@example.com", "USER", id="u-carol"),
    )
    assert grant_changes(desired, live) == (
        GrantChange("group", "data-science", None, "USER"),
        GrantChange("user", "bob@example.com", "OWNER", "USER", None, None, "u-bob"),
        GrantChange("user", "carol@example.com", "USER", None, None, None, "u-carol"),
    )


def test_recipients_match_by_type_and_name_or_id_ignoring_case():
    live = (
        LiveGrant("user", "Alice@Example.com", "owner"),
        LiveGrant("organization", "Acme", "OBSERVER", id="org-1"),
    )
    desired = (
        SharingGrant("user", "OWNER", name="alice@example.com"),
        SharingGrant("organization", "OBSERVER", id="ORG-1"),
    )
    assert grant_changes(desired, live) == ()


def test_a_group_and_a_user_of_the_same_name_are_different_recipients():
    desired = (SharingGrant("group", "USER", name="ops"),)
    live = (LiveGrant("user", "ops", "USER"),)
    assert [c.verb for c in grant_changes(desired, live)] == ["grant", "revoke"]


def test_protected_recipients_are_kept_unless_declared():
    live = (LiveGrant("user", "gitops-bot", "OWNER", id="u-bot"),)
    assert grant_changes((), live, protected=("gitops-bot",)) == ()
    assert grant_changes((), live, protected=("U-BOT",)) == ()
    declared = (SharingGrant("user", "USER", name="gitops-bot"),)
    (change,) = grant_changes(declared, live, protected=("gitops-bot",))
    assert (change.old_role, change.new_role, change.verb) == ("OWNER", "USER", "change")


def test_can_share_differs_only_when_declared():
    live = (LiveGrant("user", "alice", "OWNER", can_share=True),)
    assert grant_changes((SharingGrant("user", "OWNER", name="alice"),), live) == ()
    (change,) = grant_changes((SharingGrant("user", "OWNER", name="alice", can_share=False),), live)
    assert (change.old_can_share, change.new_can_share) == (True, False)
