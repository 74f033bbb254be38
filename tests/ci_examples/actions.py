"""A tiny GitHub Actions job runner, enough to run the example workflow's shell steps.

It evaluates the subset of the expression language the examples use (context look-ups,
string literals, ``== != ! && || ( )``, ``always() success() failure()``), skips the
``actions/*`` steps (checkout, setup-python), runs dr-gitops's own composite action
(``uses: <org>/dr-gitops@vN``, read from ``action.yml`` with its inputs, defaults, step
``env``, ``working-directory`` and outputs; its install step only when asked), and runs
every ``run:`` step as Actions does on Linux (``bash --noprofile --norc -eo pipefail``) with
``GITHUB_OUTPUT``, step outputs and ``if:`` conditions. It is a test harness, not an
emulator: anything it does not know fails loudly so a change to the workflow that needs
more is noticed.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OWN_ACTION = re.compile(r"<org>/dr-gitops@v\d+")

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<call>(?:always|success|failure|cancelled)\(\))|(?P<num>\d+)"
    r"|(?P<name>[A-Za-z_][\w-]*(?:\.[\w-]+)*))"
)
_STATUS_CALL = re.compile(r"\b(?:always|success|failure|cancelled)\(\)")


class Expression:
    """One ``${{ }}`` expression, evaluated against a dict of contexts."""

    def __init__(self, text: str, contexts: Mapping[str, Any], failed: bool = False) -> None:
        self.tokens = self._tokenize(text)
        self.position = 0
        self.contexts = contexts
        self.failed = failed

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, position = [], 0
        while text[position:].strip():
            found = _TOKEN.match(text, position)
            if not found or not found.lastgroup:
                raise ValueError(f"unsupported expression near {text[position:]!r}")
            tokens.append((found.lastgroup, found.group(found.lastgroup)))
            position = found.end()
        return tokens

    def value(self) -> Any:
        result = self._or()
        if self.position != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.position]}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        self.position += 1
        return self.tokens[self.position - 1]

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left if truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._not()
        while self._peek() == "&&":
            self._take()
            right = self._not()
            left = right if truthy(left) else left
        return left

    def _not(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._not())
        return self._compare()

    def _compare(self) -> Any:
        left = self._primary()
        if self._peek() in ("==", "!="):
            op = self._take()[1]
            same = _loose(left) == _loose(self._primary())
            return same if op == "==" else not same
        return left

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            inner = self._or()
            assert self._take()[1] == ")"
            return inner
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return int(text)
        if kind == "call":
            return {"always()": True, "success()": not self.failed, "failure()": self.failed}.get(
                text, False
            )
        if kind == "name":
            return lookup(self.contexts, text)
        raise ValueError(f"unexpected {text!r}")


def truthy(value: Any) -> bool:
    return value not in (None, "", 0, False)


def _loose(value: Any) -> str:
    # Actions compares null and '' as equal, and strings case-insensitively.
    return "" if value is None else str(value).lower()


def lookup(contexts: Mapping[str, Any], dotted: str) -> Any:
    value: Any = contexts
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def substitute(text: str, contexts: Mapping[str, Any]) -> str:
    """``text`` with every ``${{ expr }}`` replaced by its value."""

    def one(found: re.Match[str]) -> str:
        value = Expression(found.group(1), contexts).value()
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def condition(text: str | bool | None, contexts: Mapping[str, Any], failed: bool) -> bool:
    """Whether a job or step with ``if: text`` runs."""
    if text is None:
        return not failed
    source = str(text).strip()
    if source.startswith("${{") and source.endswith("}}"):
        source = source[3:-2]
    result = truthy(Expression(source, contexts, failed).value())
    # Without a status function, `if:` is implicitly `success() && (...)`.
    return result if _STATUS_CALL.search(source) else result and not failed


@dataclass
class StepResult:
    name: str
    ran: bool
    code: int = 0
    stdout: str = ""
    stderr: str = ""


@dataclass
class JobResult:
    ran: bool
    failed: bool = False
    steps: list[StepResult] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)

    def log(self) -> str:
        return "\n".join(f"[{s.name}] {s.stdout}{s.stderr}" for s in self.steps if s.ran)


@dataclass(frozen=True)
class Runner:
    """Where the job runs: the workspace, the action's folder, whether installs run."""

    workspace: Path
    action_dir: Path = ROOT
    install: bool = False


