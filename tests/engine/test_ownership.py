"""Pairing manifests with live objects (controller.engine.ownership), on values only."""

from __future__ import annotations

from dataclasses import replace

from controller.engine.ownership import Matches, match_jobs, match_models
from controller.model.desired import Adoption, DesiredState, ResourceKey
from controller.model.identity import Stamp, lock_upid, model_upid, stamped, upid_prefix
from controller.model.live import LiveJob, LiveModel, LiveSnapshot
from tests.engine import builders as b

FRAUD = ResourceKey("CustomModel", "fraud")
RETRAIN = ResourceKey("CustomJob", "retrain")
OTHER_NS = "github.com/acme/other"


def hand_made(model_id: str, name: str = "Fraud", description: str = "") -> LiveModel:
    """A model made by hand: no userProvidedId, no stamp."""
    live = b.live_model(b.desired_model(), model_id=model_id)
    return replace(
        live, user_provided_id=None, fields=live.fields.replace(name=name, description=description)
    )


def models(*live: LiveModel, desired: DesiredState | None = None) -> Matches[LiveModel]:
    state = desired if desired is not None else b.state(b.desired_model())
    return match_models(state, LiveSnapshot(models=tuple(live)), b.NS)


def jobs(*live: LiveJob, desired: DesiredState | None = None) -> Matches[LiveJob]:
    state = desired if desired is not None else b.state(b.desired_job())
    return match_jobs(state, LiveSnapshot(jobs=tuple(live)), b.NS)


# --- models ------------------------------------------------------------------------------


def test_a_model_is_owned_by_its_user_provided_id():
    live = b.live_model(b.desired_model())
    found = models(live)
    assert found.owned == {FRAUD: live}
    assert found.live_for(FRAUD) is live
    assert not found.adopted
    assert not found.orphans
    assert not found.conflicts
    assert found.warnings == ()


def test_a_model_of_another_namespace_is_not_ours_even_with_the_same_name():
    theirs = b.live_model(b.desired_model(), namespace=OTHER_NS)
    found = models(theirs)
    assert found.live_for(FRAUD) is None
    assert not found.orphans


def test_an_owned_model_without_a_manifest_is_an_orphan():
    gone = b.live_model(b.desired_model("old"), model_id="m-old")
    found = models(gone)
    assert found.orphans == {ResourceKey("CustomModel", "old"): gone}
    assert found.ambiguous == frozenset()


def test_a_model_stamped_by_us_after_adoption_is_owned_by_its_stamp():
    adopted = replace(
        hand_made("m-hand"),
        user_provided_id="team-x/fraud",
        fields=hand_made("m-hand").fields.replace(
            description=stamped("Scores fraud.", Stamp(b.NS, "fraud"))
        ),
    )
    assert models(adopted).owned == {FRAUD: adopted}


def test_our_stamp_never_outranks_another_namespaces_user_provided_id():
    # Another namespace's lock makes its prefix known: its model stays its own.
    theirs = replace(
        b.live_model(b.desired_model(), model_id="m-theirs", namespace=OTHER_NS),
        fields=b.live_model(b.desired_model()).fields.replace(
            description=stamped("", Stamp(b.NS, "fraud"))
        ),
    )
    lock = replace(hand_made("m-lock", name="lock"), user_provided_id=lock_upid(OTHER_NS))
    found = models(theirs, lock)
    assert found.live_for(FRAUD) is None
    assert not found.orphans


def test_a_lock_object_is_never_a_model_of_ours():
    lock = replace(hand_made("m-lock", name="lock"), user_provided_id=lock_upid(b.NS))
    found = models(lock, desired=b.state())
    assert not found.orphans
    assert not found.owned


def test_adopt_takes_the_one_unowned_model_with_that_name():
    model = replace(b.desired_model(), adopt=Adoption("Fraud"))
    hand = hand_made("m-hand")
    found = models(hand, desired=b.state(model))
    assert found.adopted == {FRAUD: hand}
    assert found.live_for(FRAUD) is hand
    assert not found.owned


def test_adopt_prefers_the_owned_model_when_there_is_one():
    model = replace(b.desired_model(), adopt=Adoption("Fraud"))
    owned = b.live_model(model)
    found = models(owned, hand_made("m-hand"), desired=b.state(model))
    assert found.owned == {FRAUD: owned}
    assert not found.adopted


