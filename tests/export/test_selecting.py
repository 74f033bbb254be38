"""What an export takes, under which names, owned or for adoption."""

from __future__ import annotations

import pytest

from controller.engine.export.selection import select
from controller.errors import ConfigError
from controller.model.identity import Stamp, lock_upid, model_upid, stamped
from controller.model.live import LiveSnapshot
from controller.model.values import GitModelVersion
from tests.export.livevalues import job, model, version

NS = "github.com/acme/models"
OTHER = "github.com/acme/other"
GIT = GitModelVersion("https://git.example.com/c/" + "a" * 40, "a" * 40, None, "main")


def _names(selection: object) -> list[tuple[str, bool]]:
    return [(s.name, s.owned) for s in (*selection.models, *selection.jobs)]  # type: ignore[attr-defined]


def test_without_a_namespace_everything_made_by_hand_is_adopted_under_slug_names() -> None:
    snapshot = LiveSnapshot(
        models=(model("Fraud detector", model_id="m1"), model("House prices", model_id="m2")),
        jobs=(job("Nightly retrain"),),
    )

    selection = select(snapshot, namespace=None)

    assert _names(selection) == [
        ("fraud-detector", False),
        ("house-prices", False),
        ("nightly-retrain", False),
    ]
    assert selection.skipped == ()


def test_owned_objects_keep_their_names_and_hand_made_ones_avoid_them() -> None:
    snapshot = LiveSnapshot(
        models=(
            model("Churn (prod)", model_id="m1", upid=model_upid(NS, "churn")),
            model("Churn", model_id="m2"),
            model(
                "Adopted", model_id="m3", fields={"description": stamped("x", Stamp(NS, "adopted"))}
            ),
        ),
        jobs=(job("Retrain", description=stamped("", Stamp(NS, "retrain", "a" * 40))),),
    )

    selection = select(snapshot, namespace=NS)

    assert _names(selection) == [
        ("adopted", True),
        ("churn", True),
        ("churn-2", False),
        ("retrain", True),
    ]


def test_objects_of_other_namespaces_and_lock_objects_are_skipped() -> None:
    snapshot = LiveSnapshot(
        models=(
            model("Theirs", model_id="m1", upid=model_upid(OTHER, "theirs")),
            model("Lock", model_id="m2", upid=lock_upid(OTHER)),
            model(
                "From git",
                model_id="m3",
                upid="gitlab.com/team/repo/scorer",
                latest=version(git=GIT),
            ),
            model("Own id", model_id="m4", upid="my-own/id"),
        ),
        jobs=(job("Their job", description=stamped("", Stamp(OTHER, "job"))),),
    )

    selection = select(snapshot, namespace=None)

    assert _names(selection) == [("own-id", False)]  # a userProvidedId alone proves nothing
    reasons = {s.display_name: s.reason for s in selection.skipped}
    assert set(reasons) == {"Theirs", "From git", "Their job"}
    assert f"managed by dr-gitops in the namespace {OTHER!r}" in reasons["Theirs"]
    assert "--namespace gitlab.com/team/repo" in reasons["From git"]
    assert selection.namespaces_seen == (OTHER, "gitlab.com/team/repo")


def test_a_namespace_nobody_uses_is_refused_naming_those_in_use() -> None:
    snapshot = LiveSnapshot(
        models=(model("Theirs", upid=model_upid(OTHER, "theirs")),),
        jobs=(job(description=stamped("", Stamp(OTHER, "j"))),),
    )

    with pytest.raises(ConfigError, match=rf"owned by the namespace 'typo'.*'{OTHER}'"):
        select(snapshot, namespace="typo")


def test_a_namespace_known_only_by_its_lock_is_accepted() -> None:
    snapshot = LiveSnapshot(models=(model("Lock", upid=lock_upid(NS)), model("Mine")))

    selection = select(snapshot, namespace=NS)

    assert _names(selection) == [("mine", False)]


def test_only_owned_and_name_filters_count_what_they_leave_out() -> None:
    snapshot = LiveSnapshot(
        models=(
            model("Churn", model_id="m1", upid=model_upid(NS, "churn")),
            model("Fraud", model_id="m2", upid=model_upid(NS, "fraud")),
            model("Hand made", model_id="m3"),
        )
    )

    selection = select(snapshot, namespace=NS, only_owned=True, name_filters=("CH*",))

    assert _names(selection) == [("churn", True)]
    assert selection.filtered_out == 2


def test_two_owned_claims_on_one_name_keep_the_first_and_skip_the_other() -> None:
    snapshot = LiveSnapshot(
        jobs=(
            job("A", job_id="j1", description=stamped("", Stamp(NS, "retrain"))),
            job("B", job_id="j2", description=stamped("", Stamp(NS, "retrain"))),
        )
    )

    selection = select(snapshot, namespace=NS)

    assert [(s.name, s.live.id) for s in selection.jobs] == [("retrain", "j1")]
    assert "claims CustomJob/retrain too" in selection.skipped[0].reason


def test_the_oldest_object_gets_the_plain_name() -> None:
    snapshot = LiveSnapshot(
        models=(
            model("Churn", model_id="m9", created="2024-05-01T00:00:00Z"),
            model("churn", model_id="m1", created="2024-01-01T00:00:00Z"),
        )
    )

    selection = select(snapshot, namespace=None)

    assert [(s.name, s.live.id) for s in selection.models] == [("churn", "m1"), ("churn-2", "m9")]
