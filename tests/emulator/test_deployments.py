"""Deployed models (made with the admin route): frozen, undeletable, listed."""

from __future__ import annotations

import pytest


@pytest.fixture
def deployed(emulator_api):
    model = emulator_api.create_model(targetType="Binary", targetName="t")
    version = emulator_api.create_version(model["id"], {"custom.py": "x"})
    answer = emulator_api.admin(
        "POST", f"customModels/{model['id']}/deploy", json={"label": "prod"}
    )
    assert answer.status_code == 201
    return model, version, answer.json()


def test_deploying_freezes_the_version_and_counts_the_deployment(emulator_api, deployed):
    model, version, deployment = deployed
    assert deployment["customModelVersion"] == {"id": version["id"], "label": "1.0"}
    assert deployment["label"] == "prod"
    fresh = emulator_api.get(f"customModels/{model['id']}/").json()
    assert fresh["deploymentsCount"] == 1
    assert fresh["latestVersion"]["isFrozen"] is True


def test_a_deployed_model_cannot_be_deleted(emulator_api, deployed):
    model, _, _ = deployed
    answer = emulator_api.delete(f"customModels/{model['id']}/")
    assert answer.status_code == 409
    assert answer.json()["deploymentsLink"].endswith(
        f"/api/v2/customModelDeployments/?customModelIds={model['id']}"
    )


@pytest.mark.parametrize("field", ["targetName", "positiveClassLabel", "negativeClassLabel"])
def test_a_deployed_models_target_fields_are_locked(emulator_api, deployed, field):
    model, _, _ = deployed
    answer = emulator_api.patch(
        f"customModels/{model['id']}/",
        json={field: "x", "negativeClassLabel": "n", "positiveClassLabel": "p"}
        if field != "targetName"
        else {field: "x"},
    )
    assert answer.status_code == 409
    assert (
        emulator_api.patch(f"customModels/{model['id']}/", json={"description": "fine"}).status_code
        == 200
    )


def test_deployments_are_listed_and_filtered(emulator_api, deployed):
    model, _, deployment = deployed
    other = emulator_api.create_model()
    emulator_api.create_version(
        other["id"], {"a.py": "x"}, baseEnvironmentId="64d2ba178dd3f0b1fa2162f3"
    )
    emulator_api.admin("POST", f"customModels/{other['id']}/deploy").raise_for_status()
    listing = emulator_api.get("customModelDeployments/").json()
    assert listing["totalCount"] == 2
    only = emulator_api.get(f"customModelDeployments/?customModelIds={model['id']}").json()["data"]
    assert [d["id"] for d in only] == [deployment["id"]]
    by_env = emulator_api.get(
        "customModelDeployments/?environmentIds=64d2ba178dd3f0b1fa2162f3"
    ).json()["data"]
    assert [d["customModel"]["id"] for d in by_env] == [other["id"]]


def test_undeploying_allows_deleting_again(emulator_api, deployed):
    model, _, deployment = deployed
    assert emulator_api.admin("DELETE", f"deployments/{deployment['id']}/").status_code == 204
    assert emulator_api.get(f"customModels/{model['id']}/").json()["deploymentsCount"] == 0
    assert emulator_api.delete(f"customModels/{model['id']}/").status_code == 204


def test_deployment_logs(emulator_api, deployed):
    _, _, deployment = deployed
    log = emulator_api.get(f"customModelDeployments/{deployment['id']}/logs/")
    assert log.status_code == 200
    assert "Deployment is active" in log.text
    requested = emulator_api.post(f"customModelDeployments/{deployment['id']}/logs/")
    assert requested.status_code == 202
    log_id = requested.json()["statusId"]
    assert (
        emulator_api.get(f"customModelDeployments/{deployment['id']}/logs/{log_id}/").status_code
        == 200
    )
    assert (
        emulator_api.get(
            f"customModelDeployments/{deployment['id']}/logs/ffffffffffffffffffffffff/"
        ).status_code
        == 404
    )


def test_deploying_needs_a_version(emulator_api):
    model = emulator_api.create_model()
    assert emulator_api.admin("POST", f"customModels/{model['id']}/deploy").status_code == 422
    assert (
        emulator_api.admin("POST", "customModels/ffffffffffffffffffffffff/deploy").status_code
        == 404
    )


def test_model_limits_are_published(emulator_api):
    limits = emulator_api.get("customModelLimits/").json()
    assert limits["maxCustomModelReplicasPerDeployment"] == 8
