"""The README works as written: its links resolve, the flags it names exist, the manifest
tour validates and applies, and its copy-paste commands run (against the emulator)."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import pytest

from controller.cli import build_parser
from tests.fixtures.workspace import Workspace

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_relative_link_resolves(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_every_flag_named_for_a_command_exists() -> None:
    commands = _subparsers()
    options = {
        name: {o for a in p._actions for o in a.option_strings} for name, p in commands.items()
    }
    mentioned = re.findall(r"dr-gitops (\w+)((?: [^`|\n]*)?)", README)
    checked = 0
    for command, rest in mentioned:
        if command not in commands:
            continue
        for flag in re.findall(r"(--[a-z][a-z-]+)", rest):
            assert flag in options[command], f"`dr-gitops {command}` has no {flag}"
            checked += 1
    # The reference table: every flag in it exists on each command it names.
    for row in re.findall(r"^\| (`--.*?) \| ([a-z, ]+) \|", README, re.M):
        flags = re.findall(r"`(--[a-z-]+)", row[0])
        for command in [c.strip() for c in row[1].split(",")]:
            if command in commands:
                for flag in flags:
                    assert flag in options[command], f"table: `dr-gitops {command}` has no {flag}"
                    checked += 1
    assert checked > 30


def test_the_manifest_tour_validates_and_applies(workspace: Workspace) -> None:
    (tour,) = [b for b in _blocks("yaml") if "kind: CustomModel" in b]
    example = ROOT / "manifests-example"
    shutil.copytree(example / "models" / "fraud-detector", workspace.repo.path / "fraud-detector")
    shutil.copytree(example / "jobs" / "nightly-retrain", workspace.repo.path / "nightly-retrain")
    workspace.repo.write({"tour.yaml": tour})
    workspace.commit("the README's tour")
    checked = workspace.cli("validate", str(workspace.repo.path))
    assert checked.code == 0, checked.out
    workspace.converge()


def test_the_deployment_tour_validates_and_applies_with_the_manifest_tour(
    workspace: Workspace,
) -> None:
    (tour,) = [b for b in _blocks("yaml") if "kind: CustomModel" in b]
    (deployment,) = [b for b in _blocks("yaml") if "kind: Deployment" in b]
    example = ROOT / "manifests-example"
    shutil.copytree(example / "models" / "fraud-detector", workspace.repo.path / "fraud-detector")
    shutil.copytree(example / "jobs" / "nightly-retrain", workspace.repo.path / "nightly-retrain")
    workspace.repo.write({"tour.yaml": tour, "deployment.yaml": deployment})
    workspace.commit("the README's tours")
    workspace.converge()
    (deployed,) = workspace.client.list_deployments()
    assert (deployed.label, deployed.version_label) == ("Fraud detector (production)", "1.0")


def test_the_copy_paste_commands_run_as_written(workspace: Workspace, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "manifests-example", workspace.repo.path, dirs_exist_ok=True)
    workspace.commit("the example")
    repo = str(workspace.repo.path)
    commands = [
        line.split("#")[0].split()
        for block in _blocks("sh")
        for line in block.splitlines()
        if line.startswith("dr-gitops ")
        # serve runs until stopped; suspend, resume and reconcile call a running serve
        # (tests/service/test_operations.py runs them against one)
        and not line.startswith(
            tuple(f"dr-gitops {c}" for c in ("serve", "export", "suspend", "resume", "reconcile"))
        )
    ]
    assert len(commands) >= 8
    for words in commands:
        for part in " ".join(words[1:]).split(" && dr-gitops "):
            args = [a.replace("plan.json", str(tmp_path / "plan.json")) for a in part.split()]
            if args[0] != "validate":
                args += ["--repo", repo]
            else:
                args = ["validate", repo]
            result = workspace.cli(*args)
            assert result.code in (0, 2), (args, result.out[-2000:], result.err[-2000:])
    assert workspace.plan().plan.is_empty
