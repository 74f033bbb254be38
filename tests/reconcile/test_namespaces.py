"""The namespace cannot drift: the repository settings file pins it, a pull request that
changes it says so first, and a namespace nobody chose never duplicates another's objects."""

from __future__ import annotations

import json
from pathlib import Path

from controller.model.identity import Stamp
from controller.settings import GitSettings
from controller.sources import open_source
from tests.fixtures.emulator import EmulatorApi
from tests.fixtures.workspace import Workspace

OLD = "github.com/acme/ml-models"
UNSET = {"DR_GITOPS_NAMESPACE": ""}  # the namespace comes from the remote or the file


def _remote(workspace: Workspace, url: str) -> None:
    remotes = workspace.repo.git("remote").split()
    verb = "set-url" if "origin" in remotes else "add"
    workspace.repo.git("remote", verb, "origin", url)


def test_a_new_remote_url_blocks_plan_and_apply_until_the_namespace_is_pinned(
    workspace: Workspace,
) -> None:
    repo = str(workspace.repo.path)
    _remote(workspace, "https://github.com/acme/ml-models.git")
    workspace.add_model("churn")
    workspace.add_job("retrain")
    workspace.commit()
    first = workspace.cli("apply", "--repo", repo, env=UNSET)
    assert first.code == 0, first.err
    assert f"namespace {OLD}" in first.out

    _remote(workspace, "https://github.com/acme/other.git")
    writes = workspace.writes()
    for command in ("plan", "apply"):
        blocked = workspace.cli(command, "--repo", repo, env=UNSET)
        assert blocked.code == 1, (command, blocked.out)
        assert "Traceback" not in blocked.err
        assert f"under another namespace, {OLD!r}" in blocked.err, command
        assert "CustomModel/churn" in blocked.err
        assert "CustomJob/retrain" in blocked.err
        assert "'github.com/acme/other' (derived from the git remote" in blocked.err
        assert f"add `namespace: {OLD}` to .dr-gitops.yaml" in blocked.err
        assert "--namespace" in blocked.err
        assert "Nothing was written" in blocked.err
        assert "create model" not in blocked.out
    assert workspace.writes() == writes

    workspace.repo.write({".dr-gitops.yaml": f"namespace: {OLD}\n"})
    workspace.commit("pin the namespace")
    pinned = workspace.cli("plan", "--repo", repo, "--detailed-exitcode", env=UNSET)
    assert pinned.code == 0, pinned.out + pinned.err
    assert f"dr-gitops plan for namespace {OLD}" in pinned.out
    assert "No changes." in pinned.out
    assert workspace.writes() == writes


def test_another_users_model_under_another_namespace_does_not_block_a_derived_one(
    workspace: Workspace,
) -> None:
    # alice (a second DataRobot user) stamps a model with a namespace of her choosing and
    # shares it with the controller: that must not block the repository, nor make dr-gitops
    # advise pinning her namespace, unless she is a --trusted-creator.
    repo = str(workspace.repo.path)
    _remote(workspace, "https://github.com/acme/ml-models.git")
    workspace.add_model("churn")
    workspace.commit()
    alice = EmulatorApi(workspace.emulator, "alice-token")
    description = Stamp("github.com/alice/trap", "churn").render()
    squat = alice.create_model(name="churn", description=description)
    shared = alice.patch(
        f"customModels/{squat['id']}/accessControl/",
        json={"data": [{"username": "gitops-bot@example.com", "role": "OWNER"}]},
    )
    assert shared.status_code == 204, shared.text

    planned = workspace.cli("plan", "--repo", repo, env=UNSET)
    assert planned.code == 0, planned.err
    assert "alice/trap" not in planned.out + planned.err
    assert "Plan: 1 to create" in planned.out

    trusted = {**UNSET, "DR_GITOPS_TRUSTED_CREATORS": "alice@example.com"}
    blocked = workspace.cli("plan", "--repo", repo, env=trusted)
    assert blocked.code == 1
    assert "under another namespace, 'github.com/alice/trap'" in blocked.err


def test_choosing_the_new_namespace_explicitly_plans_new_objects_and_says_why(
    workspace: Workspace,
) -> None:
    repo = str(workspace.repo.path)
    _remote(workspace, "https://github.com/acme/ml-models.git")
    workspace.add_model("churn")
    workspace.commit()
    assert workspace.cli("apply", "--repo", repo, env=UNSET).code == 0
    _remote(workspace, "https://github.com/acme/other.git")
    workspace.repo.write({".dr-gitops.yaml": "namespace: github.com/acme/other\n"})
    workspace.commit("a new namespace, on purpose")

    planned = workspace.cli("plan", "--repo", repo, env=UNSET)

    assert planned.code == 0, planned.err
    lines = planned.out.splitlines()
    assert lines[0].startswith("dr-gitops plan for namespace github.com/acme/other")
    assert lines[2].startswith(f"warning: namespace {OLD!r} holds objects with the names")
    assert "(.dr-gitops.yaml)" in lines[2]
    assert "Plan: 1 to create" in planned.out


