"""Fixtures for the CI examples: fake comment APIs and a runner for the plan comment poster
(``controller.post_plan_comment``, shipped inside dr-gitops)."""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

import pytest

from tests.ci_examples.fakeapis import FakeGitHub, FakeGitLab, serve

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "ci"
MODULE = "controller.post_plan_comment"
GITHUB_TOKEN = "ghs_fakeGitHubToken0123456789abcdef"
GITLAB_TOKEN = "glpat-fakeGitLabToken0123456789"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    yield from serve(FakeGitHub(token=GITHUB_TOKEN, me="github-actions[bot]"))


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    yield from serve(FakeGitLab(token=GITLAB_TOKEN, me="project_42_bot"))


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment: no proxies, no CI variables of the machine running the tests."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    return {**env, "NO_PROXY": "*", "PYTHONIOENCODING": "utf-8", **extra}


@dataclass(frozen=True)
class Posted:
    """How one run of the script ended."""

    code: int
    stdout: str
    stderr: str


def load_script() -> ModuleType:
    """The poster's module, as the CI jobs run it (``python -P -m``)."""
    return importlib.import_module(MODULE)


@dataclass
class ScriptRunner:
    """Runs the plan comment poster against a fake, as a CI job would.

    In-process by default (``main(argv, env)``; fast); ``separate=True`` runs it as its own
    Python process with only the CI's environment, as a job runs it.
    """

    tmp_path: Path
    separate: bool = False

    def github(self, fake: FakeGitHub, markdown: str, *args: str, **env: str) -> Posted:
        event = self.tmp_path / "event.json"
        event.write_text('{"pull_request": {"number": 17, "head": {"sha": "' + "c" * 40 + '"}}}')
        base = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": fake.base_url,
            "GITHUB_REPOSITORY": "acme/ml-models",
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_TOKEN": GITHUB_TOKEN,
        }
        return self._run(markdown, args, {**base, **env})

    def gitlab(self, fake: FakeGitLab, markdown: str, *args: str, **env: str) -> Posted:
        base = {
            "GITLAB_CI": "true",
            "CI_API_V4_URL": f"{fake.base_url}/api/v4",
            "CI_PROJECT_ID": "42",
            "CI_MERGE_REQUEST_IID": "5",
            "GITLAB_TOKEN": GITLAB_TOKEN,
        }
        return self._run(markdown, args, {**base, **env})

    def _run(self, markdown: str, args: tuple[str, ...], env: dict[str, str]) -> Posted:
        if not self.separate:
            return self._run_inside(markdown, args, env)
        done = subprocess.run(
            [sys.executable, "-P", "-m", MODULE, *args, "-"],
            input=markdown,
            capture_output=True,
            text=True,
            env=clean_env(env),
            timeout=60,
            check=False,
        )
        return Posted(done.returncode, done.stdout, done.stderr)

    def _run_inside(self, markdown: str, args: tuple[str, ...], env: dict[str, str]) -> Posted:
        stdout, stderr = io.StringIO(), io.StringIO()
        with (
            redirect_stdout(stdout),
            redirect_stderr(stderr),
            mock.patch("sys.stdin", io.StringIO(markdown)),
        ):
            try:
                code = load_script().main([*args, "-"], env=clean_env(env))
            except SystemExit as exc:  # argparse refusing the arguments
                code = int(exc.code or 0)
        return Posted(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def post(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ScriptRunner:
    # urllib reads proxy settings from the process environment: keep loopback direct.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")
    return ScriptRunner(tmp_path)


def plan_markdown(parts: int, revision: str = "r1") -> str:
    """What `dr-gitops plan --output markdown` prints for a plan of ``parts`` parts."""
    bodies = []
    for index in range(1, parts + 1):
        suffix = f" (part {index}/{parts})" if parts > 1 else ""
        bodies.append(
            "<!-- dr-gitops-plan -->\n"
            f"### dr-gitops plan{suffix} for `github.com/acme/ml-models` at `{revision}`\n\n"
            f"**Plan: {parts} to create, 0 to update, 0 new versions, 0 to delete.**\n\n"
            f"<details><summary>model-{index}</summary>\n\nbody {index}\n</details>\n"
        )
    return "<!-- dr-gitops: part break -->\n".join(bodies)


FAKE_CLI = '''#!{python}
"""A stand-in for the dr-gitops command: records its calls, prints the configured plan."""
import json, os, sys

state = os.environ["FAKE_DR_GITOPS_DIR"]
call = {{
    "argv": sys.argv[1:],
    "token": os.environ.get("DATAROBOT_API_TOKEN"),
    "endpoint": os.environ.get("DATAROBOT_ENDPOINT"),
    "comment_tokens": [n for n in ("GITHUB_TOKEN", "GITLAB_TOKEN") if os.environ.get(n)],
}}
with open(os.path.join(state, "calls.jsonl"), "a") as log:
    log.write(json.dumps(call) + "\\n")
if sys.argv[1] == "validate" and os.path.exists(os.path.join(state, "validate.exit")):
    with open(os.path.join(state, "validate.exit")) as code:
        sys.exit(int(code.read()))
if sys.argv[1] == "plan":
    with open(os.path.join(state, "plan.md")) as plan:
        sys.stdout.write(plan.read())
    with open(os.path.join(state, "plan.exit")) as code:
        sys.exit(int(code.read()))
'''


@dataclass
class CiMachine:
    """A CI job's machine: a workspace, a PATH with a fake dr-gitops, and its call log.

    The fake also stands where the examples install dr-gitops (the GitHub Action's venv
    under ``$RUNNER_TEMP``, the GitLab job's temporary folder), next to a ``python`` that
    runs the real comment poster; tests that run the installs for real replace them.
    """

    root: Path
    workspace: Path
    bin: Path
    state: Path

    @property
    def runner_temp(self) -> Path:
        return self.root / "runner-temp"

    @property
    def gitlab_home(self) -> Path:
        """What the GitLab example's ``mktemp -d`` stands for when installs are skipped."""
        return self.root / "dr-gitops-home"

    def plan_prints(self, markdown: str, exit_code: int) -> None:
        (self.state / "plan.md").write_text(markdown)
        (self.state / "plan.exit").write_text(str(exit_code))

    def validate_exits(self, exit_code: int) -> None:
        (self.state / "validate.exit").write_text(str(exit_code))

    def calls(self) -> list[dict[str, Any]]:
        log = self.state / "calls.jsonl"
        lines = log.read_text().splitlines() if log.exists() else []
        return [json.loads(line) for line in lines]

    def commands(self) -> list[str]:
        return [" ".join(call["argv"]) for call in self.calls()]

    def env(self, extra: Mapping[str, str]) -> dict[str, str]:
        return clean_env(
            {
                "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
                "HOME": str(self.root / "home"),
                "GIT_CONFIG_NOSYSTEM": "1",
                "FAKE_DR_GITOPS_DIR": str(self.state),
                **extra,
            }
        )


@pytest.fixture
def ci_machine(tmp_path: Path) -> CiMachine:
    machine = CiMachine(tmp_path, tmp_path / "workspace", tmp_path / "bin", tmp_path / "state")
    for folder in (machine.workspace, machine.bin, machine.state, tmp_path / "home"):
        folder.mkdir()
    for where in (
        machine.bin,
        machine.runner_temp / "dr-gitops-venv" / "bin",
        machine.gitlab_home / "venv" / "bin",
    ):
        where.mkdir(parents=True, exist_ok=True)
        cli = where / "dr-gitops"
        cli.write_text(FAKE_CLI.format(python=sys.executable))
        cli.chmod(0o755)
        python = where / "python"  # a link would lose the test environment's venv
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python.chmod(0o755)
    machine.plan_prints(plan_markdown(1), 2)
    return machine
