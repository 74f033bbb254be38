"""dr-gitops's GitHub Action (action.yml) and the install steps of the CI examples.

The action runs in the simulator of tests/ci_examples/actions.py: its inputs reach the
command line, each secret reaches only its step. Then the installs run for real (offline:
dr-gitops is built from a clean copy of this repository, its dependencies come from the
test environment through PYTHONPATH, pip has no index) in a pull request that plants a
``pip/`` package, ``sitecustomize.py``, ``controller/``, ``dr_gitops/``, ``yaml/`` and a
fake comment script, with a fake ``dr-gitops`` first on PATH (what an earlier step could
add through ``$GITHUB_PATH``): none of them may run, and the real plan is commented.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller import __version__
from emulator.server import EmulatorServer
from tests.ci_examples.actions import ROOT, load_action
from tests.ci_examples.conftest import GITLAB_TOKEN, MODULE, CiMachine, plan_markdown
from tests.ci_examples.fakeapis import FakeGitHub, FakeGitLab
from tests.ci_examples.gitlabci import resolve, run_script
from tests.ci_examples.test_github_workflow import DR_TOKEN, github_run, load
from tests.ci_examples.test_gitlab_ci import PATH as GITLAB_CI
from tests.ci_examples.test_gitlab_ci import mr_pipeline
from tests.packaging.installing import clean_clone

ACTION = load_action(ROOT)
WORKFLOW = ROOT / "examples" / "ci" / "github" / "dr-gitops.yml"


def one_step_workflow(**inputs: Any) -> dict[str, Any]:
    """A pull-request job that only uses the action with ``inputs``."""
    return {
        "env": {},
        "jobs": {
            "job": {
                "steps": [
                    {"name": "dr-gitops", "id": "run", "uses": "<org>/dr-gitops@v1", "with": inputs}
                ]
            }
        },
    }


# --- Structure ------------------------------------------------------------------------------


def test_the_action_is_composite_with_the_promised_inputs_and_outputs():
    assert ACTION["runs"]["using"] == "composite"
    assert {
        "command",
        "path",
        "namespace",
        "concurrency",
        "prune",
        "max-deletions",
        "allow-empty",
        "comment",
        "github-token",
        "datarobot-endpoint",
        "datarobot-api-token",
    } <= set(ACTION["inputs"])
    assert {"has-changes", "plan-file", "exit-code"} <= set(ACTION["outputs"])
    assert ACTION["inputs"]["command"]["default"] == "plan"
    assert ACTION["inputs"]["prune"]["default"] == "false"  # pruning is never the default


def test_each_secret_reaches_only_the_step_that_needs_it():
    holders: dict[str, list[str]] = {"datarobot-api-token": [], "github-token": []}
    for step in ACTION["runs"]["steps"]:
        for value in step.get("env", {}).values():
            for name in holders:
                if f"inputs.{name}" in str(value):
                    holders[name].append(step["name"])
    assert holders == {
        "datarobot-api-token": ["Run dr-gitops"],
        "github-token": ["Post the plan on the pull request"],
    }


def test_the_action_installs_outside_the_checkout_and_calls_by_absolute_path():
    steps = {s.get("name"): s for s in ACTION["runs"]["steps"]}
    install = steps["Install dr-gitops"]
    assert install["working-directory"] == "${{ runner.temp }}"
    assert '-c "$ACTION_PATH/constraints.txt" "$ACTION_PATH"' in install["run"]
    for step in ACTION["runs"]["steps"]:
        script = step.get("run", "")
        assert "${{" not in script, step["name"]  # values reach scripts through env only
        for python in re.findall(r"\S*python\S* -\S+", script):
            assert python.endswith(" -P"), (step["name"], python)
        assert not re.search(r"(?m)(^|[;&|(])\s*dr-gitops\s", script), step["name"]  # not PATH
    assert f"-m {MODULE}" in steps["Post the plan on the pull request"]["run"]


def test_every_shell_script_of_the_action_is_valid_bash(tmp_path):
    for step in ACTION["runs"]["steps"]:
        if "run" in step:
            script = tmp_path / "step.sh"
            script.write_text(step["run"])
            done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
            assert done.returncode == 0, (step["name"], done.stderr)


# --- Inputs, run in the simulator with the fake dr-gitops -----------------------------------


def test_apply_inputs_become_flags(ci_machine: CiMachine, github: FakeGitHub):
    workflow = one_step_workflow(
        command="apply",
        path="models",
        namespace="github.com/acme/ml",
        concurrency="8",
        prune="true",
        **{"max-deletions": "3", "allow-empty": "true", "datarobot-api-token": DR_TOKEN},
    )
    job = github_run(workflow, "job", ci_machine, github, event_name="push")

    assert not job.failed, job.log()
    assert ci_machine.commands() == [
        "apply --path models --namespace github.com/acme/ml --concurrency 8 --prune "
        "--max-deletions 3 --allow-empty"
    ]
    assert ci_machine.calls()[0]["token"] == DR_TOKEN
    assert github.requests == []


def test_the_prune_guards_are_ignored_without_prune(ci_machine, github):
    workflow = one_step_workflow(command="apply", **{"max-deletions": "50", "allow-empty": "true"})
    github_run(workflow, "job", ci_machine, github, event_name="push")
    assert ci_machine.commands() == ["apply --path ."]


def test_validate_gets_no_token(ci_machine, github):
    workflow = one_step_workflow(command="validate", **{"datarobot-api-token": DR_TOKEN})
    job = github_run(workflow, "job", ci_machine, github)
    assert not job.failed, job.log()
    assert ci_machine.calls()[0]["argv"] == ["validate", "."]
    assert ci_machine.calls()[0]["token"] is None
    assert github.requests == []


def test_plan_outputs_and_the_comment_can_be_turned_off(ci_machine, github):
    ci_machine.plan_prints(plan_markdown(1), 2)
    workflow = one_step_workflow(comment="false", **{"datarobot-api-token": DR_TOKEN})
    workflow["jobs"]["job"]["outputs"] = {
        "changes": "${{ steps.run.outputs.has-changes }}",
        "file": "${{ steps.run.outputs.plan-file }}",
    }
    job = github_run(workflow, "job", ci_machine, github)

    assert not job.failed, job.log()
    assert job.outputs["changes"] == "true"
    assert Path(job.outputs["file"]).read_text() == plan_markdown(1)
    assert github.requests == []


def test_an_unknown_command_fails(ci_machine, github):
    job = github_run(one_step_workflow(command="destroy"), "job", ci_machine, github)
    assert job.failed
    assert ci_machine.calls() == []
    assert "validate, plan or apply" in job.log()


# --- Real installs in a hostile pull request ------------------------------------------------


@pytest.fixture(scope="module")
def dr_gitops_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean copy of this repository as a git repository tagged v<version> (what a
    user's ``uses: …@v1`` or ``git clone --branch v…`` gets)."""
    source = clean_clone(tmp_path_factory.mktemp("dr-gitops") / "dr-gitops")
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "release"],
        ["tag", f"v{__version__}"],
    ):
        subprocess.run(["git", *args], cwd=source, check=True, capture_output=True)
    return source