def test_a_pull_request_that_changes_the_namespace_says_so_at_the_top_of_its_plan(
    workspace: Workspace,
) -> None:
    repo = str(workspace.repo.path)
    workspace.add_model("churn")
    workspace.repo.write({".dr-gitops.yaml": "namespace: team/one\n"})
    base = workspace.commit()
    workspace.repo.write({".dr-gitops.yaml": "namespace: team/two\n"})
    head = workspace.commit("move to another namespace")
    merge_request = {
        **UNSET,
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": head,
        "CI_COMMIT_REF_NAME": "move",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
    }

    text = workspace.cli("plan", "--repo", repo, env=merge_request)
    markdown = workspace.cli("plan", "--repo", repo, "--output", "markdown", env=merge_request)
    as_json = workspace.cli("plan", "--repo", repo, "--output", "json", env=merge_request)

    assert text.code == 0, text.err
    said = (
        f"this pull request changes the namespace from 'team/one' (at its base {base[:12]}) "
        "to 'team/two' (.dr-gitops.yaml)"
    )
    assert text.out.splitlines()[2].startswith(f"warning: {said}")
    assert said in markdown.out.split("<details>")[0]
    assert json.loads(as_json.out)["warnings"][0].startswith(said)
    # The same change outside a pull request is just the namespace in use.
    plain = workspace.cli("plan", "--repo", repo, env=UNSET)
    assert "changes the namespace" not in plain.out
    assert "dr-gitops plan for namespace team/two" in plain.out


def test_flags_and_environment_win_over_the_settings_file(workspace: Workspace) -> None:
    repo = str(workspace.repo.path)
    workspace.add_model("churn")
    workspace.repo.write({".dr-gitops.yaml": "namespace: team/file\n"})
    workspace.commit()

    from_file = workspace.cli("plan", "--repo", repo, env=UNSET)
    from_env = workspace.cli("plan", "--repo", repo, env={"DR_GITOPS_NAMESPACE": "team/env"})
    from_flag = workspace.cli(
        "plan", "--repo", repo, "--namespace", "team/flag", env={"DR_GITOPS_NAMESPACE": "x/y"}
    )

    assert "dr-gitops plan for namespace team/file " in from_file.out
    assert "dr-gitops plan for namespace team/env " in from_env.out
    assert "dr-gitops plan for namespace team/flag " in from_flag.out


def test_the_settings_file_under_path_sets_the_commit_link_and_excludes(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.add_model(
        "churn", files={"tests/test_score.py": "def test(): pass\n", "notes.ipynb": "{}\n"}
    )
    workspace.repo.write(
        {
            "models/.dr-gitops.yaml": (
                "commitUrlTemplate: https://git.example.com/ml/commit/{sha}\n"
                "exclude: ['tests/', '*.ipynb']\n"
            )
        }
    )
    sha = workspace.commit()
    settings = workspace.git_settings(namespace=None)
    with open_source(settings, environ={}, manifests_path="models") as source:
        assert source.repository.file == "models/.dr-gitops.yaml"
        assert (
            source.git_model_version(None).commit_url == f"https://git.example.com/ml/commit/{sha}"
        )
    applied = workspace.cli("apply", "--repo", str(workspace.repo.path), "--path", "models")
    assert applied.code == 0, applied.err

    (model,) = workspace.client.list_models()
    assert model.latest_version is not None
    assert model.latest_version.git is not None
    assert model.latest_version.git.commit_url == f"https://git.example.com/ml/commit/{sha}"
    paths = {item.file_path for item in model.latest_version.items}
    assert paths == {"custom.py", "model-metadata.yaml", "requirements.txt"}
    # Without --path the file is not at the manifest root, so it does not apply.
    with open_source(GitSettings(**{**settings.__dict__}), environ={}, manifests_path="") as source:
        assert source.repository.file == ""


def test_a_settings_file_may_not_send_anything_elsewhere(workspace: Workspace) -> None:
    repo = str(workspace.repo.path)
    workspace.add_model("churn")
    workspace.repo.write({".dr-gitops.yaml": "endpoint: https://collector.example.com/api/v2\n"})
    workspace.commit()

    said = "'endpoint' cannot be set in the repository settings file"
    for command, where in (
        (["plan", "--repo", repo], ".dr-gitops.yaml: "),  # an error on stderr
        (["validate", repo], ".dr-gitops.yaml: endpoint: "),  # a problem, with the others
    ):
        refused = workspace.cli(*command)
        assert refused.code == 1, command
        assert where + said in refused.out + refused.err
        assert "Traceback" not in refused.err
    assert workspace.writes() == 0
