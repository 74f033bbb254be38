"""`plan --out FILE` then `apply FILE`: exactly that plan, or a refusal when it is stale."""

from __future__ import annotations

import json

import jsonschema

from tests.engine.test_rendering import SCHEMA
from tests.fixtures.workspace import Workspace


def test_a_saved_plan_is_applied_exactly_and_then_nothing_is_left(
    workspace: Workspace, tmp_path
) -> None:
    workspace.add_model("churn", version={"runtimeParameters": {"THRESHOLD": 0.3}})
    workspace.add_job("retrain")
    workspace.commit()
    plan_file = tmp_path / "plan.json"

    planned = workspace.cli("plan", "--repo", str(workspace.repo.path), "--out", str(plan_file))
    assert planned.code == 0, planned.err
    jsonschema.validate(json.loads(plan_file.read_text()), SCHEMA)
    assert workspace.writes() == 0

    applied = workspace.cli("apply", str(plan_file), "--repo", str(workspace.repo.path))
    assert applied.code == 0, applied.err
    assert "Apply complete" in applied.out
    assert workspace.plan().plan.is_empty


def test_a_saved_plan_stamps_what_it_says_not_the_commit_sha_as_the_ref(
    workspace: Workspace, tmp_path
) -> None:
    workspace.add_model("churn")
    sha = workspace.commit()
    plan_file = tmp_path / "plan.json"
    repo = str(workspace.repo.path)
    assert workspace.cli("plan", "--repo", repo, "--out", str(plan_file)).code == 0
    saved = json.loads(plan_file.read_text())["revision"]
    assert saved["refName"] == "main"
    assert saved["mainBranchCommitSha"] == sha

    applied = workspace.cli("apply", str(plan_file), "--repo", repo)
    assert applied.code == 0, applied.err
    assert f"at {sha[:12]} (main)" in applied.out
    (model,) = workspace.client.list_models()
    assert model.latest_version is not None
    for recorded in (model.git, model.latest_version.git):
        assert recorded is not None
        assert recorded.ref_name == "main"
        assert recorded.main_branch_commit_sha == sha
        assert recorded.pull_request_commit_sha is None
        assert recorded.commit_url == saved["commitUrl"]


def test_a_saved_plans_commit_link_is_rebuilt_and_a_bad_ref_name_refused(
    workspace: Workspace, tmp_path
) -> None:
    # Only the SHAs are compared with the checkout: the rest of `revision` must not carry
    # whatever a hand-edited file says into gitModelVersion.
    workspace.add_model("churn")
    workspace.commit()
    plan_file = tmp_path / "plan.json"
    repo = str(workspace.repo.path)
    assert workspace.cli("plan", "--repo", repo, "--out", str(plan_file)).code == 0
    honest = json.loads(plan_file.read_text())
    writes = workspace.writes()
    for ref in ("main\x1b]8;;https://evil.example\x07", "a..b", "x y"):
        edited = {**honest, "revision": {**honest["revision"], "refName": ref}}
        plan_file.write_text(json.dumps(edited))
        refused = workspace.cli("apply", str(plan_file), "--repo", repo)
        assert refused.code == 1, ref
        assert "is not a git ref name" in refused.err
        assert workspace.writes() == writes

    phishing = {"commitUrl": "https://evil.example/login", "refName": "release/1.2"}
    edited = {**honest, "revision": {**honest["revision"], **phishing}}
    plan_file.write_text(json.dumps(edited))
    applied = workspace.cli("apply", str(plan_file), "--repo", repo)
    assert applied.code == 0, applied.err
    (model,) = workspace.client.list_models()
    assert model.latest_version is not None
    for recorded in (model.git, model.latest_version.git):
        assert recorded is not None
        assert recorded.commit_url == honest["revision"]["commitUrl"]
        assert recorded.ref_name == "release/1.2"