@pytest.fixture(scope="module")
def libraries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test environment's libraries without dr-gitops (for PYTHONPATH): the installs
    find their dependencies there instead of on PyPI, and must build dr-gitops itself."""
    farm = tmp_path_factory.mktemp("libraries")
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if (
            entry.name.startswith(("dr_gitops", "__editable__", "_dr_gitops"))
            or entry.suffix == ".pth"
        ):
            continue
        (farm / entry.name).symlink_to(entry)
    return farm


def offline_env(libraries: Path, machine: CiMachine) -> dict[str, str]:
    (machine.root / "tmp").mkdir(exist_ok=True)
    return {
        "PYTHONPATH": str(libraries),
        "PIP_NO_INDEX": "1",
        "PIP_NO_BUILD_ISOLATION": "0",  # pip's spelling of "no isolation": setuptools is local
        "PIP_CONFIG_FILE": os.devnull,
        "TMPDIR": str(machine.root / "tmp"),
    }


def hook(name: str, log: Path) -> str:
    return (
        "import os\n"
        f"with open({str(log)!r}, 'a') as log:\n"
        f"    log.write({name!r} + ' ' + ','.join(sorted(k for k in os.environ if 'TOKEN' in k)) + '\\n')\n"
    )


@pytest.fixture
def hostile_checkout(ci_machine: CiMachine) -> Iterator[Path]:
    """The manifests of the example, and a pull request's traps next to them."""
    log = ci_machine.root / "hijacked.log"
    shutil.copytree(ROOT / "manifests-example", ci_machine.workspace, dirs_exist_ok=True)
    for relative in (
        "pip/__init__.py",
        "pip/__main__.py",
        "sitecustomize.py",
        "usercustomize.py",
        "controller/__init__.py",
        "controller/post_plan_comment.py",
        "controller/plancomments.py",
        "controller/cli/__init__.py",
        "dr_gitops/__init__.py",
        "yaml/__init__.py",
        "setuptools/__init__.py",
        ".github/scripts/post_plan_comment.py",
        "ci/post_plan_comment.py",
    ):
        target = ci_machine.workspace / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(hook(relative, log))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "pr"]):
        subprocess.run(["git", *args], cwd=ci_machine.workspace, check=True, capture_output=True)
    # Only what the examples install may run: not the stand-ins of the fixture either, but
    # the fake dr-gitops stays first on PATH, as a step writing $GITHUB_PATH would put it.
    shutil.rmtree(ci_machine.runner_temp / "dr-gitops-venv")
    shutil.rmtree(ci_machine.gitlab_home)
    yield log
    assert not log.exists(), f"a file of the pull request ran:\n{log.read_text()}"
    assert ci_machine.calls() == [], "the dr-gitops found on PATH ran"


