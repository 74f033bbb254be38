"""Conversions, feature impact, prediction explanations, versions from a remote repository,
and the fields and query rules real clients meet (API-DELIVERY.md)."""

from __future__ import annotations

import json
import time

TRAIN = "6600000000000000000000d1"  # columns amount, merchant, country, hour, is_fraud, partition
REPOSITORY = "6600000000000000000000e1"


def _trained_version(emulator_api, **model_fields):
    model_fields.setdefault("targetType", "Binary")
    model_fields.setdefault("targetName", "is_fraud")
    model = emulator_api.create_model(
        isTrainingDataForVersionsPermanentlyEnabled=True, **model_fields
    )
    version = emulator_api.create_version(
        model["id"],
        {"custom.py": "x", "Main.java": "class Main {}"},
        trainingData=json.dumps({"datasetId": TRAIN}),
        holdoutData=json.dumps({"partitionColumn": "partition"}),
    )
    time.sleep(0.1)  # the assignment takes asyncDelayMs (50 ms here)
    return model, version


def test_a_conversion_runs_succeeds_for_java_and_can_be_listed(emulator, emulator_api):
    model, version = _trained_version(emulator_api)
    base = f"customModels/{model['id']}/versions/{version['id']}/conversions/"
    items = {i["filePath"]: i["id"] for i in version["items"]}
    emulator.configure(asyncDelayMs=60_000)
    answer = emulator_api.post(base, json={"mainProgramItemId": items["custom.py"]})
    assert answer.status_code == 202
    conversion_id = answer.json()["conversionId"]
    running = emulator_api.get(f"{base}{conversion_id}/").json()
    assert running["conversionInProgress"] is True
    assert running["conversionSucceeded"] is None
    assert emulator_api.delete(f"{base}{conversion_id}/").status_code == 204
    assert emulator_api.delete(f"{base}{conversion_id}/").status_code == 422
    stopped = emulator_api.get(f"{base}{conversion_id}/").json()
    assert (stopped["shouldStop"], stopped["conversionSucceeded"]) == (True, False)

    emulator.configure(asyncDelayMs=0)
    java = emulator_api.post(base, json={"mainProgramItemId": items["Main.java"]})
    assert emulator_api.finished(java.headers["Location"]).status_code == 303
    listed = emulator_api.get(base).json()
    assert listed["totalCount"] == 2
    latest = emulator_api.get(base, params={"isLatest": "true"}).json()["data"]
    assert [c["id"] for c in latest] == [java.json()["conversionId"]]
    assert latest[0]["conversionSucceeded"] is True
    assert latest[0]["generatedMetadata"]["outputColumns"] == [["is_fraud"]]
    assert emulator_api.get(base, params={"isLatest": "yes"}).status_code == 422


def test_feature_impact_needs_training_data_then_scores_the_features(emulator_api):
    plain = emulator_api.create_model()
    bare = emulator_api.create_version(plain["id"], {"a.py": "x"})
    path = f"customModels/{plain['id']}/versions/{bare['id']}/featureImpact/"
    assert emulator_api.post(path, json={}).status_code == 422
    assert emulator_api.get(path).status_code == 404

    model, version = _trained_version(emulator_api)
    path = f"customModels/{model['id']}/versions/{version['id']}/featureImpact/"
    answer = emulator_api.post(path, json={"rowCount": 100})
    assert answer.status_code == 202
    again = emulator_api.post(path, json={"rowCount": 100})
    assert again.status_code == 404
    assert again.json()["jobId"] == answer.json()["statusId"]
    assert emulator_api.post(path, json={"rowCount": 10**5}).status_code == 422  # > rows
    assert emulator_api.finished(answer.headers["Location"]).status_code == 303
    impact = emulator_api.get(path).json()
    names = [f["featureName"] for f in impact["featureImpacts"]]
    assert sorted(names) == ["amount", "country", "hour", "merchant"]
    assert impact["featureImpacts"][0]["impactNormalized"] == 1.0
    assert impact["rowCount"] == 100


