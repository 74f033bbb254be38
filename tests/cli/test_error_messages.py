"""An error names things DataRobot holds (other namespaces, lock models, creators): their
control characters are shown escaped, never sent to the terminal or the CI log."""

from __future__ import annotations

from controller.model.identity import Stamp
from tests.fixtures.emulator import EmulatorApi
from tests.fixtures.workspace import Workspace

# Clears the screen, turns the text red and rings the bell (a stamp holds no "]").
HOSTILE = "evil\x1b[2J\x1b[31m\x07ns"


def test_a_namespace_read_from_datarobot_is_printed_with_its_control_characters_escaped(
    workspace: Workspace,
) -> None:
    repo = str(workspace.repo.path)
    workspace.repo.git("remote", "add", "origin", "https://github.com/acme/ml-models.git")
    workspace.add_model("churn")
    workspace.commit()
    # A model stamped with another namespace, made with the controller's own token, blocks
    # a derived namespace, and the error names that namespace as DataRobot has it.
    EmulatorApi(workspace.emulator).create_model(
        name="churn", description=Stamp(HOSTILE, "churn").render()
    )

    blocked = workspace.cli("plan", "--repo", repo, env={"DR_GITOPS_NAMESPACE": ""})

    assert blocked.code == 1, blocked.out
    assert "under another namespace" in blocked.err
    assert "\x1b" not in blocked.err
    assert "\x07" not in blocked.err
    assert "evil\\x1b[2J\\x1b[31m\\x07ns" in blocked.err
    assert blocked.err.startswith("error: ")
