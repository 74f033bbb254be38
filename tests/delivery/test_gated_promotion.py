"""With quality gates (issue 17): a commit whose test fails registers nothing and replaces
nothing, and the run exits 1; the next commit that passes moves staging on."""

from __future__ import annotations

from controller.model.plans import ActionKind
from tests.delivery.helpers import add_deployment, served
from tests.fixtures.workspace import Workspace
from tests.reconcile.test_gates import _fail_break_me, _gated


def test_a_commit_whose_test_fails_registers_nothing_and_replaces_nothing(
    workspace: Workspace,
) -> None:
    workspace.emulator.configure(dependencyBuildMs=50, modelTestMs=50, trainingDataMs=50)
    _fail_break_me(workspace)
    workspace.add_model("fraud", spec={"registry": {"name": "Fraud detector"}}, version=_gated())
    add_deployment(workspace, "fraud-staging", version="latest")
    add_deployment(workspace, "fraud-prod", version="1.0")
    workspace.commit("a tested model and two deployments")
    workspace.converge()
    assert served(workspace) == {"fraud-staging": "1.0", "fraud-prod": "1.0"}

    workspace.repo.write({"models/fraud/custom.py": "# break-me\n"})
    workspace.commit("a model whose test fails")
    result = workspace.apply()

    assert not result.ok
    outcomes = {r.action.kind: r.outcome.value for r in result.results}
    assert outcomes[ActionKind.TEST_VERSION] == "failed"
    assert outcomes[ActionKind.REGISTER_VERSION] == "skipped"
    assert outcomes[ActionKind.REPLACE_DEPLOYMENT_MODEL] == "failed"
    assert len(workspace.client.list_packages()) == 1
    assert served(workspace) == {"fraud-staging": "1.0", "fraud-prod": "1.0"}
    cli = workspace.cli("apply", "--repo", str(workspace.repo.path), "--auto-approve")
    assert cli.code == 1