def test_a_plan_saved_in_a_pull_request_pipeline_is_refused_by_apply(
    workspace: Workspace, tmp_path
) -> None:
    workspace.add_model("churn")
    base = workspace.commit()
    workspace.edit_manifest("models/churn.yaml", description="from the merge request")
    head = workspace.commit()
    plan_file = tmp_path / "plan.json"
    repo = str(workspace.repo.path)
    merge_request = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": head,
        "CI_COMMIT_REF_NAME": "feature",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
    }
    planned = workspace.cli("plan", "--repo", repo, "--out", str(plan_file), env=merge_request)
    assert planned.code == 0, planned.err
    assert json.loads(plan_file.read_text())["revision"]["pullRequestCommitSha"] == head

    refused = workspace.cli("apply", str(plan_file), "--repo", repo)
    assert refused.code == 1
    assert "made in a pull request" in refused.err
    assert workspace.writes() == 0


def test_a_stale_saved_plan_is_refused_and_writes_nothing(workspace: Workspace, tmp_path) -> None:
    workspace.add_model("churn", spec={"description": "one"})
    workspace.commit()
    workspace.converge()
    workspace.edit_manifest("models/churn.yaml", description="two")
    workspace.commit()
    plan_file = tmp_path / "plan.json"
    assert (
        workspace.cli("plan", "--repo", str(workspace.repo.path), "--out", str(plan_file)).code == 0
    )

    (model,) = workspace.client.list_models()
    workspace.client.update_model(model.id, {"description": "edited by hand"})
    writes = workspace.writes()

    refused = workspace.cli("apply", str(plan_file), "--repo", str(workspace.repo.path))
    assert refused.code == 1
    assert "stale plan" in refused.err
    assert "CustomModel/churn changed" in refused.err
    assert "Traceback" not in refused.err
    assert workspace.writes() == writes


def test_a_saved_plan_from_another_commit_is_applied_at_that_commit(
    workspace: Workspace, tmp_path
) -> None:
    workspace.add_model("churn")
    first = workspace.commit()
    plan_file = tmp_path / "plan.json"
    assert (
        workspace.cli("plan", "--repo", str(workspace.repo.path), "--out", str(plan_file)).code == 0
    )
    workspace.add_model("later")
    workspace.commit("a later model")

    applied = workspace.cli("apply", str(plan_file), "--repo", str(workspace.repo.path))
    assert applied.code == 0, applied.err
    (model,) = workspace.client.list_models()
    assert model.latest_version is not None
    assert model.latest_version.git is not None
    assert model.latest_version.git.main_branch_commit_sha == first


def test_a_saved_plan_edited_by_hand_is_refused_and_writes_nothing(
    workspace: Workspace, tmp_path
) -> None:
    workspace.add_model("churn")
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()
    bystander = workspace.client.create_model(
        {"name": "Made by hand", "targetType": "Regression", "targetName": "y"}
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("not for DataRobot\n")
    workspace.edit_manifest("models/churn.yaml", description="two")
    workspace.commit()
    plan_file = tmp_path / "plan.json"
    repo = str(workspace.repo.path)
    assert workspace.cli("plan", "--repo", repo, "--out", str(plan_file)).code == 0
    honest = json.loads(plan_file.read_text())
    (job,) = workspace.client.list_jobs()
    tampered = {
        "a deletion of a model dr-gitops does not own": {
            "kind": "delete-model",
            "key": "CustomModel/churn",
            "reason": "x",
            "targetId": bystander.id,
        },
        "an upload of a file from outside the repository": {
            "kind": "update-job",
            "key": "CustomJob/retrain",
            "reason": "x",
            "targetId": job.id,
            "files": [{"path": "stolen.txt", "change": "add", "repoPath": str(secret)}],
        },
    }
    writes = workspace.writes()
    for what, action in tampered.items():
        edited = {**honest, "actions": [*honest["actions"], action]}
        plan_file.write_text(json.dumps(edited))
        refused = workspace.cli("apply", str(plan_file), "--repo", repo)
        assert refused.code == 1, what
        assert "is not the plan the manifests at this commit make now" in refused.err, what
        assert workspace.writes() == writes, what
    changed = {**honest, "actions": [{**honest["actions"][0], "targetId": bystander.id}]}
    plan_file.write_text(json.dumps(changed))
    refused = workspace.cli("apply", str(plan_file), "--repo", repo)
    assert refused.code == 1
    assert "targetId differ" in refused.err
    assert workspace.writes() == writes


def test_a_file_that_is_not_a_plan_gets_a_clear_error(workspace: Workspace, tmp_path) -> None:
    bogus = tmp_path / "plan.json"
    bogus.write_text('{"hello": 1}')
    workspace.add_model("churn")
    workspace.commit()
    result = workspace.cli("apply", str(bogus), "--repo", str(workspace.repo.path))
    assert result.code == 1
    assert "not a dr-gitops plan" in result.err


def test_plan_detailed_exitcode_and_outputs(workspace: Workspace) -> None:
    workspace.add_model("churn")
    workspace.commit()
    repo = str(workspace.repo.path)
    changes = workspace.cli("plan", "--repo", repo, "--detailed-exitcode")
    assert changes.code == 2
    assert "Plan: 1 to create" in changes.out
    as_json = workspace.cli("plan", "--repo", repo, "--output", "json")
    jsonschema.validate(json.loads(as_json.out), SCHEMA)
    markdown = workspace.cli("plan", "--repo", repo, "--output", "markdown")
    assert markdown.out.startswith("<!-- dr-gitops-plan -->")
    workspace.converge()
    assert workspace.cli("plan", "--repo", repo, "--detailed-exitcode").code == 0


def test_apply_is_refused_in_any_pull_request_pipeline_whatever_is_checked_out(
    workspace: Workspace, tmp_path
) -> None:
    workspace.add_model("churn")
    workspace.commit()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3}}))
    other = "0" * 40  # CI built another commit (the job checked out a newer head)
    pipelines = {
        "github": {
            "GITHUB_ACTIONS": "true",
            "GITHUB_SHA": other,
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(event),
        },
        "gitlab": {"GITLAB_CI": "true", "CI_COMMIT_SHA": other, "CI_MERGE_REQUEST_IID": "7"},
    }
    for name, env in pipelines.items():
        refused = workspace.cli("apply", "--repo", str(workspace.repo.path), env=env)
        assert refused.code == 1, name
        assert "refusing to apply from a pull request" in refused.err, name
    assert workspace.writes() == 0


