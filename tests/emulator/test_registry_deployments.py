"""Registry and deployments over raw HTTP: what CMA and the Terraform provider rely on that
the official client does not exercise (API-DELIVERY.md §4 to §6)."""

from __future__ import annotations

import time

STAGING = "6600000000000000000000c1"
EXTERNAL = "6600000000000000000000c3"


def _package(emulator_api, **body):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"custom.py": "x"})
    answer = emulator_api.post(
        "modelPackages/fromCustomModelVersion/",
        json={"customModelVersionId": version["id"], **body},
    )
    assert answer.status_code == 201, answer.text
    return model, version, answer


def _wait(emulator_api, location):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = emulator_api.get(location, allow_redirects=False)
        if answer.status_code == 303:
            return answer.headers["Location"]
        time.sleep(0.02)
    raise AssertionError("still running")


def _deploy(emulator_api, package_id, **body):
    body = {"modelPackageId": package_id, "label": "d", "predictionEnvironmentId": STAGING, **body}
    return emulator_api.post("deployments/fromModelPackage/", json=body)


def test_a_package_is_built_asynchronously_and_found_by_its_custom_model_version(
    emulator, emulator_api
):
    emulator.configure(asyncDelayMs=2000)  # still building at the reads below, under load
    _, version, answer = _package(emulator_api, registeredModelName="Fraud")
    package = answer.json()
    assert package["buildStatus"] == "inProgress"
    assert package["modelId"] == version["id"]
    assert package["importMeta"] is not None
    path = f"registeredModels/{package['registeredModelId']}/versions/{package['id']}/"
    assert emulator_api.get(path).json()["buildStatus"] == "inProgress"
    target = _wait(emulator_api, answer.headers["Location"])
    assert target.endswith(f"/api/v2/modelPackages/{package['id']}/")
    assert emulator_api.get(path).json()["buildStatus"] == "complete"
    found = emulator_api.get("modelPackages/", params={"modelId": version["id"]}).json()
    assert [p["id"] for p in found["data"]] == [package["id"]]
    registered = emulator_api.get(f"registeredModels/{package['registeredModelId']}/").json()
    assert registered["description"] == ""
    assert registered["lastVersionNum"] == 1
    both = emulator_api.post(
        "modelPackages/fromCustomModelVersion/",
        json={
            "customModelVersionId": version["id"],
            "registeredModelName": "x",
            "registeredModelId": package["registeredModelId"],
        },
    )
    assert both.status_code == 422


def test_deployments_launch_are_unique_by_user_provided_id_and_listed_by_it(emulator, emulator_api):
    model, version, answer = _package(emulator_api)
    package_id = answer.json()["id"]
    # Long enough that the two reads below see it launching on a loaded machine (at 200 ms
    # it was active already at load average 15).
    emulator.configure(asyncDelayMs=2000)
    created = _deploy(emulator_api, package_id, userProvidedId="ns/fraud")
    assert created.status_code == 202
    deployment_id = created.json()["id"]
    assert emulator_api.get(f"deployments/{deployment_id}/").json()["status"] == "launching"
    seen = emulator_api.get("customModelDeployments/", params={"customModelIds": model["id"]})
    assert seen.json()["data"][0]["status"] == "launching"
    assert _wait(emulator_api, created.headers["Location"]).endswith(
        f"/api/v2/deployments/{deployment_id}/"
    )
    assert emulator_api.get(f"deployments/{deployment_id}/").json()["status"] == "active"
    assert _deploy(emulator_api, package_id, userProvidedId="ns/fraud").status_code == 422
    other = _deploy(emulator_api, package_id, label="other")
    assert other.status_code == 202
    listed = emulator_api.get("deployments/", params={"userProvidedId": "ns/fraud"}).json()
    assert [d["id"] for d in listed["data"]] == [deployment_id]
    # CMA sends filters as a JSON body on GET: ignored
    assert emulator_api.get("deployments/", json={"limit": 1}).json()["totalCount"] == 2
    assert _deploy(emulator_api, package_id, predictionEnvironmentId=EXTERNAL).status_code == 422
    assert _deploy(emulator_api, package_id, importance="URGENT").status_code == 422

    served = emulator_api.get(f"customModels/{model['id']}/").json()
    assert served["deploymentsCount"] == 2
    assert emulator_api.get(f"customModels/{model['id']}/versions/{version['id']}/").json()[
        "isFrozen"
    ]
    cmd = emulator_api.get("customModelDeployments/", params={"customModelIds": model["id"]})
    assert {d["id"] for d in cmd.json()["data"]} == {deployment_id, other.json()["id"]}
    assert emulator_api.delete(f"customModels/{model['id']}/").status_code == 409
    assert (
        emulator_api.patch(f"deployments/{deployment_id}/", json={"label": "x"}).status_code == 204
    )
    assert emulator_api.delete(f"deployments/{deployment_id}/").status_code == 204
    assert emulator_api.get(f"deployments/{deployment_id}/").status_code == 404
    assert emulator_api.get(f"customModels/{model['id']}/").json()["deploymentsCount"] == 1


