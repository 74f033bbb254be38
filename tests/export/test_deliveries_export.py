"""Export of registered models and deployments, and the round trip: the plan against the
same DataRobot adopts the deployments by ID and writes nothing, before and after apply."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from controller.remote import DataRobotClient
from tests.delivery.helpers import start
from tests.export.seeding import seed_account
from tests.fixtures.workspace import NAMESPACE, Workspace

STAGING = "6600000000000000000000c1"
PRODUCTION = "6600000000000000000000c2"


def _deliver_by_hand(client: DataRobotClient, model_id: str) -> dict[str, str]:
    """Register the model's newest version and deploy it three times, as a person would:
    production (settings, sharing), staging (defaults), and one another tool made."""
    latest = client.get_model(model_id).latest_version
    assert latest is not None
    package = client.register_version(
        latest.id,
        registered_model_name="Fraud detector",
        registered_model_description="Card fraud, registered by hand.",
    )
    client.update_registered_model(package.registered_model_id, {"isGlobal": True})
    production = client.create_deployment(
        {
            "modelPackageId": package.id,
            "label": "Fraud (production)",
            "description": "Scores live card traffic.",
            "predictionEnvironmentId": PRODUCTION,
            "importance": "HIGH",
        }
    )
    client.update_deployment_settings(
        production,
        {
            "associationId": {"columnNames": ["txn_id"], "requiredInPredictionRequests": True},
            "targetDrift": {"enabled": True},
            "predictionsDataCollection": {"enabled": True},
            "challengerModels": {"enabled": True},
        },
    )
    client.update_deployment_roles(
        production,
        [
            {"shareRecipientType": "user", "username": "alice@example.com", "role": "OWNER"},
            {"shareRecipientType": "user", "username": "bob@example.com", "role": "CONSUMER"},
        ],
    )
    staging = client.create_deployment(
        {
            "modelPackageId": package.id,
            "label": "Fraud (staging)",
            "predictionEnvironmentId": STAGING,
        }
    )
    foreign = client.create_deployment(
        {
            "modelPackageId": package.id,
            "label": "Fraud (other team)",
            "predictionEnvironmentId": STAGING,
            "userProvidedId": "other-team/fraud",
        }
    )
    return {"production": production, "staging": staging, "foreign": foreign}


def _export(workspace: Workspace, tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, Any]]:
    seeded = seed_account(workspace.client, tmp_path / "scratch")
    ids = _deliver_by_hand(workspace.client, seeded.fraud)
    repo = workspace.repo.path
    writes = workspace.writes()
    exported = workspace.cli("export", "--out", str(repo), "--output", "json")
    assert exported.code == 0, exported.out + exported.err
    assert workspace.writes() == writes  # an export only reads DataRobot
    workspace.commit("export from DataRobot")
    return repo, ids, json.loads(exported.out)


def _plan(workspace: Workspace, repo: Path, code: int = 0) -> dict[str, Any]:
    result = workspace.cli("plan", "--repo", str(repo), "--output", "json")
    assert result.code == code, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def test_export_writes_registry_and_deployments_with_settings_and_sharing(
    workspace: Workspace, tmp_path: Path
) -> None:
    repo, ids, report = _export(workspace, tmp_path)

    fraud = yaml.safe_load((repo / "models/fraud-detector-v2.yaml").read_text())
    assert fraud["spec"]["registry"] == {
        "name": "Fraud detector",
        "description": "Card fraud, registered by hand.",
        "global": True,
    }
    assert "registry" not in yaml.safe_load((repo / "models/house-prices.yaml").read_text())["spec"]
    text = (repo / "deployments/fraud-production.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/deployment.schema.json\n")
    production = yaml.safe_load(text)
    assert production["metadata"] == {"name": "fraud-production"}
    assert production["spec"] == {
        "deploymentId": ids["production"],
        "label": "Fraud (production)",
        "description": "Scores live card traffic.",
        "model": "fraud-detector-v2",
        "version": "1.1",
        "predictionEnvironmentId": PRODUCTION,
        "importance": "HIGH",
        "settings": {
            "associationId": {
                "columnNames": ["txn_id"],
                "requiredInPredictionRequests": True,
                "autoGenerateId": False,
            },
            "targetDrift": True,
            "predictionsDataCollection": True,
            "challengerModels": True,
        },
        "sharing": [
            {"username": "alice@example.com", "role": "OWNER"},
            {"username": "bob@example.com", "role": "CONSUMER"},
            {"username": "gitops-bot@example.com", "role": "OWNER"},
        ],
    }
    staging = yaml.safe_load((repo / "deployments/fraud-staging.yaml").read_text())
    assert "settings" not in staging["spec"]  # all defaults: nothing declared
    assert staging["spec"]["deploymentId"] == ids["staging"]
    assert not (repo / "deployments/fraud-other-team.yaml").exists()
    skipped = [s for s in report["skipped"] if s["kind"] == "Deployment"]
    assert [(s["id"], "other-team/fraud" in s["reason"]) for s in skipped] == [
        (ids["foreign"], True)
    ]
    assert (repo / "schemas/deployment.schema.json").is_file()
    assert workspace.cli("validate", str(repo)).code == 0


def test_round_trip_adopts_deployments_by_id_and_plans_no_write(
    workspace: Workspace, tmp_path: Path
) -> None:
    repo, ids, _ = _export(workspace, tmp_path)
    before = {d.id for d in workspace.client.list_deployments()}

    plan = _plan(workspace, repo)

    delivery = [a for a in plan["actions"] if a["key"].startswith("Deployment/")]
    assert delivery == [], delivery  # no creation, no replacement, no settings, no sharing
    assert not [a for a in plan["actions"] if a["kind"] == "register-version"]
    assert [a["kind"] for a in plan["actions"]] == ["adopt-model"] * 3 + ["adopt-job"] * 2
    (note,) = [w for w in plan["warnings"] if "adopted by spec.deploymentId" in w]
    assert "Deployment/fraud-production" in note
    assert ids["staging"] in note

    applied = workspace.cli("apply", "--repo", str(repo))
    assert applied.code == 0, applied.out + applied.err
    again = workspace.cli("plan", "--repo", str(repo), "--detailed-exitcode")
    assert again.code == 0, again.out
    assert {d.id for d in workspace.client.list_deployments()} == before  # no duplicate


def test_adopted_deployment_drift_is_planned_against_its_id(
    workspace: Workspace, tmp_path: Path
) -> None:
    repo, ids, _ = _export(workspace, tmp_path)
    workspace.client.update_deployment(ids["staging"], {"label": "Renamed by hand"})
    workspace.client.update_deployment_settings(
        ids["production"], {"targetDrift": {"enabled": False}}
    )

    plan = _plan(workspace, repo)

    delivery = {
        (a["kind"], a["key"], a["targetId"])
        for a in plan["actions"]
        if a["key"].startswith("Deployment/")
    }
    assert delivery == {
        ("update-deployment", "Deployment/fraud-staging", ids["staging"]),
        ("update-deployment-settings", "Deployment/fraud-production", ids["production"]),
    }
    applied = workspace.cli("apply", "--repo", str(repo))
    assert applied.code == 0, applied.out + applied.err
    assert workspace.client.get_deployment(ids["staging"]).label == "Fraud (staging)"
    settings = workspace.client.get_deployment_settings(ids["production"])
    assert settings["targetDrift"] == {"enabled": True}
    again = workspace.cli("plan", "--repo", str(repo), "--detailed-exitcode")
    assert again.code == 0, again.out


def test_deployment_id_claimed_by_another_owner_is_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    repo, ids, _ = _export(workspace, tmp_path)
    path = repo / "deployments/fraud-staging.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["deploymentId"] = ids["foreign"]
    path.write_text(yaml.safe_dump(doc))
    workspace.commit("claim the other team's deployment")

    plan = _plan(workspace, repo, code=1)

    (blocked,) = [a for a in plan["actions"] if a["key"] == "Deployment/fraud-staging"]
    assert blocked["kind"] == "blocked"
    assert "other-team/fraud" in blocked["reason"], blocked["reason"]
    assert NAMESPACE not in blocked["reason"]


def test_status_lists_deployments_with_what_they_serve_and_their_state(
    workspace: Workspace, tmp_path: Path
) -> None:
    repo, ids, _ = _export(workspace, tmp_path)
    workspace.client.update_deployment(ids["staging"], {"label": "Renamed by hand"})

    result = workspace.cli("status", "--repo", str(repo), "--output", "json")

    assert result.code == 0, result.err
    rows = {
        o["name"]: (o["id"], o["version"], o["state"])
        for o in json.loads(result.out)["objects"]
        if o["kind"] == "Deployment"
    }
    assert rows == {
        "fraud-production": (ids["production"], "1.1", "in-sync"),
        "fraud-staging": (ids["staging"], "1.1", "drifted"),
    }
    text = workspace.cli("status", "--repo", str(repo)).out
    assert "Deployment/fraud-staging: deployment fields differ: label" in text


def test_export_of_deployments_this_namespace_made_keeps_their_names(
    workspace: Workspace, tmp_path: Path
) -> None:
    start(workspace)
    workspace.converge()
    out = tmp_path / "out"

    exported = workspace.cli("export", "--namespace", NAMESPACE, "--out", str(out))

    assert exported.code == 0, exported.out + exported.err
    prod = yaml.safe_load((out / "deployments/fraud-prod.yaml").read_text())["spec"]
    assert "deploymentId" not in prod  # found by userProvidedId, as before
    assert (prod["label"], prod["model"], prod["version"]) == ("Fraud (production)", "fraud", "1.0")
    assert prod["predictionEnvironmentId"] == PRODUCTION
    assert prod["importance"] == "HIGH"
    staging = yaml.safe_load((out / "deployments/fraud-staging.yaml").read_text())["spec"]
    assert staging["predictionEnvironmentId"] == STAGING
    model = yaml.safe_load((out / "models/fraud.yaml").read_text())["spec"]
    assert model["registry"] == {"name": "Fraud detector"}