def run_job(
    workflow: Mapping[str, Any],
    job_id: str,
    contexts: dict[str, Any],
    base_env: Mapping[str, str],
    workspace: Path,
    *,
    action_dir: Path = ROOT,
    install: bool = False,
) -> JobResult:
    """Run the steps of one job, in order, with Actions' rules for ``if:``."""
    runner = Runner(workspace, action_dir, install)
    job = workflow["jobs"][job_id]
    contexts = {**contexts, "steps": {}}
    if not condition(job.get("if"), contexts, failed=False):
        return JobResult(ran=False)
    result = JobResult(ran=True)
    level_env = {**workflow.get("env", {}), **job.get("env", {})}
    level_env = {k: substitute(str(v), {**contexts, "env": {}}) for k, v in level_env.items()}
    for index, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses") or f"step {index}"
        if not condition(step.get("if"), {**contexts, "env": level_env}, result.failed):
            result.steps.append(StepResult(name, ran=False))
            continue
        uses = step.get("uses", "")
        if OWN_ACTION.fullmatch(uses):
            ran = _run_action(name, step, {**contexts, "env": level_env}, base_env, runner)
            result.steps.extend(ran[2])
        elif uses:
            if not uses.startswith("actions/"):
                raise ValueError(f"unknown action {uses!r}")
            result.steps.append(StepResult(name, ran=True))
            continue
        else:
            env = {**level_env, **step.get("env", {})}
            env = {k: substitute(str(v), {**contexts, "env": env}) for k, v in env.items()}
            ran = (*_run_step(name, step, {**base_env, **env}, workspace, workspace), [])
        result.steps.append(ran[0])
        contexts["steps"][step.get("id", f"_{index}")] = {"outputs": ran[1]}
        result.failed = result.failed or ran[0].code != 0
    for key, value in job.get("outputs", {}).items():
        result.outputs[key] = substitute(str(value), contexts)
    return result


def load_action(action_dir: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((action_dir / "action.yml").read_text()))


def _run_action(
    name: str,
    step: Mapping[str, Any],
    contexts: dict[str, Any],
    base_env: Mapping[str, str],
    runner: Runner,
) -> tuple[StepResult, dict[str, str], list[StepResult]]:
    """Run dr-gitops's composite action as one step: its inputs, its steps, its outputs."""
    action = load_action(runner.action_dir)
    assert action["runs"]["using"] == "composite"
    given = {k: substitute(str(v), contexts) for k, v in step.get("with", {}).items()}
    unknown = set(given) - set(action["inputs"])
    if unknown:
        raise ValueError(f"the action has no inputs {sorted(unknown)}")
    inputs = {
        key: given.get(key, substitute(str(spec.get("default", "")), contexts))
        for key, spec in action["inputs"].items()
    }
    inner = {
        **contexts,
        "inputs": inputs,
        "steps": {},
        "github": {**contexts["github"], "action_path": str(runner.action_dir)},
    }
    failed, steps = False, []
    for index, sub in enumerate(action["runs"]["steps"]):
        sub_name = f"{name} / {sub.get('name') or sub.get('uses')}"
        if not condition(sub.get("if"), inner, failed):
            steps.append(StepResult(sub_name, ran=False))
            continue
        if "uses" in sub:
            if not sub["uses"].startswith("actions/"):
                raise ValueError(f"unknown action {sub['uses']!r}")
            steps.append(StepResult(sub_name, ran=True))
            continue
        assert sub.get("shell") == "bash", "composite run steps must name their shell"
        if sub.get("name") == "Install dr-gitops" and not runner.install:
            steps.append(StepResult(sub_name, ran=True))
            continue
        env = {k: substitute(str(v), inner) for k, v in sub.get("env", {}).items()}
        cwd = Path(substitute(sub.get("working-directory", "${{ github.workspace }}"), inner))
        ran, outputs = _run_step(
            sub_name, sub, {**base_env, **contexts["env"], **env}, runner.workspace, cwd
        )
        steps.append(ran)
        inner["steps"][sub.get("id", f"_{index}")] = {"outputs": outputs}
        failed = failed or ran.code != 0
    outputs = {k: substitute(str(v["value"]), inner) for k, v in action["outputs"].items()}
    log = "".join(f"[{s.name}] {s.stdout}{s.stderr}" for s in steps if s.ran)
    return StepResult(name, True, 1 if failed else 0, log, ""), outputs, steps


def _run_step(
    name: str, step: Mapping[str, Any], env: dict[str, str], workspace: Path, cwd: Path
) -> tuple[StepResult, dict[str, str]]:
    output = workspace.parent / "github_output"
    output.write_text("")
    script = workspace.parent / "step.sh"
    script.write_text(step["run"])
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env={**env, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return StepResult(name, True, done.returncode, done.stdout, done.stderr), outputs
