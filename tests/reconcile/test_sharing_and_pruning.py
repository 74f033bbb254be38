"""Sharing is authoritative when declared; pruning deletes only what is owned, with guards."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from controller.errors import PlanError
from controller.model.plans import ActionKind
from tests.fixtures.workspace import Workspace

BOT = "gitops-bot@example.com"


def _roles(workspace: Workspace) -> dict[str, str]:
    (model,) = workspace.client.list_models()
    return {g.name: g.role for g in workspace.client.get_model_access(model.id)}


def test_users_are_added_changed_and_removed_in_batches_and_the_bot_kept(
    workspace: Workspace,
) -> None:
    sharing = [
        {"username": "alice@example.com", "role": "OWNER"},
        {"username": "bob@example.com", "role": "USER"},
    ]
    workspace.add_model("churn", spec={"sharing": sharing})
    workspace.commit()
    workspace.converge()
    assert _roles(workspace) == {
        BOT: "OWNER",
        "alice@example.com": "OWNER",
        "bob@example.com": "USER",
    }

    sharing = [
        {"username": "alice@example.com", "role": "OWNER"},
        {"username": "carol@example.com", "role": "EDITOR"},
    ]
    workspace.edit_manifest("models/churn.yaml", sharing=sharing)
    workspace.commit("bob out, carol in")
    (action,) = workspace.plan().plan.actions
    assert [(g.recipient, g.verb) for g in action.sharing] == [
        ("bob@example.com", "revoke"),
        ("carol@example.com", "grant"),
    ]
    workspace.converge()
    assert _roles(workspace) == {
        BOT: "OWNER",
        "alice@example.com": "OWNER",
        "carol@example.com": "EDITOR",
    }


def test_a_declared_list_without_an_owner_is_refused_before_any_write(workspace: Workspace) -> None:
    workspace.add_model(
        "churn", spec={"sharing": [{"username": "alice@example.com", "role": "OWNER"}]}
    )
    workspace.commit()
    workspace.converge()
    workspace.edit_manifest(
        "models/churn.yaml", sharing=[{"username": "alice@example.com", "role": "USER"}]
    )
    workspace.commit("no owner")
    writes = workspace.writes()
    result = workspace.cli("apply", "--repo", str(workspace.repo.path))
    assert result.code == 1
    assert "names no OWNER" in result.err
    assert workspace.writes() == writes
    assert _roles(workspace)["alice@example.com"] == "OWNER"


def test_taking_owner_away_from_the_controller_is_blocked(workspace: Workspace) -> None:
    workspace.add_model(
        "churn", spec={"sharing": [{"username": "alice@example.com", "role": "OWNER"}]}
    )
    workspace.commit()
    workspace.converge()
    sharing = [
        {"username": "alice@example.com", "role": "OWNER"},
        {"username": BOT, "role": "USER"},
    ]
    workspace.edit_manifest("models/churn.yaml", sharing=sharing)
    workspace.commit("demote the bot")
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.BLOCKED
    assert BOT in action.reason
    writes = workspace.writes()
    assert not workspace.apply().ok
    assert workspace.writes() == writes
    assert _roles(workspace)[BOT] == "OWNER"


def test_an_unknown_user_is_a_clear_error_naming_the_user(workspace: Workspace) -> None:
    sharing = [
        {"username": "alice@example.com", "role": "OWNER"},
        {"username": "nobody@example.com", "role": "USER"},
    ]
    workspace.add_model("churn", spec={"sharing": sharing})
    workspace.commit()
    result = workspace.apply()
    (failure,) = result.failures
    assert "nobody@example.com" in failure.message
    # From the command line, the failure sends the user to the manifest that declares it.
    cli = workspace.cli("apply", "--repo", str(workspace.repo.path))
    assert cli.code == 1
    assert "nobody@example.com" in cli.out
    assert "(declared at models/churn.yaml:1)" in cli.out


def test_job_sharing_with_a_user_a_group_and_the_organization(workspace: Workspace) -> None:
    sharing = [
        {"username": "alice@example.com", "role": "OWNER"},
        {"shareRecipientType": "group", "name": "ml-platform", "role": "USER"},
        {
            "shareRecipientType": "organization",
            "id": "6500000000000000000000f1",
            "role": "OBSERVER",
        },
    ]
    workspace.add_job("retrain", spec={"sharing": sharing})
    workspace.commit()
    workspace.converge()
    (job,) = workspace.client.list_jobs()
    roles = {(g.recipient_type, g.name): g.role for g in workspace.client.get_job_roles(job.id)}
    assert roles[("group", "ml-platform")] == "USER"
    assert roles[("user", "alice@example.com")] == "OWNER"
    assert any(t == "organization" for t, _ in roles)


def test_prune_deletes_owned_objects_whose_manifests_are_gone_and_nothing_else(
    workspace: Workspace,
) -> None:
    workspace.add_model("keep")
    workspace.add_model("gone")
    workspace.add_job("old-job")
    workspace.commit()
    workspace.converge()
    hand = workspace.client.create_model(
        {"name": "Made by hand", "targetType": "Regression", "targetName": "y"}
    )
    shutil.rmtree(workspace.repo.path / "models/gone")
    (workspace.repo.path / "models/gone.yaml").unlink()
    shutil.rmtree(workspace.repo.path / "jobs")
    workspace.commit("drop two")

    unpruned = workspace.plan().plan
    assert unpruned.is_empty  # without --prune nothing is deleted, but it is said
    (warning,) = [w for w in unpruned.warnings if "no manifest any more" in w]
    assert "CustomJob/old-job" in warning  # read although no job manifest is left
    assert "CustomModel/gone" in warning
    planned = workspace.plan(prune=True)
    assert [(a.kind, str(a.key)) for a in planned.plan.actions] == [
        (ActionKind.DELETE_MODEL, "CustomModel/gone"),
        (ActionKind.DELETE_JOB, "CustomJob/old-job"),
    ]
    workspace.converge(prune=True)
    names = {m.name for m in workspace.client.list_models()}
    assert names == {"Keep", hand.name}
    assert workspace.client.list_jobs() == []


def test_prune_guards_refuse_and_say_why(workspace: Workspace) -> None:
    for name in ("a", "b", "c"):
        workspace.add_model(f"model-{name}")
    workspace.commit()
    workspace.converge()
    for name in ("a", "b", "c"):
        shutil.rmtree(workspace.repo.path / f"models/model-{name}")
        (workspace.repo.path / f"models/model-{name}.yaml").unlink()
    workspace.repo.write({"README.md": "nothing here\n"})
    workspace.commit("everything gone")
    with pytest.raises(PlanError, match="--allow-empty"):
        workspace.plan(prune=True)
    with pytest.raises(PlanError, match="--max-deletions 2"):
        workspace.plan(prune=True, allow_empty=True, max_deletions=2)
    assert len(workspace.plan(prune=True, allow_empty=True).plan.actions) == 3


def test_pruning_a_sub_folder_never_deletes_what_the_rest_of_the_repository_declares(
    workspace: Workspace,
) -> None:
    workspace.add_model("scorer")
    workspace.add_model("retired")
    workspace.add_job("nightly")
    workspace.commit()
    for namespace in (None, "team/models"):  # derived from the repository, or set to it
        git = {"namespace": namespace}
        workspace.converge(git=git)
        shutil.rmtree(workspace.repo.path / "models/retired")
        (workspace.repo.path / "models/retired.yaml").unlink()
        workspace.commit("retired")
        # The job is declared outside models/: pruning models/ must leave it alone.
        actions = workspace.plan(git=git, path="models", prune=True).plan.actions
        assert [(a.kind, str(a.key)) for a in actions] == [
            (ActionKind.DELETE_MODEL, "CustomModel/retired")
        ]
        assert workspace.apply(git=git, path="models", prune=True).ok
        assert {j.name for j in workspace.client.list_jobs()} == {"Nightly"}
        workspace.add_model("retired")
        workspace.commit("back")


def test_prune_refuses_when_any_manifest_is_invalid(workspace: Workspace) -> None:
    workspace.add_model("keep")
    workspace.add_model("other")
    workspace.commit()
    workspace.converge()
    (workspace.repo.path / "models/other.yaml").write_text(
        "apiVersion: dr-gitops/v1\nkind: CustomModel\nmetadata: {name: other}\nspec: {targetType: Nope}\n"
    )
    workspace.commit("broken manifest")
    writes = workspace.writes()
    result = workspace.cli("apply", "--repo", str(workspace.repo.path), "--prune")
    assert result.code == 1
    assert "models/other.yaml" in result.err
    assert workspace.writes() == writes


def test_a_deployed_model_is_reported_not_deleted(workspace: Workspace) -> None:
    workspace.add_model("deployed")
    workspace.add_model("keep")
    workspace.commit()
    workspace.converge()
    model = next(m for m in workspace.client.list_models() if m.name == "Deployed")
    _deploy(workspace, model.id)
    shutil.rmtree(workspace.repo.path / "models/deployed")
    (workspace.repo.path / "models/deployed.yaml").unlink()
    workspace.commit()
    (action,) = workspace.plan(prune=True).plan.actions
    assert action.kind is ActionKind.BLOCKED
    assert "deployed" in action.reason


def _deploy(workspace: Workspace, model_id: str) -> None:
    import requests

    response = requests.post(
        f"{workspace.emulator.url}/__emulator__/customModels/{model_id}/deploy", timeout=10
    )
    assert response.ok, response.text


def test_a_model_made_by_hand_is_adopted_by_name(workspace: Workspace) -> None:
    hand = workspace.client.create_model(
        {"name": "Churn", "targetType": "Regression", "targetName": "y"}
    )
    workspace.add_model("churn")
    path = Path(workspace.repo.path / "models/churn.yaml")
    path.write_text(path.read_text().replace("  name: churn\n", "  name: churn\n  adopt: true\n"))
    workspace.commit()
    kinds = [a.kind for a in workspace.plan().plan.actions]
    assert kinds == [ActionKind.ADOPT_MODEL, ActionKind.CREATE_VERSION]
    workspace.converge()
    (model,) = workspace.client.list_models()
    assert model.id == hand.id


def test_the_example_repository_converges_and_replans_empty(workspace: Workspace) -> None:
    example = Path(__file__).parents[2] / "manifests-example"
    shutil.copytree(example, workspace.repo.path, dirs_exist_ok=True)
    workspace.commit("the example")
    workspace.converge()
    assert len(workspace.client.list_models()) == 3
    assert len(workspace.client.list_jobs()) == 2


def _adopting(workspace: Workspace, path: str, name: str) -> None:
    target = workspace.repo.path / path
    target.write_text(
        target.read_text().replace(f"  name: {name}\n", f"  name: {name}\n  adopt: true\n", 1)
    )


def test_objects_another_namespace_manages_are_never_adopted_nor_pruned(
    workspace: Workspace,
) -> None:
    other = {"namespace": "other/repo"}
    workspace.add_model("house")
    workspace.add_job("alert")
    workspace.commit("the other repository's objects")
    assert workspace.apply(git=other).ok
    for kind in ("models", "jobs"):
        shutil.rmtree(workspace.repo.path / kind)
    # This namespace asks to adopt them by name: refused, they are someone else's.
    workspace.add_model("house")
    workspace.add_job("alert")
    _adopting(workspace, "models/house.yaml", "house")
    _adopting(workspace, "jobs/alert.yaml", "alert")
    workspace.commit("adopt what another namespace manages")
    actions = workspace.plan().plan.actions
    assert [a.kind for a in actions] == [ActionKind.BLOCKED, ActionKind.BLOCKED]
    assert all("another dr-gitops namespace manages it" in a.reason for a in actions)
    writes = workspace.writes()
    assert not workspace.apply().ok
    assert workspace.writes() == writes
    # And a description written to look like that namespace's stamp is refused at load.
    workspace.edit_manifest("models/house.yaml", description="x [dr-gitops ns=other/repo name=y]")
    workspace.commit("forged stamp")
    result = workspace.cli("plan", "--repo", str(workspace.repo.path))
    assert result.code == 1
    assert "keeps for the ownership stamp" in result.err


def test_prune_never_deletes_an_object_whose_claim_is_ambiguous(workspace: Workspace) -> None:
    workspace.add_job("alert")
    workspace.add_model("keep")
    workspace.commit()
    workspace.converge()
    (job,) = workspace.client.list_jobs()
    copy = workspace.client.create_job(  # a copy made by hand that kept the description
        {"name": "My copy", "jobType": "default", "description": job.fields["description"]}
    )
    shutil.rmtree(workspace.repo.path / "jobs")
    workspace.commit("alert retired")
    actions = workspace.plan(prune=True).plan.actions
    assert {(a.kind, a.target_id) for a in actions} == {
        (ActionKind.BLOCKED, job.id),
        (ActionKind.BLOCKED, copy.id),
    }
    assert all("several objects claim alert" in a.reason for a in actions)


def test_a_server_without_custom_jobs_still_plans_models(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.commit()
    refused = {"method": "GET", "route": "/api/v2/customJobs/", "status": 404, "times": 3}
    workspace.emulator.set_faults({"script": [refused]})
    assert workspace.plan().plan.actions[0].kind is ActionKind.CREATE_MODEL
    assert workspace.plan(prune=True).plan.actions[0].kind is ActionKind.CREATE_MODEL
    workspace.add_job("nightly")
    workspace.commit("a job after all")
    with pytest.raises(PlanError, match="custom jobs are not enabled for this token"):
        workspace.plan()


def test_an_adopted_model_with_another_s_user_provided_id_is_never_pruned(
    workspace: Workspace,
) -> None:
    made_elsewhere = workspace.client.create_model(
        {"name": "Third", "targetType": "Regression", "targetName": "y",
         "userProvidedId": "github.com/third/y/third"}
    )  # fmt: skip
    workspace.add_model("third")
    workspace.add_model("keep")
    _adopting(workspace, "models/third.yaml", "third")
    workspace.commit()
    workspace.converge()
    shutil.rmtree(workspace.repo.path / "models/third")
    (workspace.repo.path / "models/third.yaml").unlink()
    workspace.commit("third retired")
    (action,) = workspace.plan(prune=True).plan.actions
    assert action.kind is ActionKind.BLOCKED
    assert "prune never deletes it" in action.reason
    assert made_elsewhere.id in {m.id for m in workspace.client.list_models()}