def test_adopt_with_two_candidates_is_a_conflict_naming_both():
    model = replace(b.desired_model(), adopt=Adoption("Fraud"))
    found = models(hand_made("m-2"), hand_made("m-1"), desired=b.state(model))
    assert found.live_for(FRAUD) is None
    assert found.conflicts[FRAUD] == (
        "cannot adopt: 2 models are named 'Fraud' (ids m-1, m-2); rename all but one in "
        "DataRobot first"
    )


def test_adopt_of_a_model_another_namespace_manages_is_a_conflict():
    model = replace(b.desired_model(), adopt=Adoption("Fraud"))
    theirs = replace(
        hand_made("m-theirs"), fields=hand_made("m-theirs").fields.replace(
            description=stamped("", Stamp(OTHER_NS, "fraud"))
        ),
    )  # fmt: skip
    found = models(theirs, desired=b.state(model))
    assert "another dr-gitops namespace manages it" in found.conflicts[FRAUD]


def test_adopt_with_nothing_to_adopt_warns_that_it_will_create():
    model = replace(b.desired_model(), adopt=Adoption("Fraud"))
    found = models(desired=b.state(model))
    assert found.warnings == (
        "CustomModel/fraud: metadata.adopt is set but no model named 'Fraud' exists; it will "
        "be created",
    )


def test_an_unowned_model_with_the_same_name_is_left_alone_with_a_warning():
    found = models(hand_made("m-hand"))
    assert found.live_for(FRAUD) is None
    assert found.warnings == (
        "CustomModel/fraud: a model named 'Fraud' exists that dr-gitops does not own (id "
        "m-hand); a new one will be created. Set metadata.adopt: true to take it over instead",
    )


def test_a_long_namespace_is_matched_through_its_hashed_prefix():
    namespace = "git.example.com/" + "very-long-group/" * 5 + "models"
    assert "~" in upid_prefix(namespace)
    live = replace(b.live_model(b.desired_model()), user_provided_id=model_upid(namespace, "fraud"))
    found = match_models(b.state(b.desired_model()), LiveSnapshot(models=(live,)), namespace)
    assert found.owned == {FRAUD: live}


# --- jobs --------------------------------------------------------------------------------


def test_a_job_is_owned_by_the_stamp_in_its_description():
    live = b.live_job(b.desired_job())
    assert jobs(live).owned == {RETRAIN: live}


def test_two_jobs_with_one_stamp_are_a_conflict_and_neither_is_used():
    first = b.live_job(b.desired_job(), job_id="j-1")
    second = b.live_job(b.desired_job(), job_id="j-2")
    found = jobs(second, first)
    assert found.live_for(RETRAIN) is None
    assert found.conflicts[RETRAIN].startswith("2 jobs claim CustomJob/retrain (ids j-1, j-2)")


def test_orphaned_jobs_sharing_a_stamp_are_ambiguous_by_id():
    first = b.live_job(b.desired_job("old"), job_id="j-1")
    second = b.live_job(b.desired_job("old"), job_id="j-2")
    found = jobs(first, second, desired=b.state())
    keys = {ResourceKey("CustomJob", "old#j-1"), ResourceKey("CustomJob", "old#j-2")}
    assert set(found.orphans) == keys
    assert found.ambiguous == keys


def test_an_unstamped_job_with_the_manifests_name_is_a_conflict_not_a_second_job():
    live = b.live_job(b.desired_job())
    unstamped = replace(live, fields=live.fields.replace(description="edited by hand"))
    found = jobs(unstamped)
    assert found.live_for(RETRAIN) is None
    assert "does not own (id j1; if it was made by dr-gitops" in found.conflicts[RETRAIN]


def test_a_job_stamped_by_another_namespace_is_theirs():
    theirs = b.live_job(b.desired_job(), namespace=OTHER_NS)
    found = jobs(theirs)
    assert found.live_for(RETRAIN) is None
    assert not found.conflicts
    assert found.warnings == (
        "CustomJob/retrain: a job named 'Retrain' exists that another dr-gitops namespace "
        "manages, so this one does not own it (id j1); a new one will be created",
    )


def test_adopt_takes_an_unstamped_job_by_name():
    job = replace(b.desired_job(), adopt=Adoption("Retrain"))
    live = b.live_job(job)
    unstamped = replace(live, fields=live.fields.replace(description=""))
    assert jobs(unstamped, desired=b.state(job)).adopted == {RETRAIN: unstamped}
