"""From version to production: a model with a registry, staging on ``latest`` and
production pinned; promotion is a pull request that moves the pin (issue 18)."""

from __future__ import annotations

from controller.engine.descriptions import headline
from controller.engine.render import render_markdown
from controller.model.deliveryparams import ModelReplacement
from controller.model.plans import ActionKind
from tests.delivery.helpers import edit_deployment, served, start
from tests.fixtures.workspace import Workspace


def test_first_apply_registers_version_one_and_deploys_it_twice(workspace: Workspace) -> None:
    start(workspace)

    workspace.converge()

    (registered,) = workspace.client.list_registered_models()
    assert (registered.name, registered.last_version) == ("Fraud detector", 1)
    assert served(workspace) == {"fraud-staging": "1.0", "fraud-prod": "1.0"}
    upids = sorted(str(d.user_provided_id) for d in workspace.client.list_deployments())
    assert upids == ["test/workspace/fraud-prod", "test/workspace/fraud-staging"]


def test_a_source_commit_moves_staging_only_and_a_pull_request_promotes_production(
    workspace: Workspace,
) -> None:
    start(workspace)
    workspace.converge()
    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    workspace.commit("a better model")

    plan = workspace.plan().plan
    assert [(a.kind, str(a.key)) for a in plan.actions] == [
        (ActionKind.CREATE_VERSION, "CustomModel/fraud"),
        (ActionKind.REGISTER_VERSION, "CustomModel/fraud"),
        (ActionKind.REPLACE_DEPLOYMENT_MODEL, "Deployment/fraud-staging"),
    ]
    workspace.converge()

    (registered,) = workspace.client.list_registered_models()
    assert registered.last_version == 2
    assert served(workspace) == {"fraud-staging": "2.0", "fraud-prod": "1.0"}

    edit_deployment(workspace, "fraud-prod", version="2.0")
    workspace.commit("promote 2.0 to production")
    planned = workspace.plan()
    (replace,) = planned.plan.actions
    assert replace.kind is ActionKind.REPLACE_DEPLOYMENT_MODEL
    assert "version: 2.0 asks for 2.0 (reason SCHEDULED_REFRESH" in replace.reason
    assert "1.0 → 2.0 (reason SCHEDULED_REFRESH" in headline(replace)
    assert isinstance(replace.params, ModelReplacement)
    assert replace.params.validation is not None
    assert replace.params.validation.status in ("passing", "warning")
    markdown = "".join(render_markdown(planned.plan))
    assert "1 production change(s)" in markdown

    workspace.converge()

    assert served(workspace) == {"fraud-staging": "2.0", "fraud-prod": "2.0"}
    assert len(workspace.client.list_packages()) == 2