def test_a_hostile_pull_request_changes_nothing_the_action_runs(
    ci_machine, github, emulator: EmulatorServer, hostile_checkout, dr_gitops_source, libraries
):
    job = github_run(
        load(WORKFLOW),
        "plan",
        ci_machine,
        github,
        dr_token=emulator.token,
        endpoint=emulator.api_url,
        action_dir=dr_gitops_source,
        install=True,
        env=offline_env(libraries, ci_machine),
    )

    assert not job.failed, job.log()
    assert job.outputs == {"changes": "true"}
    [comment] = github.comments
    assert "Plan: 7 to create" in comment.body
    installed = ci_machine.runner_temp / "dr-gitops-venv"
    assert (installed / "bin" / "dr-gitops").is_file()


def test_a_hostile_merge_request_changes_nothing_the_gitlab_job_runs(
    ci_machine, gitlab: FakeGitLab, emulator, hostile_checkout, dr_gitops_source, libraries
):
    import yaml

    job = resolve(yaml.safe_load(GITLAB_CI.read_text()), "dr-gitops-plan")
    assert job["variables"]["DR_GITOPS_REF"] == f"v{__version__}"
    env = ci_machine.env(
        {
            **mr_pipeline(),
            **offline_env(libraries, ci_machine),
            "GITLAB_CI": "true",
            "CI_API_V4_URL": f"{gitlab.base_url}/api/v4",
            "CI_JOB_URL": "https://gitlab.example.com/acme/ml-models/-/jobs/77",
            "DATAROBOT_ENDPOINT": emulator.api_url,
            "DATAROBOT_API_TOKEN": emulator.token,
            "GITLAB_TOKEN": GITLAB_TOKEN,
            "DR_GITOPS_SOURCE": str(dr_gitops_source),
            # Pinned by commit, as before the first release (a project variable wins).
            "DR_GITOPS_REF": _head(dr_gitops_source),
        }
    )

    done = run_script(job, env, ci_machine.workspace, install=True)

    assert done.code == 0, done.output
    [note] = gitlab.comments
    assert "Plan: 7 to create" in note.body


def _head(repo: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()
