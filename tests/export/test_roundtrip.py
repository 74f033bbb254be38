"""An exported account plans adoption only, and nothing at all once adopted."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.export.seeding import (
    CRED_S3,
    ENV_SKLEARN,
    GROUP_DATA_SCIENCE,
    ORG_ID,
    seed_account,
    uploads,
)
from tests.fixtures.workspace import Workspace

ADOPTIONS = {"adopt-model", "adopt-job"}


def _plan_json(workspace: Workspace, repo: Path) -> dict[str, Any]:
    result = workspace.cli("plan", "--repo", str(repo), "--output", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def _changes(action: dict[str, Any]) -> dict[str, Any]:
    return {k: action[k] for k in ("fields", "files", "runtime", "sharing") if action[k]}


def _exported_repo(workspace: Workspace, tmp_path: Path) -> Path:
    """Seed the account by hand, export it into the workspace's empty repository, commit."""
    seed_account(workspace.client, tmp_path / "scratch")
    repo = workspace.repo.path  # an empty git repository: only .git counts as empty
    exported = workspace.cli("export", "--out", str(repo))
    assert exported.code == 0, exported.out + exported.err
    workspace.commit("export from DataRobot")
    validated = workspace.cli("validate", str(repo))
    assert validated.code == 0, validated.out
    return repo


def _described(plan: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(a["kind"], a["key"], a["reason"], _changes(a)) for a in plan["actions"]]


def test_exported_hand_made_objects_plan_no_change_and_nothing_once_applied(
    workspace: Workspace, tmp_path: Path
) -> None:
    repo = _exported_repo(workspace, tmp_path)

    plan = _plan_json(workspace, repo)

    adopted = Counter(a["kind"] for a in plan["actions"] if a["kind"] in ADOPTIONS)
    assert adopted == {"adopt-model": 3, "adopt-job": 2}, _described(plan)
    assert [(a["key"], _changes(a)) for a in plan["actions"] if a["kind"] in ADOPTIONS] == [
        (a["key"], {}) for a in plan["actions"] if a["kind"] in ADOPTIONS
    ]
    assert sum(adopted.values()) == len(plan["actions"]), _described(plan)

    applied = workspace.cli("apply", "--repo", str(repo))
    assert applied.code == 0, applied.out + applied.err
    again = workspace.cli("plan", "--repo", str(repo), "--detailed-exitcode")
    assert again.code == 0, again.out


def test_exported_hand_made_objects_plan_adoption_actions_only(
    workspace: Workspace, tmp_path: Path
) -> None:
    repo = _exported_repo(workspace, tmp_path)

    plan = _plan_json(workspace, repo)

    assert Counter(a["kind"] for a in plan["actions"]) == {"adopt-model": 3, "adopt-job": 2}, (
        _described(plan)
    )


def test_export_writes_every_managed_field_in_the_manifest_format(
    workspace: Workspace, tmp_path: Path
) -> None:
    seed_account(workspace.client, tmp_path / "scratch")
    out = tmp_path / "out"
    writes = workspace.writes()

    assert workspace.cli("export", "--out", str(out)).code == 0

    assert workspace.writes() == writes  # an export only reads DataRobot

    fraud_text = (out / "models/fraud-detector-v2.yaml").read_text()
    assert fraud_text.startswith(
        "# yaml-language-server: $schema=../schemas/custom-model.schema.json\n"
    )
    fraud = yaml.safe_load(fraud_text)
    assert fraud["metadata"] == {"name": "fraud-detector-v2", "adopt": True}
    assert fraud["spec"]["name"] == "Fraud detector (v2)"
    assert fraud["spec"]["predictionThreshold"] == 0.35
    assert fraud["spec"]["version"] == {
        "source": "./fraud-detector-v2",
        "baseEnvironmentId": "64d2ba178dd3f0b1fa2162f0",
        "maximumMemory": "1Gi",
        "replicas": 2,
        "networkEgressPolicy": "NONE",
        "requiredMetadataValues": [{"fieldName": "TEAM", "value": "risk"}],
        "runtimeParameters": {
            "AMOUNT_CAP": 25000,
            "BLOCKLIST": "merchant-7731,merchant-0042",
            "EXPLAIN": True,
            "STORE_CREDS": {"credentialId": CRED_S3},
        },
    }
    assert fraud["spec"]["sharing"] == [
        {"username": "alice@example.com", "role": "OWNER", "canShare": True},
        {"username": "bob@example.com", "role": "USER", "canShare": False},
        {"username": "gitops-bot@example.com", "role": "OWNER", "canShare": True},
    ]
    source = out / "models/fraud-detector-v2"
    assert sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()) == [
        "custom.py",
        "model-metadata.yaml",
        "requirements.txt",
        "tests/test_custom.py",
    ]
    assert "data * 2" in (source / "custom.py").read_text()  # the newest version's files

    retrain = yaml.safe_load((out / "jobs/nightly-retrain.yaml").read_text())
    assert retrain["spec"]["entryPoint"] == "run.sh"
    assert retrain["spec"]["resources"] == {"egressNetworkPolicy": "public"}
    assert retrain["spec"]["runtimeParameters"]["DATA_CREDENTIALS"] == {"credentialId": CRED_S3}
    assert {
        "shareRecipientType": "group",
        "id": GROUP_DATA_SCIENCE,
        "role": "USER",
        "canShare": False,
    } in retrain["spec"]["sharing"]
    assert {
        "shareRecipientType": "organization",
        "id": ORG_ID,
        "role": "OBSERVER",
        "canShare": False,
    } in retrain["spec"]["sharing"]
    assert (out / "jobs/nightly-retrain/lib/util.py").read_text() == "X = 1\n"
    assert (out / "schemas/custom-job.schema.json").is_file()
    assert "dr-gitops plan" in (out / "README.md").read_text()


@pytest.mark.parametrize(
    "fields",
    [
        {
            "targetType": "Multiclass",
            "targetName": "species",
            "classLabels": ["setosa", "versicolor", "virginica"],
        },
        {"targetType": "Anomaly", "calibratePredictions": True},
        {"targetType": "Unstructured"},
        {"targetType": "Transform"},
        {
            "targetType": "Binary",
            "targetName": "t",
            "positiveClassLabel": "1",
            "negativeClassLabel": "0",
        },
    ],
    ids=lambda f: f["targetType"],
)
def test_every_target_type_round_trips_without_changes(
    workspace: Workspace, tmp_path: Path, fields: dict[str, Any]
) -> None:
    model = workspace.client.create_model({"name": "Any model", "language": "r", **fields})
    workspace.client.create_version(
        model.id,
        files=uploads(tmp_path / "scratch", {"custom.R": "score <- function(data) data\n"}),
        settings={
            "baseEnvironmentId": ENV_SKLEARN,
            "desiredMemory": 256 * 1024**2,
            "maximumMemory": 1024**3,
            "requiresHa": False,
        },
    )
    repo = workspace.repo.path
    assert workspace.cli("export", "--out", str(repo)).code == 0
    workspace.commit("export")

    plan = _plan_json(workspace, repo)

    assert [(a["kind"], _changes(a)) for a in plan["actions"]] == [("adopt-model", {})]
