"""Training and holdout data: on version create (async assignment), inherited, deprecated routes."""

from __future__ import annotations

import json
import time

TRAIN = "6600000000000000000000d1"  # fraud-train.csv, columns include "partition"
HOLDOUT = "6600000000000000000000d2"


def _model(emulator_api, **fields):
    fields.setdefault("isTrainingDataForVersionsPermanentlyEnabled", True)
    return emulator_api.create_model(**fields)


def _create(emulator_api, model, **form):
    return emulator_api.upload(
        f"customModels/{model['id']}/versions/",
        {"custom.py": "x = 1\n"},
        isMajorUpdate="true",
        baseEnvironmentId="64d2ba178dd3f0b1fa2162f0",
        **form,
    )


def test_training_data_is_assigned_asynchronously_then_inherited(emulator, emulator_api):
    emulator.configure(trainingDataMs=300)
    model = _model(emulator_api)
    answer = _create(
        emulator_api,
        model,
        trainingData=json.dumps({"datasetId": TRAIN}),
        holdoutData=json.dumps({"partitionColumn": "partition"}),
    )
    assert answer.status_code == 201, answer.text
    version = answer.json()
    assert version["trainingData"] == {
        "datasetId": TRAIN,
        "datasetVersionId": "6600000000000000000002d1",
        "datasetName": "fraud-train.csv",
        "assignmentInProgress": True,
        "assignmentError": None,
    }
    assert version["holdoutData"]["partitionColumn"] == "partition"
    path = f"customModels/{model['id']}/versions/{version['id']}/"
    latest = emulator_api.get(f"customModels/{model['id']}/").json()["latestVersion"]
    assert latest["trainingData"]["assignmentInProgress"] is True
    time.sleep(0.35)
    assert emulator_api.get(path).json()["trainingData"]["assignmentInProgress"] is False
    latest = emulator_api.get(f"customModels/{model['id']}/").json()["latestVersion"]
    assert latest["trainingData"]["assignmentInProgress"] is False

    inherited = emulator_api.create_version(model["id"], {"b.py": "y"}, method="PATCH")
    assert inherited["trainingData"]["datasetId"] == TRAIN
    assert inherited["holdoutData"]["partitionColumn"] == "partition"
    dropped = emulator_api.create_version(
        model["id"], {"b.py": "z"}, method="PATCH", keepTrainingHoldoutData="false"
    )
    assert dropped["trainingData"] is None


def test_a_partition_column_missing_from_the_dataset_is_an_assignment_error(emulator_api):
    model = _model(emulator_api)
    answer = _create(
        emulator_api,
        model,
        trainingData=json.dumps({"datasetId": TRAIN}),
        holdoutData=json.dumps({"partitionColumn": "fold"}),
    )
    assert answer.status_code == 201
    time.sleep(0.1)
    version = emulator_api.get(f"customModels/{model['id']}/versions/{answer.json()['id']}/")
    training = version.json()["trainingData"]
    assert training["assignmentInProgress"] is False
    assert "Partition column 'fold' was not found" in training["assignmentError"]["message"]


def test_bad_training_data_requests(emulator_api):
    plain = emulator_api.create_model()
    not_enabled = _create(emulator_api, plain, trainingData=json.dumps({"datasetId": TRAIN}))
    assert not_enabled.status_code == 422
    assert (
        "isTrainingDataForVersionsPermanentlyEnabled"
        in not_enabled.json()["errors"]["trainingData"]
    )
    model = _model(emulator_api)
    unknown = _create(
        emulator_api, model, trainingData=json.dumps({"datasetId": "6600000000000000000000ff"})
    )
    assert unknown.status_code == 404
    alone = _create(emulator_api, model, holdoutData=json.dumps({"partitionColumn": "partition"}))
    assert alone.status_code == 422
    dataset_holdout = _create(
        emulator_api,
        model,
        trainingData=json.dumps({"datasetId": TRAIN}),
        holdoutData=json.dumps({"datasetId": HOLDOUT}),
    )
    assert dataset_holdout.status_code == 422
    off = emulator_api.patch(
        f"customModels/{model['id']}/", json={"isTrainingDataForVersionsPermanentlyEnabled": False}
    )
    assert off.status_code == 422


def test_unstructured_models_take_a_holdout_dataset(emulator_api):
    model = _model(emulator_api, targetType="Unstructured", targetName=None)
    answer = _create(
        emulator_api,
        model,
        trainingData=json.dumps({"datasetId": TRAIN}),
        holdoutData=json.dumps({"datasetId": HOLDOUT}),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["holdoutData"]["datasetName"] == "fraud-holdout.csv"
    column = _create(
        emulator_api,
        model,
        trainingData=json.dumps({"datasetId": TRAIN}),
        holdoutData=json.dumps({"partitionColumn": "partition"}),
    )
    assert column.status_code == 422


def test_the_deprecated_version_route_makes_a_minor_version_with_training_data(emulator_api):
    model = _model(emulator_api)
    first = emulator_api.create_version(model["id"], {"a.py": "x"})
    answer = emulator_api.patch(
        f"customModels/{model['id']}/versions/withTrainingData/",
        json={
            "trainingData": {"datasetId": TRAIN},
            "holdoutData": {"partitionColumn": "partition"},
        },
    )
    assert answer.status_code == 202, answer.text
    version = answer.json()
    assert version["label"] == "1.1"
    assert version["trainingData"]["datasetId"] == TRAIN
    assert [i["filePath"] for i in version["items"]] == [i["filePath"] for i in first["items"]]
    time.sleep(0.1)
    done = emulator_api.get(answer.headers["Location"], allow_redirects=False)
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/versions/{version['id']}/")
    missing = emulator_api.patch(
        "customModels/ffffffffffffffffffffffff/versions/withTrainingData/",
        json={"trainingData": {"datasetId": TRAIN}},
    )
    assert missing.status_code == 404


def test_the_deprecated_model_route_assigns_until_versions_take_over(emulator_api):
    model = emulator_api.create_model()
    answer = emulator_api.patch(
        f"customModels/{model['id']}/trainingData/",
        json={"datasetId": TRAIN, "partitionColumn": "partition"},
    )
    assert answer.status_code == 202
    time.sleep(0.1)
    assert emulator_api.get(answer.headers["Location"], allow_redirects=False).status_code == 303
    assigned = emulator_api.get(f"customModels/{model['id']}/").json()
    assert assigned["trainingDatasetId"] == TRAIN
    assert assigned["trainingDataFileName"] == "fraud-train.csv"
    assert assigned["trainingDataAssignmentInProgress"] is False
    emulator_api.patch(
        f"customModels/{model['id']}/", json={"isTrainingDataForVersionsPermanentlyEnabled": True}
    )
    disabled = emulator_api.patch(
        f"customModels/{model['id']}/trainingData/", json={"datasetId": TRAIN}
    )
    assert disabled.status_code == 422
    assert "permanently disabled" in disabled.json()["message"]
