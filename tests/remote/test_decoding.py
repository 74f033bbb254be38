"""API JSON becomes the frozen live values, from recorded payloads.

``payloads/reference-*.json`` are the reference's own examples (placeholder values: every
field present); ``payloads/emulator-*.json`` were recorded from the emulator after making a
model with a version (git metadata, runtime parameters), a job, and sharing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from controller.model.live import LiveGrant, LiveItem, LiveRuntimeParameter
from controller.remote.apierrors import UnexpectedResponseError
from controller.remote.decoders import (
    MODEL_FIELDS,
    VERSION_SETTINGS,
    MalformedPayloadError,
    decoding,
    job_from_api,
    job_grant_from_api,
    model_from_api,
    model_grant_from_api,
    runtime_parameter_from_api,
    version_from_api,
)

PAYLOADS = Path(__file__).parent / "payloads"


def _load(name: str) -> Any:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def test_recorded_model_keeps_its_api_fields_identity_and_git_facts() -> None:
    model = model_from_api(_load("emulator-model-list")["data"][0])
    assert model.user_provided_id == "acme-models/fraud-detector"
    assert model.name == "Fraud detector"
    assert model.fields["targetType"] == "Binary"
    assert model.fields["predictionThreshold"] == 0.5
    assert set(model.fields) <= set(MODEL_FIELDS)
    assert "id" not in model.fields
    assert "latestVersion" not in model.fields
    assert model.git is not None
    assert model.git.main_branch_commit_sha == "a" * 40
    assert model.created_by == "gitops-bot@example.com"


def test_recorded_model_embeds_its_newest_version_with_settings_by_api_name() -> None:
    model = model_from_api(_load("emulator-model-list")["data"][0])
    version = model.latest_version
    assert version is not None
    assert (version.label, version.major, version.minor) == ("1.0", 1, 0)
    assert version.model_id == model.id
    assert set(version.settings) == set(VERSION_SETTINGS)
    assert version.settings["maximumMemory"] == 536870912
    assert version.settings["networkEgressPolicy"] == "NONE"
    assert sorted(version.item_by_path()) == ["custom.py", "model-metadata.yaml", "src/util.py"]
    assert version.item_by_path()["src/util.py"].file_name == "util.py"
    assert version.git is not None
    assert version.git.ref_name == "refs/heads/main"


def test_recorded_runtime_parameters_keep_definitions_and_values() -> None:
    version = model_from_api(_load("emulator-model-list")["data"][0]).latest_version
    assert version is not None
    params = {p.field_name: p for p in version.runtime_parameters}
    assert params["THRESHOLD"] == LiveRuntimeParameter(
        "THRESHOLD", "numeric", 0.5, 0.7, 0.7, min_value=0.0, max_value=1.0
    )
    assert params["S3_CREDS"].credential_type == "s3"
    assert params["S3_CREDS"].override_value == "65a000000000000000000001"
    assert params["MODE"].override_value is None
    assert params["MODE"].current_value == "fast"


def test_recorded_job_keeps_fields_items_entry_point_and_parameters() -> None:
    job = job_from_api(_load("emulator-job-list")["data"][0])
    assert job.name == "Nightly retrain"
    assert set(job.fields) == {
        "name",
        "description",
        "jobType",
        "environmentId",
        "environmentVersionId",
        "resources",
    }
    assert job.fields["resources"] == {"egressNetworkPolicy": "none", "resourceBundleId": None}
    assert job.entry_point == job.item_by_path()["run.sh"].id
    assert [p.field_name for p in job.runtime_parameters] == ["DEPLOYMENT_ID"]


def test_recorded_model_access_entries_are_user_grants() -> None:
    grants = [model_grant_from_api(e) for e in _load("emulator-model-access")["data"]]
    assert (
        LiveGrant("user", "alice@example.com", "USER", "650000000000000000000002", False) in grants
    )
    assert all(g.recipient_type == "user" for g in grants)


def test_recorded_job_roles_keep_recipient_type_name_and_id() -> None:
    grants = [job_grant_from_api(e) for e in _load("emulator-job-roles")["data"]]
    assert LiveGrant("group", "ml-platform", "EDITOR", "6500000000000000000000a1", False) in grants


def test_reference_examples_decode_without_loss_of_shape() -> None:
    model = model_from_api(_load("reference-model-list")["data"][0])
    assert model.latest_version is not None
    assert model.latest_version.items == (LiveItem("string", "string", "string"),)
    assert model.fields["classLabels"] == ["string"]
    job = job_from_api(_load("reference-job-list")["data"][0])
    assert job.runtime_parameters[0].field_name == "string"
    assert job.entry_point == "string"
    access = model_grant_from_api(_load("reference-model-access")["data"][0])
    assert access == LiveGrant("user", "string", "string", "string", True)
    role = job_grant_from_api(_load("reference-job-roles")["data"][0])
    assert role.recipient_type == "user"


def test_a_model_without_a_version_has_no_latest_version() -> None:
    model = model_from_api({"id": "m1", "name": "x", "latestVersion": None})
    assert model.latest_version is None
    assert model.deployments_count == 0


def test_a_version_label_is_made_from_its_numbers_when_missing() -> None:
    version = version_from_api({"id": "v", "versionMajor": 2, "versionMinor": 3}, "m")
    assert (version.label, version.model_id, version.items) == ("2.3", "m", ())


def test_a_runtime_value_that_is_not_a_scalar_is_kept_as_json_text() -> None:
    param = runtime_parameter_from_api(
        {"fieldName": "X", "type": "string", "overrideValue": {"a": 1}}
    )
    assert param.override_value == '{"a": 1}'


@pytest.mark.parametrize(
    ("decode", "payload"),
    [
        (model_from_api, {"name": "no id"}),
        (version_from_api, {"id": ""}),
        (job_from_api, {"id": 5}),
        (model_grant_from_api, {"role": "OWNER"}),
        (job_grant_from_api, {"role": "OWNER"}),
        (runtime_parameter_from_api, {"type": "string"}),
    ],
)
def test_payloads_missing_their_identity_are_malformed(decode: Any, payload: Any) -> None:
    with pytest.raises(MalformedPayloadError):
        decode(payload)


def test_malformed_payloads_become_api_errors_naming_the_route() -> None:
    with pytest.raises(UnexpectedResponseError) as caught, decoding("GET", "customModels/"):
        model_from_api({"name": "no id"})
    assert caught.value.route == "/api/v2/customModels/"
    assert "without `id`" in str(caught.value)


def test_decoded_field_maps_are_in_name_order_as_if_sorted() -> None:
    # The decoder builds them in name order without sorting: the basis digests and the
    # plan's JSON depend on that order.
    for raw in (*_load("emulator-model-list")["data"], *_load("reference-model-list")["data"]):
        model = model_from_api(raw)
        assert list(model.fields) == sorted(model.fields)
        if model.latest_version is not None:
            settings = model.latest_version.settings
            assert list(settings) == sorted(settings)
    version = version_from_api(
        {
            "id": "v",
            "maximumMemory": 1,
            "trainingData": {"datasetId": "d", "datasetVersionId": "dv"},
            "holdoutData": {"datasetId": "h", "partitionColumn": "p"},
            "baseEnvironmentId": "e",
        }
    )
    assert list(version.settings) == sorted(version.settings)
    assert "trainingDatasetId" in version.settings
