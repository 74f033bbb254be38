"""Usernames: one rule for case in validate, plan, apply and the emulator.

The rule: usernames are compared without regard to case; dr-gitops sends DataRobot's own
spelling when it has read it (someone who has access already) and the lower-case spelling
otherwise, which is how DataRobot (and the emulator) spell usernames. So a manifest's
spelling can never keep plan and apply disagreeing.
"""

from __future__ import annotations

from pathlib import Path

from controller.model.plans import ActionKind
from emulator.cli import main as emulator_main
from tests.fixtures.workspace import Workspace

BOT = "gitops-bot@example.com"


def _model_roles(workspace: Workspace) -> dict[str, str]:
    (model,) = workspace.client.list_models()
    return {g.name: g.role for g in workspace.client.get_model_access(model.id)}


def _job_roles(workspace: Workspace) -> dict[str, str]:
    (job,) = workspace.client.list_jobs()
    return {g.name: g.role for g in workspace.client.get_job_roles(job.id)}


def test_a_new_grant_in_another_case_is_sent_as_datarobot_spells_it(
    workspace: Workspace,
) -> None:
    sharing = [{"username": "Alice@Example.COM", "role": "OWNER"}]
    workspace.add_model("churn", spec={"sharing": sharing})
    workspace.add_job(
        "retrain", spec={"sharing": [{"username": "BOB@example.com", "role": "OWNER"}]}
    )
    workspace.commit()
    assert workspace.cli("validate", str(workspace.repo.path)).code == 0
    workspace.converge()  # applied, and the next plan is empty
    assert _model_roles(workspace) == {BOT: "OWNER", "alice@example.com": "OWNER"}
    assert _job_roles(workspace) == {BOT: "OWNER", "bob@example.com": "OWNER"}

    # Once granted, the same users in yet another spelling are the same users.
    workspace.edit_manifest(
        "models/churn.yaml", sharing=[{"username": "ALICE@example.com", "role": "OWNER"}]
    )
    workspace.commit("respell")
    assert workspace.plan().plan.is_empty


def test_a_role_change_is_sent_with_the_spelling_datarobot_shows(workspace: Workspace) -> None:
    workspace.add_model(
        "churn", spec={"sharing": [{"username": "alice@example.com", "role": "OWNER"}]}
    )
    workspace.commit()
    workspace.converge()
    sharing = [
        {"username": BOT.upper(), "role": "OWNER"},
        {"username": "Alice@Example.com", "role": "USER"},
    ]
    workspace.edit_manifest("models/churn.yaml", sharing=sharing)
    workspace.commit("alice steps back")
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.UPDATE_MODEL_SHARING
    assert [(g.recipient, g.verb) for g in action.sharing] == [("alice@example.com", "change")]
    workspace.converge()
    assert _model_roles(workspace) == {BOT: "OWNER", "alice@example.com": "USER"}


def test_the_emulator_refuses_a_seeded_username_with_capitals(tmp_path: Path, capsys) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text('users: [{id: "650000000000000000000009", username: Dan@Example.com}]\n')
    assert emulator_main(["--seed-file", str(seed), "--port", "0"]) == 1
    assert "users[0].username must be lower case" in capsys.readouterr().err
