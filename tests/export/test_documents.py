"""Live objects become manifests the engine reads back as unchanged."""

from __future__ import annotations

import pytest
import yaml

from controller.engine.export.documents import job_document, memory_quantity, model_document
from controller.engine.export.drafts import Files, Missing
from controller.engine.export.selection import Selected
from controller.engine.export.yamltext import to_yaml
from controller.manifests.quantities import memory_bytes
from controller.model.identity import Stamp, stamped
from controller.model.live import LiveGrant
from tests.export.livevalues import job, model, param, version

CRED = "65a1f0c2e4b0a1b2c3d4e5f6"
GROUP = "6500000000000000000000a1"


def _spec(text: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(text)["spec"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (128 * 1024**2, "128Mi"),
        (1024**3, "1Gi"),
        (1536 * 1024**2, "1536Mi"),
        (14 * 1024**3, "14Gi"),
        (500_000_000, "500M"),
        (2_000_000_000, "2G"),
        (300_000_001, 300_000_001),
        (536870912.0, "512Mi"),
        (100 * 1024**2, None),
        (15 * 1024**3, None),
        (True, None),
        ("512Mi", None),
    ],
)
def test_memory_is_written_as_the_shortest_exact_quantity(size: object, expected: object) -> None:
    assert memory_quantity(size) == expected
    if expected is not None:
        assert memory_bytes(expected) == size  # type: ignore[arg-type]


def test_a_binary_model_keeps_its_labels_threshold_and_description_without_stamp() -> None:
    live = model(
        "Fraud",
        fields={
            "targetType": "binary",
            "positiveClassLabel": "yes",
            "negativeClassLabel": "no",
            "predictionThreshold": 0.35,
            "description": stamped("Scores payments.", Stamp("ns", "fraud")),
            "language": "python",
        },
    )

    spec = _spec(to_yaml(model_document(Selected(live, "fraud", True), None, Files(1)).document))

    assert {k: v for k, v in spec.items() if k not in ("version",)} == {
        "name": "Fraud",
        "description": "Scores payments.",
        "targetType": "Binary",
        "targetName": "y",
        "positiveClassLabel": "yes",
        "negativeClassLabel": "no",
        "predictionThreshold": 0.35,
        "language": "python",
    }


def test_labels_of_other_target_types_are_not_written() -> None:
    live = model(
        "Anomalies",
        fields={"targetType": "Anomaly", "targetName": None, "calibratePredictions": True},
    )

    spec = _spec(to_yaml(model_document(Selected(live, "anomalies", False), (), Files(1)).document))

    assert "targetName" not in spec
    assert "predictionThreshold" not in spec
    assert spec["calibratePredictions"] is True
    assert "sharing" not in spec  # an empty list would be invalid


def test_version_settings_runtime_values_and_secrets() -> None:
    latest = version(
        settings={
            "maximumMemory": 2 * 1024**3,
            "desiredMemory": None,
            "replicas": 3,
            "requiresHa": True,
            "networkEgressPolicy": "public",
            "requiredMetadataValues": [
                {"fieldName": "B", "value": "2"},
                {"fieldName": "A", "value": "1"},
            ],
            "baseEnvironmentVersionId": "64d2ba178dd3f0b1fa2163b0",
        },
        runtime=(
            param("CAP", "numeric", 25000),
            param("MODE", "string", None, default="fast"),
            param("ON", "boolean", False),
            param("CREDS", "credential", CRED),
            param("SLACK_TOKEN", "string", "xoxb-123456789012-abcdef"),
        ),
        description="retrained on May data",
    )
    rendered = model_document(Selected(model(latest=latest), "fraud", False), None, Files(1))
    text = to_yaml(rendered.document)

    assert _spec(text)["version"] == {
        "source": "./fraud",
        "description": "retrained on May data",
        "baseEnvironmentId": "64d2ba178dd3f0b1fa2162f0",
        "maximumMemory": "2Gi",
        "replicas": 3,
        "requiresHa": True,
        "networkEgressPolicy": "PUBLIC",
        "requiredMetadataValues": [
            {"fieldName": "A", "value": "1"},
            {"fieldName": "B", "value": "2"},
        ],
        "runtimeParameters": {"CAP": 25000, "CREDS": {"credentialId": CRED}, "ON": False},
    }
    assert "xoxb-123456789012-abcdef" not in text
    assert "# SLACK_TOKEN: not exported, the value looks like a secret" in text
    assert any("SLACK_TOKEN" in note for note in rendered.notes)


def test_a_credential_that_is_not_an_id_is_never_written() -> None:
    latest = version(runtime=(param("CREDS", "credential", "hunter2"),))

    text = to_yaml(
        model_document(Selected(model(latest=latest), "m", False), None, Files(1)).document
    )

    assert "hunter2" not in text
    assert _spec(text)["version"]["runtimeParameters"] == {}