def test_the_admin_deploy_route_keeps_working_beside_real_deployments(emulator_api):
    model, _, answer = _package(emulator_api)
    _deploy(emulator_api, answer.json()["id"])
    admin = emulator_api.admin("POST", f"customModels/{model['id']}/deploy")
    assert admin.status_code == 201
    assert emulator_api.get(f"customModels/{model['id']}/").json()["deploymentsCount"] == 2
    assert (
        emulator_api.get("deployments/").json()["totalCount"] == 1
    )  # no package, no /deployments/
    assert emulator_api.admin("DELETE", f"deployments/{admin.json()['id']}/").status_code == 204
    assert emulator_api.get(f"customModels/{model['id']}/").json()["deploymentsCount"] == 1


def test_settings_rules_and_replacement_of_a_package_still_building(emulator, emulator_api):
    _, _, answer = _package(emulator_api)
    created = _deploy(emulator_api, answer.json()["id"])
    deployment_id = created.json()["id"]
    time.sleep(0.1)
    settings = emulator_api.get(f"deployments/{deployment_id}/settings/").json()
    assert settings["predictionIntervals"] == {"enabled": False, "percentiles": []}
    path = f"deployments/{deployment_id}/settings/"
    assert emulator_api.patch(path, json={"segmentAnalysis": {"attributes": []}}).status_code == 422
    assert emulator_api.patch(path, json={"colour": {"enabled": True}}).status_code == 422
    changed = emulator_api.patch(path, json={"targetDrift": {"enabled": True}})
    assert changed.status_code == 202
    assert _wait(emulator_api, changed.headers["Location"]).endswith(
        f"/deployments/{deployment_id}/"
    )
    assert emulator_api.get(path).json()["targetDrift"] == {"enabled": True}
    challenger = emulator_api.post(
        f"deployments/{deployment_id}/challengers/",
        json={"modelPackageId": answer.json()["id"], "name": "c"},
    )
    assert challenger.status_code == 422  # challengers are not enabled

    emulator.configure(asyncDelayMs=60_000)
    _, _, building = _package(emulator_api, registeredModelId=answer.json()["registeredModelId"])
    validation = emulator_api.post(
        f"deployments/{deployment_id}/model/validation/",
        json={"modelPackageId": building.json()["id"]},
    ).json()
    assert validation["status"] == "failing"
    assert validation["checks"]["modelPackageBuild"]["status"] == "failing"
    refused = emulator_api.patch(
        f"deployments/{deployment_id}/model/",
        json={"modelPackageId": building.json()["id"], "reason": "OTHER"},
    )
    assert refused.status_code == 422
    assert refused.json()["checks"]["modelPackageBuild"]["status"] == "failing"
    bad_reason = emulator_api.patch(
        f"deployments/{deployment_id}/model/",
        json={"modelPackageId": answer.json()["id"], "reason": "WHIM"},
    )
    assert bad_reason.status_code == 422


