"""The planner, on values only: desired + live + evidence in, plan out."""

from __future__ import annotations

import json

import pytest

from controller.engine.plan import PlanInputs
from controller.errors import PlanError
from controller.model.desired import SharingGrant
from controller.model.diffs import ContentEvidence
from controller.model.live import LiveGrant, LiveSnapshot
from controller.model.params import (
    ModelCreate,
    ParameterValue,
    VersionCreate,
    VersionMethod,
    VersionRef,
)
from controller.model.plan_json import plan_from_json, plan_to_json
from controller.model.plans import ActionKind, FileChangeKind
from tests.engine import builders as b

NO_CHANGE = ContentEvidence(changed_repo_paths=frozenset())


def plan_for(desired, live=(), jobs=(), *, evidence=None, job_evidence=None, **kwargs):
    snapshot = kwargs.pop("snapshot", None) or LiveSnapshot(models=tuple(live), jobs=tuple(jobs))
    return b.plan(
        PlanInputs(
            desired=desired,
            live=snapshot,
            namespace=b.NS,
            revision=b.revision(),
            model_evidence=evidence or {},
            job_evidence=job_evidence or {},
            **kwargs,
        )
    )


def test_an_empty_account_plans_a_model_its_first_version_and_its_sharing():
    model = b.desired_model(sharing=(SharingGrant("user", "OWNER", name="alice@example.com"),))
    plan = plan_for(b.state(model))
    kinds = [a.kind for a in plan.actions]
    assert kinds == [
        ActionKind.CREATE_MODEL,
        ActionKind.CREATE_VERSION,
        ActionKind.UPDATE_MODEL_SHARING,
    ]
    create = plan.actions[0]
    assert isinstance(create.params, ModelCreate)
    assert create.params.body["userProvidedId"] == f"{b.NS}/fraud"
    assert create.params.body["customModelType"] == "inference"
    version = plan.actions[1]
    assert {f.change for f in version.files} == {FileChangeKind.ADD}
    assert len(version.files) == 3
    # The new model's sharing is part of its creation, not an update of its own.
    assert plan.summary_line() == "Plan: 1 to create, 0 to update, 1 new version, 0 to delete."
    assert plan.counts() == {"create": 1, "version": 1}


def test_a_live_model_equal_to_its_manifest_plans_nothing():
    model = b.desired_model(runtime={"THRESHOLD": 0.7})
    plan = plan_for(
        b.state(model),
        [b.live_model(model, runtime={"THRESHOLD": 0.7})],
        evidence={model.key: NO_CHANGE},
    )
    assert plan.is_empty
    assert plan.unchanged == 1
    assert plan.summary_line().startswith("No changes")


def test_one_changed_file_makes_one_version_replacing_exactly_that_file():
    model = b.desired_model()
    evidence = ContentEvidence(changed_repo_paths=frozenset({"fraud/custom.py", "elsewhere/x.py"}))
    plan = plan_for(b.state(model), [b.live_model(model)], evidence={model.key: evidence})
    (action,) = plan.actions
    assert action.kind is ActionKind.CREATE_VERSION
    assert action.params == VersionCreate(
        VersionMethod.FROM_LATEST,
        major=False,
        base=VersionRef("v1", "1.0"),
        settings=model.version.settings,
    )
    assert [(f.path, f.change, f.item_id) for f in action.files] == [
        ("custom.py", FileChangeKind.MODIFY, "item-custom.py")
    ]


def test_a_file_removed_from_the_source_is_deleted_by_item_id():
    model = b.desired_model(paths=("custom.py", "model-metadata.yaml"))
    live = b.live_model(model, paths=("custom.py", "model-metadata.yaml", "old.py"))
    plan = plan_for(b.state(model), [live], evidence={model.key: NO_CHANGE})
    (action,) = plan.actions
    assert [(f.path, f.change, f.item_id) for f in action.files] == [
        ("old.py", FileChangeKind.DELETE, "item-old.py")
    ]


