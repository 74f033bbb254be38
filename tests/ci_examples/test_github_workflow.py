"""The GitHub Actions examples: their structure, and their steps run against fakes.

Both variants (dr-gitops's own GitHub Action and the container image) must keep the same
guarantees, so every test runs on both files. The action itself (action.yml) is run by the
simulator in tests/ci_examples/actions.py; test_action.py tests its inputs and, with real
installs, that a pull request's files change nothing that runs.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci_examples.actions import OWN_ACTION, JobResult, run_job
from tests.ci_examples.conftest import (
    EXAMPLES,
    GITHUB_TOKEN,
    MODULE,
    CiMachine,
    plan_markdown,
)
from tests.ci_examples.fakeapis import FakeGitHub

WORKFLOWS = sorted((EXAMPLES / "github").glob("*.yml"))
DR_TOKEN = "dr-api-key-not-for-logs-123"
TOKEN_REF = "${{ secrets.DATAROBOT_API_TOKEN }}"


def load(path: Path) -> dict[str, Any]:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


@pytest.fixture(params=WORKFLOWS, ids=lambda p: p.name)
def workflow(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load(request.param)


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def step_named(job: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if s.get("name") == name)


def uses_action(workflow: dict[str, Any]) -> bool:
    return any(
        OWN_ACTION.fullmatch(s.get("uses", ""))
        for job in workflow["jobs"].values()
        for s in job["steps"]
    )


def ran(job: JobResult, name: str) -> bool:
    return any(s.name == name and s.ran for s in job.steps)


def comment_step(workflow: dict[str, Any]) -> str:
    if uses_action(workflow):
        return "Plan / Post the plan on the pull request"
    return "Post the plan on the pull request"


def failure_step(workflow: dict[str, Any]) -> str:
    if uses_action(workflow):
        return "Plan / Fail when dr-gitops failed"
    return "Fail when the plan failed"


def test_there_are_an_action_and_a_container_variant():
    assert [p.name for p in WORKFLOWS] == ["dr-gitops-container.yml", "dr-gitops.yml"]
    assert uses_action(load(EXAMPLES / "github" / "dr-gitops.yml"))
    assert not uses_action(load(EXAMPLES / "github" / "dr-gitops-container.yml"))


# --- Structure ------------------------------------------------------------------------------


def test_it_runs_on_pull_requests_and_pushes_to_main_only(workflow):
    triggers = workflow["on"]
    assert triggers["pull_request"] == {"branches": ["main"]}
    assert triggers["push"] == {"branches": ["main"]}
    assert "pull_request_target" not in triggers  # would hand secrets to fork code
    assert workflow["jobs"]["plan"]["if"] == "github.event_name == 'pull_request'"
    apply_if = workflow["jobs"]["apply"]["if"]
    assert "github.ref == 'refs/heads/main'" in apply_if
    assert "pull_request" not in apply_if


def test_permissions_are_least_privilege(workflow):
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["plan"]["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
    }
    assert workflow["jobs"]["apply"]["permissions"] == {"contents": "read"}


def test_applies_run_one_at_a_time_and_are_never_cancelled(workflow):
    apply = workflow["jobs"]["apply"]
    assert apply["concurrency"]["group"] == "dr-gitops-apply"
    assert apply["concurrency"]["cancel-in-progress"] is False
    plan = workflow["jobs"]["plan"]["concurrency"]
    assert "github.event.pull_request.number" in plan["group"]


def test_every_checkout_has_the_full_history(workflow):
    for job in workflow["jobs"].values():
        checkouts = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
        assert len(checkouts) == 1
        assert checkouts[0]["with"]["fetch-depth"] == 0


def test_actions_are_pinned_by_major_tag(workflow):
    uses = [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses
    for ref in uses:
        assert re.fullmatch(r"actions/[a-z-]+@v\d+", ref) or OWN_ACTION.fullmatch(ref), ref


def test_validate_then_plan_then_comment_run_in_the_plan_job(workflow):
    job = workflow["jobs"]["plan"]
    if uses_action(workflow):
        commands = [
            s["with"]["command"] for s in job["steps"] if "with" in s and "command" in s["with"]
        ]
        assert commands == ["plan", "validate"]  # plan for the repository's own, validate for forks
        assert step_named(job, "Plan")["with"].get("comment", True) is True  # the default
        return
    text = steps_text(job)
    validate = text.index('dr-gitops validate "$MANIFESTS"')
    plan = text.index('dr-gitops plan --path "$MANIFESTS" --output markdown --detailed-exitcode')
    comment = text.index(f"python -P -m {MODULE} --platform github")
    assert validate < plan < comment
    assert "dr-gitops apply" not in text


def test_apply_runs_in_the_apply_job_only(workflow):
    job = workflow["jobs"]["apply"]
    if uses_action(workflow):
        assert step_named(job, "Apply")["with"]["command"] == "apply"
    else:
        text = steps_text(job)
        assert 'dr-gitops apply --path "$MANIFESTS"' in text
        assert "dr-gitops plan" not in text
    assert job["environment"] == "datarobot"


def test_the_datarobot_token_comes_from_secrets_and_only_where_it_is_needed(workflow):
    assert "DATAROBOT_API_TOKEN" not in workflow.get("env", {})
    holders = []
    for job_id, job in workflow["jobs"].items():
        assert "DATAROBOT_API_TOKEN" not in job.get("env", {})
        for step in job["steps"]:
            given = {**step.get("env", {}), **step.get("with", {})}
            held = [k for k, v in given.items() if "secrets." in str(v)]
            if held:
                assert held in (["DATAROBOT_API_TOKEN"], ["datarobot-api-token"]), held
                assert given[held[0]] == TOKEN_REF
                holders.append((job_id, step["name"]))
    assert holders == [("plan", "Plan"), ("apply", "Apply")]
    assert "vars.DATAROBOT_ENDPOINT" in workflow["env"]["DATAROBOT_ENDPOINT"]


def test_forks_are_validated_but_not_planned(workflow):
    plan = step_named(workflow["jobs"]["plan"], "Plan")
    assert "github.event.pull_request.head.repo.full_name == github.repository" in plan["if"]
    validate = step_named(workflow["jobs"]["plan"], "Validate manifests")
    if uses_action(workflow):
        assert (
            validate["if"] == "github.event.pull_request.head.repo.full_name != github.repository"
        )
        assert "datarobot-api-token" not in validate["with"]
    else:
        assert "if" not in validate


def test_no_expression_is_expanded_inside_a_shell_script(workflow):
    # ${{ }} in `run:` is pasted into the script before bash reads it: an injection risk.
    # Values reach scripts through `env:` instead.
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step.get("name")


def test_every_shell_script_is_valid_bash(workflow, tmp_path):
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                script = tmp_path / "step.sh"
                script.write_text(step["run"])
                done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
                assert done.returncode == 0, (step.get("name"), done.stderr)


def test_the_action_variant_uses_the_action_and_the_container_variant_runs_in_the_image():
    action = load(EXAMPLES / "github" / "dr-gitops.yml")
    container = load(EXAMPLES / "github" / "dr-gitops-container.yml")
    for job in action["jobs"].values():
        assert "dr-gitops " not in steps_text(job)  # only through the action
        assert "pip" not in steps_text(job)
        assert "container" not in job
    for job in container["jobs"].values():
        assert job["container"]["image"] == "ghcr.io/<org>/dr-gitops:<tag>"
        assert "--user 1001" in job["container"]["options"]
        assert "pip install" not in steps_text(job)
        assert 'git config --global --add safe.directory "$GITHUB_WORKSPACE"' in steps_text(job)


# --- The steps, run against a fake dr-gitops and a fake GitHub ------------------------------


def github_run(
    workflow: dict[str, Any],
    job_id: str,
    machine: CiMachine,
    api: FakeGitHub,
    *,
    event_name: str = "pull_request",
    head_repo: str = "acme/ml-models",
    dr_token: str = DR_TOKEN,
    endpoint: str | None = None,
    **runner: Any,
) -> JobResult:
    event = {
        "pull_request": {"number": 17, "head": {"sha": "c" * 40, "repo": {"full_name": head_repo}}}
    }
    if event_name != "pull_request":
        event = {"ref": "refs/heads/main"}
    (machine.root / "event.json").write_text(json.dumps(event))
    ref = "refs/pull/17/merge" if event_name == "pull_request" else "refs/heads/main"
    machine.runner_temp.mkdir(exist_ok=True)
    contexts = {
        "github": {
            "event_name": event_name,
            "repository": "acme/ml-models",
            "ref": ref,
            "token": GITHUB_TOKEN,
            "event": event,
            "workspace": str(machine.workspace),
        },
        "secrets": {"DATAROBOT_API_TOKEN": dr_token},
        "vars": {"DATAROBOT_ENDPOINT": endpoint} if endpoint else {},
        "runner": {"temp": str(machine.runner_temp)},
    }
    env = machine.env(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": api.base_url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/ml-models",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(machine.root / "event.json"),
            "GITHUB_REF": ref,
            "GITHUB_RUN_ID": "4242",
            "GITHUB_WORKSPACE": str(machine.workspace),
            "GITHUB_STEP_SUMMARY": str(machine.root / "summary.md"),
            "RUNNER_TEMP": str(machine.runner_temp),
            **runner.pop("env", {}),
        }
    )
    return run_job(workflow, job_id, contexts, env, machine.workspace, **runner)


def test_a_pull_request_is_validated_planned_and_commented(workflow, ci_machine, github):
    ci_machine.plan_prints(plan_markdown(2), 2)

    job = github_run(workflow, "plan", ci_machine, github)

    assert job.ran
    assert not job.failed, job.log()
    plan_command = "plan --path . --output markdown --detailed-exitcode"
    if uses_action(workflow):
        assert ci_machine.commands() == [plan_command]  # plan validates first
    else:
        assert ci_machine.commands() == ["validate .", plan_command]
        assert ci_machine.calls()[0]["token"] is None
    plan = ci_machine.calls()[-1]
    assert plan["token"] == DR_TOKEN
    assert plan["comment_tokens"] == []  # the step that plans holds no GitHub token
    assert plan["endpoint"] == "https://app.datarobot.com/api/v2"
    assert [c.body.splitlines()[1][:30] for c in github.comments] == [
        "### dr-gitops plan (part 1/2) ",
        "### dr-gitops plan (part 2/2) ",
    ]
    assert job.outputs == {"changes": "true"}
    assert "Plan: 2 to create" in (ci_machine.root / "summary.md").read_text()
    assert not ran(job, failure_step(workflow))


def test_a_rerun_updates_the_same_comments(workflow, ci_machine, github):
    github.add("Looks good to me", author="alice")
    github_run(workflow, "plan", ci_machine, github)
    ci_machine.plan_prints(plan_markdown(1, "r2"), 0)

    job = github_run(workflow, "plan", ci_machine, github)

    assert not job.failed, job.log()
    assert len(github.comments) == 2
    assert "at `r2`" in github.comments[1].body
    assert job.outputs == {"changes": "false"}


def test_a_failed_plan_leaves_a_notice_and_fails_the_check(workflow, ci_machine, github):
    github_run(workflow, "plan", ci_machine, github)
    ci_machine.plan_prints("", 1)

    job = github_run(workflow, "plan", ci_machine, github)

    assert job.failed
    assert ran(job, failure_step(workflow))
    [notice] = github.comments
    assert "dr-gitops plan failed" in notice.body
    assert "https://github.com/acme/ml-models/actions/runs/4242" in notice.body


def test_invalid_manifests_replace_an_earlier_plan_with_a_notice(workflow, ci_machine, github):
    github_run(workflow, "plan", ci_machine, github)
    ci_machine.validate_exits(1)
    ci_machine.plan_prints("", 1)  # plan validates too

    job = github_run(workflow, "plan", ci_machine, github)

    assert job.failed
    assert ran(job, comment_step(workflow))
    [notice] = github.comments
    assert "dr-gitops plan failed" in notice.body


def test_an_invalid_fork_pull_request_fails_without_planning(workflow, ci_machine, github):
    ci_machine.validate_exits(1)

    job = github_run(workflow, "plan", ci_machine, github, head_repo="someone/ml-models")

    assert job.failed
    assert ci_machine.commands() == ["validate ."]
    assert github.requests == []


def test_a_fork_pull_request_is_validated_without_secrets_or_comments(workflow, ci_machine, github):
    job = github_run(workflow, "plan", ci_machine, github, head_repo="someone/ml-models")

    assert job.ran
    assert not job.failed, job.log()
    assert ci_machine.commands() == ["validate ."]
    assert not job.step("Plan").ran
    assert not ran(job, comment_step(workflow))
    assert (
        "Pull request from a fork"
        in job.step("Note that fork pull requests are not planned").stdout
    )
    assert github.requests == []


def test_a_pull_request_does_not_apply(workflow, ci_machine, github):
    assert not github_run(workflow, "apply", ci_machine, github).ran


def test_a_push_to_main_applies_and_does_not_plan(workflow, ci_machine, github):
    assert not github_run(workflow, "plan", ci_machine, github, event_name="push").ran

    job = github_run(workflow, "apply", ci_machine, github, event_name="push")

    assert job.ran
    assert not job.failed, job.log()
    assert ci_machine.commands() == ["apply --path ."]
    assert ci_machine.calls()[0]["token"] == DR_TOKEN
    assert ci_machine.calls()[0]["comment_tokens"] == []
    assert github.requests == []
