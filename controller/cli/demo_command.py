"""``dr-gitops demo``: the example manifests applied to an in-process emulator.

It shows the whole loop on a throw-away git repository: the first plan creates
everything, apply makes it so, the next plan is empty; then a one-line commit makes exactly
one new version, and the plan after it is empty again.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import controller
from controller.cli.configuration import register_secrets
from controller.cli.sessions import use_color
from controller.engine.render import render_result, render_text
from controller.errors import ConfigError, DrGitopsError
from controller.model.plans import Plan
from controller.service.orchestrator import Moment, Orchestrator, open_session
from controller.settings import ApiSettings, EngineSettings, GitSettings

NAMESPACE = "demo/manifests-example"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "dr-gitops demo",
    "GIT_AUTHOR_EMAIL": "demo@example.invalid",
    "GIT_COMMITTER_NAME": "dr-gitops demo",
    "GIT_COMMITTER_EMAIL": "demo@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def run_demo(args: argparse.Namespace) -> int:
    server_class = _emulator()
    example = _example(args.example)
    color = use_color()
    with tempfile.TemporaryDirectory(prefix="dr-gitops-demo-") as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(example, repo, ignore=shutil.ignore_patterns(".git", "__pycache__"))
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "Example manifests")
        with server_class(host="127.0.0.1", port=0) as server:
            server.configure(jobRunMs=200, asyncDelayMs=50)
            _say(f"The DataRobot emulator is serving at {server.api_url} (token {server.token!r}).")
            _say(f"A git repository with the example manifests is at {repo}.\n")
            api = ApiSettings(endpoint=server.api_url, token=server.token)
            register_secrets(api.token)
            git = GitSettings(repo=str(repo), cache_dir=Path(tmp) / "cache", namespace=NAMESPACE)

            def step(title: str, apply: bool) -> bool:
                return _step(title, api, git, apply=apply, color=color)

            ok = (
                step("1. plan: everything is new", apply=False)
                and step("2. apply", apply=True)
                and step("3. plan again: nothing to do", apply=False)
                and _change_one_value(repo)
                and step("4. one commit later (a runtime value changed): plan", apply=False)
                and step("5. apply: exactly one new version", apply=True)
                and step("6. plan again: nothing to do", apply=False)
            )
    if not ok:
        _say("The demo stopped at the step above; its output says why.")
        return 1
    _say("Done. The emulator is a tool too: run `dr-emulator` and point DATAROBOT_ENDPOINT at it.")
    return 0


def _step(title: str, api: ApiSettings, git: GitSettings, *, apply: bool, color: bool) -> bool:
    """One step: a plan shown, or (``apply``) applied as ``apply`` and ``serve`` do, through
    the :class:`Orchestrator` (no namespace lock: the emulator is this process's own)."""
    _say(f"== {title}\n")
    session = functools.partial(open_session, git, api, EngineSettings(), environ={}, ci=None)
    if not apply:
        with session() as s:
            print(render_text(s.engine.plan(s.source).plan, color=color))
        return True

    def show(plan: Plan, _moment: Moment) -> None:
        if plan.is_empty:  # else the result is shown
            print(render_text(plan, color=color))

    done = Orchestrator(open_session=session, show=show).reconcile(threading.Event())
    if done.result is None:
        return True
    print(render_result(done.result, color=color))
    return done.result.ok


def _change_one_value(repo: Path) -> bool:
    manifest = repo / "models" / "fraud-detector.yaml"
    text = manifest.read_text(encoding="utf-8")
    if "AMOUNT_CAP: 25000" not in text:
        raise DrGitopsError(f"the demo expected AMOUNT_CAP: 25000 in {manifest}")
    manifest.write_text(text.replace("AMOUNT_CAP: 25000", "AMOUNT_CAP: 30000"), encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "Raise the fraud detector's amount cap")
    _say("(committed: models/fraud-detector.yaml AMOUNT_CAP 25000 → 30000)\n")
    return True


def _emulator() -> Callable[..., Any]:
    try:
        # The demo is the one place the controller starts the emulator (see .importlinter).
        from emulator.server import EmulatorServer
    except ImportError as exc:
        raise ConfigError(
            f"the demo needs the emulator, which is not installed ({exc.name} is missing): "
            "pip install 'dr-gitops[emulator]'"
        ) from None
    return EmulatorServer


def _example(given: Path | None) -> Path:
    candidates = (
        [given] if given else [Path(controller.__file__).resolve().parents[1] / "manifests-example"]
    )
    for path in candidates:
        if path is not None and path.is_dir():
            return path
    raise ConfigError(
        "cannot find the example manifests next to the package; pass --example DIR "
        "(the repository's manifests-example folder)"
    )


def _git(repo: Path, *args: str) -> None:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=_GIT_ENV, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise DrGitopsError(f"git {args[0]} failed in the demo repository: {done.stderr.strip()}")


def _say(text: str) -> None:
    print(text, flush=True)
    sys.stdout.flush()