def test_a_settings_change_alone_makes_a_settings_only_version():
    model = b.desired_model(settings={"baseEnvironmentId": b.ENV, "replicas": 2})
    live = b.live_model(model, settings={"baseEnvironmentId": b.ENV, "replicas": 1})
    plan = plan_for(b.state(model), [live], evidence={model.key: NO_CHANGE})
    (action,) = plan.actions
    assert isinstance(action.params, VersionCreate)
    assert action.params.method is VersionMethod.SETTINGS_ONLY
    assert not action.files
    assert [(c.field, c.old, c.new) for c in action.fields] == [("replicas", 1, 2)]


def test_changing_the_base_environment_or_a_frozen_latest_asks_for_a_major_version():
    model = b.desired_model(settings={"baseEnvironmentId": "other-env"})
    plan = plan_for(
        b.state(model),
        [b.live_model(model, settings={"baseEnvironmentId": b.ENV})],
        evidence={model.key: NO_CHANGE},
    )
    assert isinstance(plan.actions[0].params, VersionCreate)
    assert plan.actions[0].params.major is True
    changed = ContentEvidence(changed_repo_paths=frozenset({"fraud/custom.py"}))
    plan = plan_for(
        b.state(b.desired_model()),
        [b.live_model(b.desired_model(), frozen=True)],
        evidence={model.key: changed},
    )
    assert isinstance(plan.actions[0].params, VersionCreate)
    assert plan.actions[0].params.major is True


def test_runtime_values_changed_and_removed_show_old_and_new_and_reset_to_default():
    model = b.desired_model(runtime={"THRESHOLD": 0.9})
    live = b.live_model(model, runtime={"THRESHOLD": 0.7, "MODE": "fast"})
    plan = plan_for(b.state(model), [live], evidence={model.key: NO_CHANGE})
    (action,) = plan.actions
    assert [(r.field_name, r.old, r.new) for r in action.runtime] == [
        ("MODE", "fast", None),
        ("THRESHOLD", 0.7, 0.9),
    ]
    assert isinstance(action.params, VersionCreate)
    assert action.params.runtime_values == (
        ParameterValue("MODE", "string", None),
        ParameterValue("THRESHOLD", "numeric", 0.9),
    )


def test_normalisation_treats_empty_as_missing_and_enum_case_as_equal():
    model = b.desired_model(
        fields={"name": "Fraud", "targetType": "Regression", "targetName": "y", "description": ""},
        settings={
            "baseEnvironmentId": b.ENV,
            "networkEgressPolicy": "NONE",
            "maximumMemory": 536870912,
        },
    )
    live = b.live_model(
        model,
        fields={
            "name": "Fraud",
            "targetType": "Regression",
            "targetName": "y",
            "description": None,
        },
        settings={
            "baseEnvironmentId": b.ENV,
            "networkEgressPolicy": "none",
            "maximumMemory": 536870912.0,
        },
    )
    assert plan_for(b.state(model), [live], evidence={model.key: NO_CHANGE}).is_empty


def test_a_model_field_change_patches_the_model_only():
    model = b.desired_model(
        fields={"name": "Fraud v2", "targetType": "Regression", "targetName": "y"}
    )
    live = b.live_model(
        model, fields={"name": "Fraud", "targetType": "Regression", "targetName": "y"}
    )
    (action,) = plan_for(b.state(model), [live], evidence={model.key: NO_CHANGE}).actions
    assert action.kind is ActionKind.UPDATE_MODEL
    assert [(c.field, c.old, c.new) for c in action.fields] == [("name", "Fraud", "Fraud v2")]