def test_settings_manifests_cannot_hold_are_left_out_with_a_comment() -> None:
    latest = version(settings={"maximumMemory": 64 * 1024**2, "replicas": 20})

    text = to_yaml(
        model_document(Selected(model(latest=latest), "m", False), None, Files(1)).document
    )

    assert "maximumMemory" not in _spec(text)["version"]
    assert "replicas" not in _spec(text)["version"]
    assert "# maximumMemory (67108864 bytes) is left out" in text


def test_a_description_too_long_for_a_manifest_is_kept_whole_and_reported() -> None:
    long = "x" * 9_800  # DataRobot takes 10,000; a manifest 9,500 (room for the stamp)
    rendered = job_document(Selected(job(description=long), "j", False), None, Files(1))

    text = to_yaml(rendered.document)
    assert _spec(text)["description"] == long  # never cut: that would change it in DataRobot
    assert "the description has 9800 characters; manifests take at most 9500" in text
    assert any("shorten it before applying" in line for line in rendered.notes)


def test_a_model_whose_files_are_incomplete_is_managed_without_its_version() -> None:
    files = Files(0, (Missing(None, "the download of version 1.2 failed: 503"),))

    text = to_yaml(model_document(Selected(model(), "fraud", False), None, files).document)

    assert "version" not in _spec(text)
    assert "#   - the download of version 1.2 failed: 503" in text
    assert "# version:" in text
    assert "#   source: ./fraud" in text


def test_job_sharing_names_users_and_identifies_groups_and_organizations() -> None:
    grants = (
        LiveGrant("organization", "Example Org", "OBSERVER", "6500000000000000000000f1", False),
        LiveGrant("group", "ml-platform", "user", GROUP, False),
        LiveGrant("user", "gitops-bot@example.com", "OWNER", "u1", True),
    )

    text = to_yaml(job_document(Selected(job(), "retrain", False), grants, Files(2)).document)

    assert _spec(text)["sharing"] == [
        {"username": "gitops-bot@example.com", "role": "OWNER", "canShare": True},
        {"shareRecipientType": "group", "id": GROUP, "role": "USER", "canShare": False},
        {
            "shareRecipientType": "organization",
            "id": "6500000000000000000000f1",
            "role": "OBSERVER",
            "canShare": False,
        },
    ]
    assert f"id: {GROUP}, role: USER, canShare: false}}  # ml-platform" in text


def test_a_job_keeps_entry_point_resources_and_values_but_not_its_stamp() -> None:
    live = job(
        description=stamped("Refits.", Stamp("ns", "retrain", "a" * 40, "digest")),
        runtime=(param("DAYS", "numeric", 7), param("PATH", "string", None)),
        resources={"egressNetworkPolicy": "PUBLIC", "resourceBundleId": None},
    )

    document = job_document(Selected(live, "retrain", True), None, Files(2)).document

    assert dict(document.data["metadata"]) == {"name": "retrain"}
    assert _spec(to_yaml(document)) == {
        "name": "Nightly retrain",
        "description": "Refits.",
        "jobType": "retraining",
        "environmentId": "64d2ba178dd3f0b1fa2162f2",
        "source": "./retrain",
        "entryPoint": "run.sh",
        "resources": {"egressNetworkPolicy": "public"},
        "runtimeParameters": {"DAYS": 7},
    }


def test_a_job_without_files_has_no_source() -> None:
    spec = _spec(
        to_yaml(job_document(Selected(job(paths=()), "empty", False), None, Files()).document)
    )

    assert "source" not in spec
    assert "entryPoint" not in spec


def test_hand_made_objects_are_marked_for_adoption_in_the_schema_modeline_format() -> None:
    text = to_yaml(model_document(Selected(model(), "fraud", False), None, Files(1)).document)

    assert (
        text.splitlines()[0]
        == "# yaml-language-server: $schema=../schemas/custom-model.schema.json"
    )
    assert yaml.safe_load(text)["metadata"] == {"name": "fraud", "adopt": True}


def test_training_and_holdout_data_are_written_as_the_version_shows_them() -> None:
    latest = version(
        settings={
            "trainingDatasetId": "6600000000000000000000d1",
            "trainingDatasetVersionId": "6600000000000000000002d1",
            "partitionColumn": "partition",
        }
    )
    rendered = model_document(Selected(model(latest=latest), "fraud", False), None, Files(1))
    block = _spec(to_yaml(rendered.document))["version"]
    assert block["trainingDatasetId"] == "6600000000000000000000d1"
    assert block["trainingDatasetVersionId"] == "6600000000000000000002d1"
    assert block["partitionColumn"] == "partition"
    assert "holdoutDatasetId" not in block