def test_prediction_explanations_initialization(emulator_api):
    model, version = _trained_version(emulator_api)
    answer = emulator_api.post(
        f"customModels/{model['id']}/versions/{version['id']}/predictionExplanationsInitialization/"
    )
    assert answer.status_code == 202
    assert emulator_api.finished(answer.headers["Location"]).status_code == 303
    legacy = emulator_api.post(
        "customModels/predictionExplanationsInitialization/",
        json={"customModelId": model["id"], "customModelVersionId": version["id"]},
    )
    assert legacy.status_code == 202
    untrained = emulator_api.create_model()
    bare = emulator_api.create_version(untrained["id"], {"a.py": "x"})
    refused = emulator_api.post(
        "customModels/predictionExplanationsInitialization/",
        json={"customModelId": untrained["id"], "customModelVersionId": bare["id"]},
    )
    assert refused.status_code == 422
    assert (
        refused.json()["message"]
        == "Specified custom model is not valid for prediction explanations."
    )


def test_versions_from_a_remote_repository(emulator_api):
    repositories = emulator_api.get("remoteRepositories/").json()["data"]
    assert [r["id"] for r in repositories] == [REPOSITORY]
    model = emulator_api.create_model()
    base = f"customModels/{model['id']}/versions/fromRepository/"
    answer = emulator_api.post(
        base,
        json={
            "repositoryId": REPOSITORY,
            "sourcePath": "fraud/",
            "baseEnvironmentId": "64d2ba178dd3f0b1fa2162f0",
        },
    )
    assert answer.status_code == 202, answer.text
    done = emulator_api.finished(answer.headers["Location"])
    version = emulator_api.get(done.headers["Location"]).json()
    assert sorted(i["filePath"] for i in version["items"]) == ["custom.py", "requirements.txt"]
    item = next(i for i in version["items"] if i["filePath"] == "custom.py")
    assert item["repositoryFilePath"] == "fraud/custom.py"
    assert version["dependencies"][0]["packageName"] == "scikit-learn"
    more = emulator_api.patch(base, json={"repositoryId": REPOSITORY, "sourcePath": ["README.md"]})
    done = emulator_api.finished(more.headers["Location"])
    version = emulator_api.get(done.headers["Location"]).json()
    assert sorted(i["filePath"] for i in version["items"]) == [
        "README.md",
        "custom.py",
        "requirements.txt",
    ]
    missing = emulator_api.post(base, json={"repositoryId": REPOSITORY, "sourcePath": "nope/"})
    assert missing.status_code == 422
    assert (
        emulator_api.post(base, json={"repositoryId": "ffffffffffffffffffffffff"}).status_code
        == 422
    )
    assert emulator_api.post(base, json={}).json()["errors"] == {"repositoryId": "is required"}


def test_fields_real_clients_send_beyond_the_reference_are_accepted(emulator_api):
    created = emulator_api.post(
        "customModels/",
        json={
            "name": "cma",
            "customModelType": "inference",
            "targetType": "Unstructured",
            "isUnstructuredModelKind": True,
        },
    )
    assert created.status_code == 201, created.text
    model = created.json()
    contradiction = emulator_api.post(
        "customModels/",
        json={
            "name": "x",
            "customModelType": "inference",
            "targetType": "Regression",
            "targetName": "y",
            "isUnstructuredModelKind": True,
        },
    )
    assert contradiction.status_code == 422
    config = {"trainingDatasetId": TRAIN, "holdoutDatasetId": "6600000000000000000000d2"}
    patched = emulator_api.patch(
        f"customModels/{model['id']}/", json={"externalMlopsStatsConfig": json.dumps(config)}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["externalMlopsStatsConfig"] == config
    # CMA sends list filters as a JSON body on GET: ignored, the query decides
    listed = emulator_api.get("customModels/", json={"limit": 1, "customModelIds": ["x"]})
    assert listed.status_code == 200
    assert listed.json()["totalCount"] == 1


def test_invalid_enum_values_in_query_parameters_are_422s(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    assert emulator_api.get(f"customModels/{model['id']}/download/?pps=maybe").status_code == 422
    path = f"customModels/{model['id']}/versions/{version['id']}/download/"
    assert emulator_api.get(f"{path}?pps=maybe").status_code == 422
    assert emulator_api.get(f"{path}?pps=false").status_code == 200