def test_a_target_type_change_is_blocked_with_what_to_do():
    model = b.desired_model(fields={"name": "Fraud", "targetType": "Binary", "targetName": "y"})
    live = b.live_model(
        model, fields={"name": "Fraud", "targetType": "Regression", "targetName": "y"}
    )
    (action,) = plan_for(b.state(model), [live], evidence={model.key: NO_CHANGE}).actions
    assert action.kind is ActionKind.BLOCKED
    assert "targetType cannot change" in action.reason


def test_an_unknown_recorded_commit_with_equal_content_refreshes_git_metadata_only():
    model = b.desired_model()
    hashes = {f.path: "h" for f in model.version.source.files}
    evidence = ContentEvidence(live_hashes=hashes, desired_hashes=hashes)
    (action,) = plan_for(
        b.state(model), [b.live_model(model)], evidence={model.key: evidence}
    ).actions
    assert action.kind is ActionKind.UPDATE_VERSION_METADATA
    assert action.fields[0].new == b.SHA_NEW
    # ...but a pull-request plan writes nothing for it.
    assert plan_for(
        b.state(model),
        [b.live_model(model)],
        evidence={model.key: evidence},
        refresh_metadata=False,
    ).is_empty


def test_content_comparison_finds_the_changed_file_when_git_cannot():
    model = b.desired_model()
    desired_hashes = {f.path: "h" for f in model.version.source.files}
    live_hashes = dict(desired_hashes, **{"requirements.txt": "other"})
    evidence = ContentEvidence(live_hashes=live_hashes, desired_hashes=desired_hashes)
    (action,) = plan_for(
        b.state(model), [b.live_model(model)], evidence={model.key: evidence}
    ).actions
    assert [f.path for f in action.files] == ["requirements.txt"]
    assert "by content" in action.reason


def test_sharing_grants_changes_and_revocations_but_never_the_controllers_own_access():
    model = b.desired_model(
        sharing=(
            SharingGrant("user", "OWNER", name="alice@example.com"),
            SharingGrant("user", "USER", name="bob@example.com"),
        )
    )
    live = b.live_model(model)
    snapshot = LiveSnapshot(
        models=(live,),
        model_sharing={
            live.id: (
                LiveGrant("user", "gitops-bot@example.com", "OWNER"),
                LiveGrant("user", "alice@example.com", "OWNER"),
                LiveGrant("user", "bob@example.com", "EDITOR"),
                LiveGrant("user", "carol@example.com", "USER"),
            )
        },
        controller_user="gitops-bot@example.com",
    )
    (action,) = plan_for(b.state(model), snapshot=snapshot, evidence={model.key: NO_CHANGE}).actions
    assert action.kind is ActionKind.UPDATE_MODEL_SHARING
    assert [(g.recipient, g.verb, g.new_role) for g in action.sharing] == [
        ("bob@example.com", "change", "USER"),
        ("carol@example.com", "revoke", None),
    ]


def test_prune_deletes_owned_orphans_only_and_reports_deployed_ones():
    kept = b.desired_model("kept")
    gone = b.live_model(b.desired_model("gone"), model_id="m2")
    deployed = b.live_model(b.desired_model("deployed"), model_id="m3", deployments=1)
    foreign = b.live_model(b.desired_model("foreign"), model_id="m4", namespace="someone/else")
    plan = plan_for(
        b.state(kept),
        [b.live_model(kept), gone, deployed, foreign],
        evidence={kept.key: NO_CHANGE},
        prune=True,
    )
    assert [(a.kind, a.target_id) for a in plan.actions] == [
        (ActionKind.BLOCKED, "m3"),
        (ActionKind.DELETE_MODEL, "m2"),
    ]


def test_prune_refuses_to_delete_everything_or_more_than_the_maximum():
    lives = [b.live_model(b.desired_model(f"m{i}"), model_id=f"id{i}") for i in range(3)]
    with pytest.raises(PlanError, match="--allow-empty"):
        plan_for(b.state(), lives, prune=True)
    with pytest.raises(PlanError, match="--max-deletions 2"):
        plan_for(b.state(b.desired_model("keep")), lives, prune=True, max_deletions=2)