def test_ctrl_c_during_apply_lets_the_writes_in_flight_finish_and_shows_the_result(
    workspace: Workspace,
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    for name in ("a", "b", "c", "d", "e", "f"):
        workspace.add_model(f"model-{name}")
    workspace.commit()
    workspace.emulator.set_faults({"latencyMs": 400, "methods": ["POST"]})
    env = {
        **os.environ,
        "DATAROBOT_ENDPOINT": workspace.emulator.api_url,
        "DATAROBOT_API_TOKEN": workspace.emulator.token,
        "DR_GITOPS_NAMESPACE": "test/workspace",
        "DR_GITOPS_CACHE_DIR": str(workspace.cache),
    }
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller.cli", "apply", "--repo", str(workspace.repo.path),
         "--concurrency", "1", "--lock", "none"],
        env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while workspace.writes() == 0:  # the first model is being made
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Apply stopped before the end" in out  # the result is shown
    assert "run apply again" in err
    assert "Traceback" not in err
    made = len(workspace.client.list_models())
    assert 1 <= made < 6  # what was in flight finished; nothing new started
    workspace.emulator.set_faults({"latencyMs": 0})
    workspace.converge()  # and the next apply finishes the rest


def test_only_uncommitted_files_that_change_what_is_applied_count_as_dirty(
    workspace: Workspace, tmp_path
) -> None:
    workspace.add_model("churn")
    workspace.commit()
    repo = str(workspace.repo.path)
    workspace.repo.write({"NOTES.md": "todo\n", "plan.json": "{}\n"})  # not applied
    assert workspace.cli("plan", "--repo", repo, "--out", str(tmp_path / "p.json")).code == 0
    assert workspace.cli("apply", "--repo", repo).code == 0
    workspace.repo.write({"models/churn/custom.py": "# edited, not committed\n"})
    shown = workspace.cli("plan", "--repo", repo)
    assert "the plan includes uncommitted changes (models/churn/custom.py)" in shown.out
    refused = workspace.cli("plan", "--repo", repo, "--out", str(tmp_path / "q.json"))
    assert refused.code == 1
    assert "refusing to save a plan of uncommitted changes (models/churn/custom.py)" in refused.err
    refused = workspace.cli("apply", "--repo", repo)
    assert refused.code == 1
    assert "uncommitted changes (models/churn/custom.py)" in refused.err
