"""``dr-gitops demo`` as a user runs it: the example manifests planned and applied to the
embedded emulator (through the orchestrator, as ``apply`` does), then one commit that makes
exactly one new version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_applies_the_examples_then_exactly_one_new_version() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAROBOT_", "DR_GITOPS_"))}
    done = subprocess.run(
        [sys.executable, "-m", "controller.cli", "demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    steps = done.stdout.split("\n== ")[1:]
    assert [s.split("\n", 1)[0][:2] for s in steps] == ["1.", "2.", "3.", "4.", "5.", "6."]
    first, apply, again, changed, one_version, last = steps
    assert "Plan: 7 to create" in first
    assert "Apply complete: 20 done, 0 failed, 0 blocked, 0 skipped." in apply
    assert "Plan:" not in apply  # an apply step shows what it did, not the plan again
    for empty in (again, last):
        assert "No changes. DataRobot matches the manifests." in empty
    assert "1 new version" in changed
    assert "CustomModel/fraud-detector  version 2.0 created" in one_version
    assert one_version.count("created") == 1
    assert "Apply complete: 5 done, 0 failed" in one_version