def test_a_job_whose_entry_point_and_runtime_value_changed_is_updated():
    job = b.desired_job(entry="main.py", runtime={"DAYS": 7})
    live = b.live_job(job, entry="run.sh")
    (action,) = plan_for(b.state(job), jobs=[live], job_evidence={job.key: NO_CHANGE}).actions
    assert action.kind is ActionKind.UPDATE_JOB
    assert ("entryPoint", "run.sh", "main.py") in [(c.field, c.old, c.new) for c in action.fields]
    assert [(r.field_name, r.new) for r in action.runtime] == [("DAYS", 7)]


def test_a_job_made_by_hand_with_the_same_name_is_not_claimed():
    job = b.desired_job()
    foreign = b.live_job(job, namespace="someone/else")
    plan = plan_for(b.state(job), jobs=[foreign])
    assert plan.actions[0].kind is ActionKind.CREATE_JOB
    assert any("does not own" in w for w in plan.warnings)


def test_two_jobs_claiming_one_manifest_block_it():
    job = b.desired_job()
    plan = plan_for(b.state(job), jobs=[b.live_job(job, job_id="j1"), b.live_job(job, job_id="j2")])
    (action,) = plan.actions
    assert action.kind is ActionKind.BLOCKED
    assert "j1, j2" in action.reason


def test_a_plan_survives_a_json_round_trip_unchanged():
    model = b.desired_model(
        runtime={"THRESHOLD": 0.9}, sharing=(SharingGrant("user", "USER", name="bob@example.com"),)
    )
    plan = plan_for(
        b.state(model, b.desired_job()),
        [b.live_model(model)],
        evidence={model.key: ContentEvidence(changed_repo_paths=frozenset({"fraud/custom.py"}))},
    )
    doc = json.loads(json.dumps(plan_to_json(plan)))
    assert plan_from_json(doc) == plan


def test_plans_are_deterministic():
    models = [b.desired_model(n) for n in ("b", "a", "c")]
    first = plan_for(b.state(*models))
    second = plan_for(b.state(*reversed(models)))
    assert first == second
    assert [a.key.name for a in first.actions] == ["a", "a", "b", "b", "c", "c"]


def test_a_new_object_whose_sharing_would_demote_the_controller_is_not_made_at_all():
    bot = "gitops-bot@example.com"
    model = b.desired_model(
        sharing=(
            SharingGrant("user", "USER", name=bot),
            SharingGrant("user", "OWNER", name="alice@example.com"),
        )
    )
    (action,) = plan_for(b.state(model), snapshot=LiveSnapshot(controller_user=bot)).actions
    assert action.kind is ActionKind.BLOCKED
    assert f"take OWNER away from {bot}" in action.reason


def test_a_job_owned_only_by_a_group_is_blocked_before_any_write():
    from dataclasses import replace

    job = replace(
        b.desired_job(),
        sharing=(
            SharingGrant("user", "USER", name="alice@example.com"),
            SharingGrant("group", "OWNER", name="ml-platform"),
        ),
    )
    (action,) = plan_for(b.state(job)).actions  # the controller's user unknown: no OWNER
    assert action.kind is ActionKind.BLOCKED
    assert "no user with role OWNER" in action.reason


def test_the_controller_declared_by_id_is_recognised_on_a_new_object():
    bot, bot_id = "gitops-bot@example.com", "650000000000000000000001"
    model = b.desired_model(
        sharing=(
            SharingGrant("user", "USER", id=bot_id),
            SharingGrant("user", "OWNER", name="alice@example.com"),
        )
    )
    snapshot = LiveSnapshot(controller_user=bot, controller_user_id=bot_id)
    (action,) = plan_for(b.state(model), snapshot=snapshot).actions
    assert action.kind is ActionKind.BLOCKED
    assert f"take OWNER away from {bot}" in action.reason
