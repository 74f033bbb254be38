"""SIGKILL during registration, deployment creation and model replacement: the next run
converges with no duplicate registered version and no duplicate deployment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from controller.manifests import load_desired_state
from tests.delivery.helpers import served, start
from tests.fixtures.workspace import NAMESPACE, Workspace
from tests.reliability.soaking import wait_until_quiet
from tests.reliability.verifying import LiveApi, verify_delivery

REGISTER = "POST /api/v2/modelPackages/fromCustomModelVersion/"
CREATE = "POST /api/v2/deployments/fromModelPackage/"
REPLACE = "PATCH /api/v2/deployments/{deploymentId}/model/"


def route_count(ws: Workspace, route: str) -> int:
    routes = ws.stats()["routes"]
    return int(routes.get(route, {}).get("count", 0))


def killed_apply(ws: Workspace, route: str) -> None:
    """Run ``dr-gitops apply`` and SIGKILL it right after ``route`` was answered once more
    (its status is still being waited for: async work is slow here). Without a lock: a
    crash test must not wait out the dead holder's lease."""
    before = route_count(ws, route)
    env = {
        **os.environ,
        "DATAROBOT_ENDPOINT": ws.emulator.api_url,
        "DATAROBOT_API_TOKEN": ws.emulator.token,
        "DR_GITOPS_NAMESPACE": NAMESPACE,
        "DR_GITOPS_CACHE_DIR": str(ws.cache),
    }
    command = [sys.executable, "-m", "controller.cli", "apply", "--repo", str(ws.repo.path)]
    process = subprocess.Popen(
        [*command, "--auto-approve", "--lock", "none"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    try:
        while route_count(ws, route) == before and process.poll() is None:
            assert time.monotonic() < deadline, f"{route} never came"
            time.sleep(0.005)
        assert process.poll() is None, "the apply ended before it could be killed"
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    wait_until_quiet(ws.emulator)


def assert_no_duplicates(ws: Workspace) -> None:
    api = LiveApi(ws.emulator.api_url, ws.emulator.token)
    try:
        verify_delivery(api, load_desired_state(ws.repo.path), NAMESPACE).assert_clean()
    finally:
        api.close()
    packages = ws.client.list_packages()
    assert len({p.version_id for p in packages}) == len(packages), packages
    assert len(ws.client.list_registered_models()) == 1
    upids = Counter(d.user_provided_id for d in ws.client.list_deployments())
    assert all(n == 1 for n in upids.values()), upids


def test_killed_registration_creation_and_replacement_converge_without_duplicates(
    workspace: Workspace,
) -> None:
    start(workspace)
    workspace.emulator.configure(asyncDelayMs=1500)
    killed_apply(workspace, REGISTER)
    assert len(workspace.client.list_packages()) == 1  # made, but the run never knew
    killed_apply(workspace, CREATE)
    workspace.emulator.configure(asyncDelayMs=50)
    workspace.converge()
    assert_no_duplicates(workspace)
    assert served(workspace) == {"fraud-staging": "1.0", "fraud-prod": "1.0"}

    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    workspace.commit("a better model")
    workspace.emulator.configure(asyncDelayMs=1500)
    killed_apply(workspace, REPLACE)
    workspace.emulator.configure(asyncDelayMs=50)
    time.sleep(1.6)  # the killed replacement finishes in DataRobot meanwhile
    workspace.converge()

    assert_no_duplicates(workspace)
    assert len(workspace.client.list_packages()) == 2
    assert served(workspace) == {"fraud-staging": "2.0", "fraud-prod": "1.0"}


def test_errors_after_the_write_on_every_new_route_are_settled_without_duplicates(
    workspace: Workspace,
) -> None:
    start(workspace)
    workspace.emulator.configure(replacementResetsSettings=["targetDrift"])

    def fault_every_write() -> None:
        rules = [
            {"method": method, "route": route.split(" ", 1)[1], "status": 503, "when": "after"}
            for method, route in (
                ("POST", REGISTER),
                ("POST", CREATE),
                ("PATCH", REPLACE),
                ("PATCH", "PATCH /api/v2/deployments/{deploymentId}/settings/"),
                ("PATCH", "PATCH /api/v2/deployments/{deploymentId}/"),
            )
        ]
        workspace.emulator.set_faults({"script": [{**r, "times": 1} for r in rules]})

    fault_every_write()
    workspace.converge()
    assert_no_duplicates(workspace)
    assert served(workspace) == {"fraud-staging": "1.0", "fraud-prod": "1.0"}

    workspace.repo.write({"models/fraud/custom.py": "# better\n"})
    workspace.commit("a better model")
    fault_every_write()
    workspace.converge()

    assert_no_duplicates(workspace)
    assert served(workspace) == {"fraud-staging": "2.0", "fraud-prod": "1.0"}
    faulted = workspace.stats()["faults"]
    assert sum(faulted.values()) >= 3, faulted


def test_the_verifier_sees_a_duplicate_registration_and_a_deployment_off_its_pin(
    workspace: Workspace,
) -> None:
    start(workspace)
    workspace.converge()
    (package,) = workspace.client.list_packages()
    workspace.client.register_version(
        package.version_id, registered_model_id=package.registered_model_id
    )
    (prod,) = [d for d in workspace.client.list_deployments() if "production" in d.label]
    workspace.client.update_deployment(prod.id, {"label": "by hand"})

    api = LiveApi(workspace.emulator.api_url, workspace.emulator.token)
    try:
        verdict = verify_delivery(api, load_desired_state(workspace.repo.path), NAMESPACE)
    finally:
        api.close()

    assert any("is registered 2 times" in p for p in verdict.problems), verdict.problems
    assert any("label 'by hand'" in p for p in verdict.problems), verdict.problems
