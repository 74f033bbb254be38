"""The GitLab CI example: its structure, and its jobs run against fakes."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import yaml

from tests.ci_examples.conftest import (
    EXAMPLES,
    GITLAB_TOKEN,
    MODULE,
    CiMachine,
    plan_markdown,
)
from tests.ci_examples.fakeapis import FakeGitLab
from tests.ci_examples.gitlabci import ScriptResult, job_runs, resolve, run_script

PATH = EXAMPLES / "gitlab" / ".gitlab-ci.yml"
DR_TOKEN = "dr-api-key-not-for-logs-456"


@pytest.fixture
def config() -> dict[str, Any]:
    return yaml.safe_load(PATH.read_text())


def script_text(job: dict[str, Any]) -> str:
    return "\n".join(job["script"])


def mr_pipeline() -> dict[str, str]:
    return {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_DEFAULT_BRANCH": "main",
        "CI_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_IID": "5",
        "CI_COMMIT_SHA": "d" * 40,
    }


def push_to_main() -> dict[str, str]:
    return {
        "CI_PIPELINE_SOURCE": "push",
        "CI_DEFAULT_BRANCH": "main",
        "CI_COMMIT_BRANCH": "main",
        "CI_PROJECT_ID": "42",
        "CI_COMMIT_SHA": "e" * 40,
    }


# --- Structure ------------------------------------------------------------------------------


def test_plan_runs_in_merge_request_pipelines_only(config):
    plan = resolve(config, "dr-gitops-plan")
    assert plan["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job_runs(plan, mr_pipeline())
    assert not job_runs(plan, push_to_main())
    assert plan["interruptible"] is True


def test_apply_runs_on_the_default_branch_only_one_at_a_time(config):
    apply = resolve(config, "dr-gitops-apply")
    assert job_runs(apply, push_to_main())
    assert not job_runs(apply, mr_pipeline())
    assert not job_runs(apply, {**push_to_main(), "CI_COMMIT_BRANCH": "feature"})
    assert apply["resource_group"] == "dr-gitops-apply"
    assert apply["interruptible"] is False
    assert apply["environment"] == {"name": "datarobot"}


def test_both_jobs_clone_the_full_history(config):
    for name in ("dr-gitops-plan", "dr-gitops-apply"):
        assert resolve(config, name)["variables"]["GIT_DEPTH"] == "0"


def test_validate_then_plan_then_comment_run_in_the_plan_job(config):
    text = script_text(resolve(config, "dr-gitops-plan"))
    validate = text.index('"$DR_GITOPS" validate "$MANIFESTS"')
    plan = text.index('"$DR_GITOPS" plan --path "$MANIFESTS" --output markdown --detailed-exitcode')
    comment = text.index(f'"$DR_GITOPS_PYTHON" -P -m {MODULE} --platform gitlab')
    assert validate < plan < comment
    assert "apply" not in text


def test_apply_runs_in_the_apply_job_only(config):
    text = script_text(resolve(config, "dr-gitops-apply"))
    assert '"$DR_GITOPS" apply --path "$MANIFESTS"' in text
    assert " plan " not in text


def test_tokens_come_from_masked_project_variables_not_the_file(config):
    text = PATH.read_text()
    for name in ("DATAROBOT_API_TOKEN", "GITLAB_TOKEN"):
        for job in config.values():
            if isinstance(job, dict):
                assert name not in job.get("variables", {})
        assert f"{name}:" in text  # documented in the header comment
    assert "CI_JOB_TOKEN cannot write notes" in text


def test_it_composes_with_an_existing_pipeline(config):
    # Default stages only, no global keys: the file can be `include:`d as it is.
    assert "stages" not in config
    assert "workflow" not in config
    assert "variables" not in config
    assert {resolve(config, n)["stage"] for n in ("dr-gitops-plan", "dr-gitops-apply")} == {
        "test",
        "deploy",
    }


def test_pip_is_the_default_and_the_image_variant_is_one_line_away(config):
    assert config[".dr-gitops"]["extends"] == ".dr-gitops-pip"
    pip = "\n".join(config[".dr-gitops-pip"]["before_script"])
    # The pinned ref's source (a release tag or a commit), installed with its constraints,
    # outside the checkout.
    assert 'git clone --quiet --no-checkout "$DR_GITOPS_SOURCE"' in pip
    assert 'checkout --quiet "$DR_GITOPS_REF"' in pip
    assert "-c src/constraints.txt ./src" in pip
    assert 'cd "$dr_gitops_home" && python -P -m pip' in pip
    image = config[".dr-gitops-image"]["image"]
    assert image == {"name": "ghcr.io/<org>/dr-gitops:<tag>", "entrypoint": [""]}
    for variant in (".dr-gitops-pip", ".dr-gitops-image"):
        assert config[variant]["before_script"][-1].startswith("export DR_GITOPS=")


def test_every_python_and_dr_gitops_runs_by_absolute_path_and_ignores_the_checkout(config):
    for name in (".dr-gitops-pip", "dr-gitops-plan", "dr-gitops-apply"):
        job = resolve(config, name) if not name.startswith(".") else config[name]
        for line in [*job.get("before_script", []), *job.get("script", [])]:
            assert not re.search(r"(^|[\s;&(])dr-gitops ", line), line  # never from PATH
            for python in re.findall(r"\S*python\S* -\S+", line):
                assert python.endswith(" -P"), line


def test_every_script_is_valid_bash(config, tmp_path):
    for name, job in config.items():
        for key in ("before_script", "script"):
            if isinstance(job, dict) and key in job:
                script = tmp_path / "job.sh"
                script.write_text("\n".join(job[key]))
                done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
                assert done.returncode == 0, (name, done.stderr)


# --- The jobs, run against a fake dr-gitops and a fake GitLab -------------------------------


def gitlab_run(
    config: dict[str, Any],
    name: str,
    machine: CiMachine,
    api: FakeGitLab,
    pipeline: dict[str, str],
) -> ScriptResult:
    job = resolve(config, name)
    assert job_runs(job, pipeline)
    env = machine.env(
        {
            **pipeline,
            "GITLAB_CI": "true",
            "CI_API_V4_URL": f"{api.base_url}/api/v4",
            "CI_JOB_URL": "https://gitlab.example.com/acme/ml-models/-/jobs/77",
            "DATAROBOT_API_TOKEN": DR_TOKEN,
            "GITLAB_TOKEN": GITLAB_TOKEN,
        }
    )
    return run_script(job, env, machine.workspace, stand_ins=(machine.gitlab_home, machine.bin))


def test_a_merge_request_is_validated_planned_and_commented(config, ci_machine, gitlab):
    ci_machine.plan_prints(plan_markdown(2), 2)

    job = gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, mr_pipeline())

    assert job.code == 0, job.output
    assert ci_machine.commands() == [
        "validate .",
        "plan --path . --output markdown --detailed-exitcode",
    ]
    validate, plan = ci_machine.calls()
    assert validate["token"] is None
    assert validate["comment_tokens"] == []
    assert plan["token"] == DR_TOKEN
    assert plan["comment_tokens"] == []  # GITLAB_TOKEN is kept from dr-gitops
    assert plan["endpoint"] == "https://app.datarobot.com/api/v2"
    assert [n.body.splitlines()[1][:30] for n in gitlab.comments] == [
        "### dr-gitops plan (part 1/2) ",
        "### dr-gitops plan (part 2/2) ",
    ]
    assert (ci_machine.workspace / "plan.md").exists()  # kept as an artifact


def test_a_rerun_updates_the_same_note(config, ci_machine, gitlab):
    gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, mr_pipeline())
    gitlab.add("Please add a description", author="alice")
    ci_machine.plan_prints(plan_markdown(1, "r2"), 0)

    job = gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, mr_pipeline())

    assert job.code == 0, job.output
    assert len(gitlab.comments) == 2
    assert "at `r2`" in gitlab.comments[0].body


def test_a_failed_plan_leaves_a_notice_and_fails_the_job(config, ci_machine, gitlab):
    gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, mr_pipeline())
    ci_machine.plan_prints("", 1)

    job = gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, mr_pipeline())

    assert job.code == 1
    assert "dr-gitops plan failed (exit code 1)" in job.output
    [notice] = gitlab.comments
    assert "dr-gitops plan failed" in notice.body
    assert "https://gitlab.example.com/acme/ml-models/-/jobs/77" in notice.body


def test_invalid_manifests_replace_an_earlier_plan_with_a_notice(config, ci_machine, gitlab):
    gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, mr_pipeline())
    ci_machine.validate_exits(1)
    ci_machine.plan_prints("", 1)  # plan validates too

    job = gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, mr_pipeline())

    assert job.code == 1
    [notice] = gitlab.comments
    assert "dr-gitops plan failed" in notice.body


def test_an_invalid_fork_merge_request_fails_without_planning(config, ci_machine, gitlab):
    ci_machine.validate_exits(1)
    fork = {**mr_pipeline(), "CI_PROJECT_ID": "99"}

    job = gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, fork)

    assert job.code == 1
    assert ci_machine.commands() == ["validate ."]
    assert gitlab.requests == []


def test_a_fork_merge_request_is_validated_but_not_planned(config, ci_machine, gitlab):
    fork = {**mr_pipeline(), "CI_PROJECT_ID": "99"}

    job = gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, fork)

    assert job.code == 0, job.output
    assert ci_machine.commands() == ["validate ."]
    assert "Merge request from a fork" in job.output
    assert gitlab.requests == []


def test_a_push_to_the_default_branch_applies(config, ci_machine, gitlab):
    job = gitlab_run(config, "dr-gitops-apply", ci_machine, gitlab, push_to_main())

    assert job.code == 0, job.output
    assert ci_machine.commands() == ["apply --path ."]
    assert ci_machine.calls()[0]["token"] == DR_TOKEN
    assert ci_machine.calls()[0]["comment_tokens"] == []
    assert gitlab.requests == []


def test_the_image_variant_trusts_the_checkout_and_plans(config, ci_machine, gitlab):
    config[".dr-gitops"]["extends"] = ".dr-gitops-image"

    job = gitlab_run(config, "dr-gitops-plan", ci_machine, gitlab, mr_pipeline())

    assert job.code == 0, job.output
    gitconfig = (ci_machine.root / "home" / ".gitconfig").read_text()
    assert f"directory = {ci_machine.workspace}" in gitconfig
    assert len(gitlab.comments) == 1
