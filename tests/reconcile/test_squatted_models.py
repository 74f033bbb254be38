"""A model under this namespace's userProvidedId made by another DataRobot user (issue 15):
alice (``alice-token``, seeded) makes it and shares it with the controller as OWNER, hoping
apply uploads the repository's source into a model she can read."""

from __future__ import annotations

from typing import Any

from controller.model.identity import model_upid
from controller.model.plans import ActionKind
from tests.fixtures.emulator import EmulatorApi
from tests.fixtures.workspace import NAMESPACE, Workspace

ALICE_TOKEN = "alice-token"  # the emulator's seeded second user


def _squat(workspace: Workspace, name: str) -> dict[str, Any]:
    alice = EmulatorApi(workspace.emulator, ALICE_TOKEN)
    model = alice.create_model(name=name, userProvidedId=model_upid(NAMESPACE, name))
    shared = alice.patch(
        f"customModels/{model['id']}/accessControl/",
        json={"data": [{"username": "gitops-bot@example.com", "role": "OWNER"}]},
    )
    assert shared.status_code == 204, shared.text
    return model


def test_a_squatted_model_is_blocked_naming_its_creator_and_nothing_is_written(
    workspace: Workspace,
) -> None:
    squat = _squat(workspace, "churn")
    workspace.add_model("churn")
    workspace.commit()

    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.BLOCKED
    assert action.target_id == squat["id"]
    assert "created by 'alice@example.com'" in action.reason
    assert "--trusted-creator alice@example.com" in action.reason

    shown = workspace.cli("plan", "--repo", str(workspace.repo.path))
    assert shown.code == 1
    assert "alice@example.com" in shown.out
    writes = workspace.writes()
    applied = workspace.cli("apply", "--repo", str(workspace.repo.path), "--lock", "none")
    assert applied.code == 1
    assert workspace.writes() == writes
    versions = EmulatorApi(workspace.emulator).get(f"customModels/{squat['id']}/versions/")
    assert versions.json()["count"] == 0  # the source never reached alice's model


def test_a_trusted_creators_model_is_the_controllers(workspace: Workspace) -> None:
    squat = _squat(workspace, "churn")
    workspace.add_model("churn")
    workspace.commit()
    actions = workspace.plan(trusted_creators=("alice@example.com",)).plan.actions
    assert ActionKind.BLOCKED not in {a.kind for a in actions}
    assert {a.target_id for a in actions} == {squat["id"]}
    trusted = {"DR_GITOPS_TRUSTED_CREATORS": "x, alice@example.com"}
    listed = workspace.cli("plan", "--repo", str(workspace.repo.path), env=trusted)
    assert listed.code == 0, listed.err


def test_prune_never_deletes_a_model_another_user_made_under_our_user_provided_id(
    workspace: Workspace,
) -> None:
    squat = _squat(workspace, "gone")
    workspace.add_model("churn")
    workspace.commit()
    actions = workspace.plan(prune=True).plan.actions
    blocked = [a for a in actions if a.kind is ActionKind.BLOCKED]
    assert [a.target_id for a in blocked] == [squat["id"]]
    assert "alice@example.com" in blocked[0].reason
    assert not [a for a in actions if a.kind.is_deletion]
