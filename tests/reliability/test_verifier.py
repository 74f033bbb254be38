"""The verifier the soak and crash trials rely on catches each kind of damage: a duplicate
version, model or job, a file changed or missing, a runtime value overridden, a grant
added, a wrong gitModelVersion, a job stamped with a commit that did not change it, a
bystander deleted. (A checker that cannot fail proves
nothing.)"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from emulator.server import EmulatorServer
from tests.fixtures.emulator import EmulatorApi
from tests.fixtures.workspace import NAMESPACE, Workspace
from tests.reliability.bystanders import plant_bystanders
from tests.reliability.soaking import Ledger
from tests.reliability.verifying import LiveApi, Verdict, verify

SHARING = [
    {"username": "gitops-bot@example.com", "role": "OWNER", "canShare": True},
    {"username": "alice@example.com", "role": "USER"},
]
JOB_SHARING = [
    {"username": "gitops-bot@example.com", "role": "OWNER"},
    {"shareRecipientType": "group", "name": "data-science", "role": "USER"},
]


class Damage:
    """Applies one kind of damage through the API, the way a person or a buggy run would."""

    def __init__(self, api: EmulatorApi) -> None:
        self.api = api
        models = api.get("customModels/").json()["data"]
        self.model = next(m for m in models if m.get("userProvidedId") == f"{NAMESPACE}/alpha")
        self.job = api.get("customJobs/").json()["data"][0]

    def duplicate_version(self) -> None:
        self.api.create_version(self.model["id"], {"custom.py": "x = 1\n"}, method="PATCH")

    def duplicate_model(self) -> None:
        self.api.create_model(userProvidedId=f"{NAMESPACE}/stray")

    def duplicate_job(self) -> None:
        made = self.api.post(
            "customJobs/",
            json={
                "name": "copy",
                "description": self.job["description"],
                "jobType": "default",
                "environmentId": self.job["environmentId"],
            },
        )
        assert made.status_code == 201, made.text

    def changed_job_file(self) -> None:
        answer = self.api.upload(
            f"customJobs/{self.job['id']}/", {"job.py": "print('changed')\n"}, method="PATCH"
        )
        assert answer.status_code in (200, 201), answer.text

    def deleted_job_file(self) -> None:
        item = next(i for i in self.job["items"] if i["filePath"] == "job.py")
        answer = self.api.patch(
            f"customJobs/{self.job['id']}/", json={"filesToDelete": [item["id"]]}
        )
        assert answer.status_code in (200, 201), answer.text

    def overridden_value(self) -> None:
        values = [{"fieldName": "DAYS", "type": "numeric", "value": 7}]
        answer = self.api.patch(
            f"customJobs/{self.job['id']}/", json={"runtimeParameterValues": json.dumps(values)}
        )
        assert answer.status_code in (200, 201), answer.text

    def restamped_job(self) -> None:
        """A write with no change behind it moves the job's stamp to another commit."""
        description = re.sub(r"commit=[0-9a-f]{40}", "commit=" + "e" * 40, self.job["description"])
        answer = self.api.patch(f"customJobs/{self.job['id']}/", json={"description": description})
        assert answer.status_code in (200, 201), answer.text

    def extra_grant(self) -> None:
        body = {"data": [{"username": "carol@example.com", "role": "EDITOR", "canShare": False}]}
        answer = self.api.patch(f"customModels/{self.model['id']}/accessControl/", json=body)
        assert answer.status_code == 204, answer.text

    def wrong_git(self) -> None:
        version = self.model["latestVersion"]["id"]
        git = {
            "commitUrl": "https://example.com/x",
            "mainBranchCommitSha": "f" * 40,
            "pullRequestCommitSha": None,
            "refName": "main",
        }
        answer = self.api.patch(
            f"customModels/{self.model['id']}/versions/{version}/", json={"gitModelVersion": git}
        )
        assert answer.status_code in (200, 201), answer.text


def _verdict(workspace: Workspace, ledger: Ledger, bystanders: list) -> Verdict:  # type: ignore[type-arg]
    api = LiveApi(workspace.emulator.api_url, workspace.emulator.token)
    try:
        desired = workspace.plan().desired
        return verify(api, workspace.repo.path, desired, ledger.expectations(NAMESPACE, bystanders))
    finally:
        api.close()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (Damage.duplicate_version, "model alpha: 2 versions, want 1"),
        (Damage.duplicate_model, "stray: in the namespace but in no manifest"),
        (Damage.duplicate_job, "job beta: 2 copies"),
        (Damage.changed_job_file, "job beta: file job.py differs"),
        (Damage.deleted_job_file, "job beta: file job.py is missing"),
        (Damage.overridden_value, "job beta: DAYS is 7"),
        (Damage.restamped_job, "job beta: stamped with commit eeeeeeee"),
        (Damage.extra_grant, "model alpha: 3 grants in DataRobot, 2 declared"),
        (Damage.wrong_git, "model alpha version 1.0: gitModelVersion"),
    ],
)
def test_the_verifier_sees_the_damage(
    workspace: Workspace, emulator: EmulatorServer, damage: Callable[[Damage], None], expected: str
) -> None:
    workspace.add_model(
        "alpha", spec={"sharing": SHARING}, version={"runtimeParameters": {"THRESHOLD": 0.7}}
    )
    workspace.add_job("beta", spec={"sharing": JOB_SHARING, "runtimeParameters": {"DAYS": 10}})
    commit = workspace.commit()
    workspace.converge()
    ledger = Ledger()
    ledger.applied(commit, workspace.plan().desired, workspace.repo.path)
    clean = _verdict(workspace, ledger, [])
    clean.assert_clean()
    assert (clean.counts["files"], clean.counts["grants"]) == (6, 4)

    damage(Damage(EmulatorApi(emulator)))

    problems = _verdict(workspace, ledger, []).problems
    assert any(expected in p for p in problems), problems


def test_the_verifier_sees_a_bystander_deleted(
    workspace: Workspace, emulator: EmulatorServer
) -> None:
    bystanders = plant_bystanders(emulator.api_url, emulator.token, NAMESPACE)
    workspace.add_model("alpha")
    workspace.add_job("beta")
    commit = workspace.commit()
    workspace.converge()
    ledger = Ledger()
    ledger.applied(commit, workspace.plan().desired, workspace.repo.path)
    _verdict(workspace, ledger, bystanders).assert_clean()
    EmulatorApi(emulator).delete(f"customModels/{bystanders[0].id}/")
    problems = _verdict(workspace, ledger, bystanders).problems
    assert any("bystander model" in p and "gone" in p for p in problems), problems