def test_a_replacement_resets_the_settings_it_is_told_to(emulator, emulator_api):
    _, _, first = _package(emulator_api, registeredModelName="R")
    rm_id = first.json()["registeredModelId"]
    _, _, second = _package(emulator_api, registeredModelId=rm_id)
    deployment_id = _deploy(emulator_api, first.json()["id"]).json()["id"]
    time.sleep(0.1)
    path = f"deployments/{deployment_id}/settings/"
    emulator_api.patch(
        path, json={"targetDrift": {"enabled": True}, "featureDrift": {"enabled": True}}
    )
    emulator.configure(replacementResetsSettings=["targetDrift"], asyncDelayMs=60_000)
    replaced = emulator_api.patch(
        f"deployments/{deployment_id}/model/",
        json={"modelPackageId": second.json()["id"], "reason": "SCHEDULED_REFRESH"},
    )
    assert replaced.status_code == 202, replaced.text
    settings = emulator_api.get(path).json()
    assert settings["targetDrift"] == {"enabled": False}
    assert settings["featureDrift"] == {"enabled": True}
    served = emulator_api.get(f"deployments/{deployment_id}/").json()
    assert served["modelPackage"]["id"] == second.json()["id"]
    assert served["status"] == "replacingModel"


def test_the_state_dump_carries_builds_tests_packages_and_deployments(emulator, emulator_api):
    emulator.configure(dependencyBuildMs=0)
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"a.py": "x", "requirements.txt": "numpy\n"})
    emulator_api.post(f"customModels/{model['id']}/versions/{version['id']}/dependencyBuild/")
    answer = emulator_api.post(
        "modelPackages/fromCustomModelVersion/", json={"customModelVersionId": version["id"]}
    )
    deployment_id = _deploy(emulator_api, answer.json()["id"], userProvidedId="ns/d").json()["id"]
    state = emulator_api.admin("GET", "state").json()
    emulator_api.admin("POST", "reset")
    assert emulator_api.get("deployments/").json()["totalCount"] == 0
    assert emulator_api.admin("PUT", "state", json=state).status_code == 200
    build = emulator_api.get(
        f"customModels/{model['id']}/versions/{version['id']}/dependencyBuild/"
    )
    assert build.json()["buildStatus"] == "success"
    assert emulator_api.get(f"deployments/{deployment_id}/").json()["userProvidedId"] == "ns/d"
    registered = emulator_api.get("registeredModels/").json()["data"]
    assert [r["id"] for r in registered] == [answer.json()["registeredModelId"]]
    assert emulator_api.get(f"customModels/{model['id']}/").json()["deploymentsCount"] == 1


def test_faults_reach_the_new_routes_and_userprovidedid_finds_what_a_lost_answer_made(
    emulator, emulator_api
):
    _, _, answer = _package(emulator_api)
    emulator.set_faults(
        {
            "script": [
                {
                    "method": "POST",
                    "route": "/api/v2/deployments/fromModelPackage/",
                    "status": 503,
                    "when": "after",
                }
            ]
        }
    )
    lost = _deploy(emulator_api, answer.json()["id"], userProvidedId="ns/lost")
    assert lost.status_code == 503
    found = emulator_api.get("deployments/", params={"userProvidedId": "ns/lost"}).json()
    assert found["totalCount"] == 1  # the change happened; a retry must look before it creates
    assert _deploy(emulator_api, answer.json()["id"], userProvidedId="ns/lost").status_code == 422
    routes = emulator.stats()["routes"]
    assert routes["POST /api/v2/deployments/fromModelPackage/"]["statuses"] == {"503": 1, "422": 1}
