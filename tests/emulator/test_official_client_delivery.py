"""The official ``datarobot`` client's registry and deployment flows (API-DELIVERY.md §9),
unchanged, against the emulator."""

from __future__ import annotations

from pathlib import Path

import datarobot as dr
import pytest
from datarobot.enums import SHARING_ROLE
from datarobot.errors import ClientError
from datarobot.models.deployment.challenger import Challenger
from datarobot.models.deployment.sharing import DeploymentGrantSharedRoleWithId
from datarobot.models.model_registry import RegisteredModel, RegisteredModelVersion
from datarobot.models.sharing import SharingRole

pytestmark = pytest.mark.filterwarnings(
    "ignore:Using an empty collection:FutureWarning",
    "ignore::datarobot.errors.DataRobotDeprecationWarning",
)

SKLEARN = "64d2ba178dd3f0b1fa2162f0"
STAGING = "6600000000000000000000c1"
PRODUCTION = "6600000000000000000000c2"
ALICE = "650000000000000000000002"
TRAIN = "6600000000000000000000d1"


def _versions(tmp_path: Path, count: int = 2, **model_fields):
    model = dr.CustomInferenceModel.create(
        name="Fraud",
        target_type=dr.TARGET_TYPE.BINARY,
        target_name=model_fields.pop("target_name", "is_fraud"),
        positive_class_label="yes",
        negative_class_label="no",
    )
    versions = []
    for index in range(count):
        folder = tmp_path / f"v{index}"
        folder.mkdir(parents=True)
        (folder / "custom.py").write_text(f"VERSION = {index}\n")
        versions.append(
            dr.CustomModelVersion.create_clean(
                model.id, base_environment_id=SKLEARN, folder_path=str(folder)
            )
        )
    return model, versions


def test_registered_models_and_their_versions(official_client, tmp_path):
    _model, (v1, v2) = _versions(tmp_path)
    first = RegisteredModelVersion.create_for_custom_model_version(
        v1.id, name="fraud 1.0", registered_model_name="Fraud detector"
    )
    assert first.model_id == v1.id
    assert first.registered_model_version == 1
    second = RegisteredModelVersion.create_for_custom_model_version(
        v2.id, registered_model_id=first.registered_model_id
    )
    assert second.registered_model_version == 2
    with pytest.raises(ClientError) as taken:
        RegisteredModelVersion.create_for_custom_model_version(
            v2.id, registered_model_name="Fraud detector"
        )
    assert taken.value.status_code == 409
    assert "already in use" in str(taken.value)

    [registered] = RegisteredModel.list(search="fraud")
    assert registered.id == first.registered_model_id
    assert registered.last_version_num == 2
    assert [v.id for v in registered.list_versions()] == [second.id, first.id]
    assert registered.get_version(first.id).build_status == "complete"
    renamed = RegisteredModel.update(registered.id, "Fraud detector (cards)")
    assert renamed.name == "Fraud detector (cards)"
    assert RegisteredModel.get(registered.id).name == "Fraud detector (cards)"

    registered.share([SharingRole(role=SHARING_ROLE.USER, share_recipient_type="user", id=ALICE)])
    roles = {r.id: r.role for r in registered.get_shared_roles()}
    assert roles[ALICE] == "USER"
    RegisteredModel.archive(registered.id)
    assert RegisteredModel.list(search="fraud") == []


def test_deployments_created_read_listed_updated_and_deleted(official_client, tmp_path):
    [environment] = [e for e in dr.PredictionEnvironment.list() if e.id == STAGING]
    assert dr.PredictionEnvironment.get(STAGING).name == environment.name
    model, (v1, _) = _versions(tmp_path)
    package = RegisteredModelVersion.create_for_custom_model_version(
        v1.id, registered_model_name="Fraud detector"
    )
    deployment = dr.Deployment.create_from_registered_model_version(
        package.id,
        label="Fraud (staging)",
        prediction_environment_id=STAGING,
        importance="LOW",
        user_provided_id="team/fraud-staging",
    )
    assert deployment.status == "active"
    assert deployment.model["custom_model_image"]["custom_model_version_id"] == v1.id
    assert deployment.model_package["id"] == package.id
    assert dr.CustomModelVersion.get(model.id, v1.id).is_frozen
    assert dr.CustomInferenceModel.get(model.id).deployments_count == 1
    [listed] = dr.Deployment.list(search="staging")
    assert listed.id == deployment.id
    assert [
        d.id for d in RegisteredModel.get(package.registered_model_id).list_associated_deployments()
    ] == [deployment.id]
    assert [d.id for d in package.list_associated_deployments()] == [deployment.id]
    with pytest.raises(ClientError):  # the model a deployment serves cannot be deleted
        dr.CustomInferenceModel.get(model.id).delete()

    deployment.update(label="Fraud (staging v2)", description="cards")
    assert dr.Deployment.get(deployment.id).label == "Fraud (staging v2)"
    deployment.deactivate()
    assert dr.Deployment.get(deployment.id).status == "inactive"
    deployment.activate()
    assert dr.Deployment.get(deployment.id).status == "active"

    legacy = dr.Deployment.create_from_custom_model_version(
        v1.id, label="legacy", default_prediction_server_id="5a8ac9ab07a57a0001be501f"
    )
    assert legacy.model_package["id"] == package.id  # the existing package, found by modelId
    assert dr.CustomInferenceModel.get(model.id).deployments_count == 2

    deployment.update_shared_roles(
        [DeploymentGrantSharedRoleWithId(role="CONSUMER", share_recipient_type="user", id=ALICE)]
    )
    roles = {r.id: r.role for r in deployment.list_shared_roles()}
    assert roles[ALICE] == "CONSUMER"

    deployment.delete()
    legacy.delete()
    assert dr.Deployment.list() == []
    assert dr.CustomInferenceModel.get(model.id).deployments_count == 0


def test_model_replacement_validation_settings_and_challengers(official_client, tmp_path):
    _model, (v1, v2) = _versions(tmp_path)
    pkg1 = RegisteredModelVersion.create_for_custom_model_version(
        v1.id, registered_model_name="Fraud detector"
    )
    pkg2 = RegisteredModelVersion.create_for_custom_model_version(
        v2.id, registered_model_id=pkg1.registered_model_id
    )
    deployment = dr.Deployment.create_from_registered_model_version(
        pkg1.id, label="Fraud (production)", prediction_environment_id=PRODUCTION
    )
    status, _message, checks = deployment.validate_replacement_model(
        new_registered_model_version_id=pkg2.id
    )
    assert status == "warning"  # no passing custom model test for v2
    assert checks["custom_model_testing"]["status"] == "warning"
    assert checks["target_name"]["status"] == "passing"
    deployment.perform_model_replace(pkg2.id, reason="ACCURACY")
    assert dr.Deployment.get(deployment.id).model_package["id"] == pkg2.id
    deployment.replace_model(None, "OTHER", new_registered_model_version_id=pkg1.id)
    assert dr.Deployment.get(deployment.id).model["id"] == v1.id

    _other, (w1,) = _versions(tmp_path / "other", count=1, target_name="label")
    wrong = RegisteredModelVersion.create_for_custom_model_version(
        w1.id, registered_model_name="Other"
    )
    status, _, checks = deployment.validate_replacement_model(
        new_registered_model_version_id=wrong.id
    )
    assert status == "failing"
    assert checks["target_name"]["status"] == "failing"
    with pytest.raises(ClientError) as refused:
        deployment.perform_model_replace(wrong.id, reason="OTHER")
    assert refused.value.status_code == 422

    deployment.update_association_id_settings(
        column_names=["transaction_id"], required_in_prediction_requests=True
    )
    assert deployment.get_association_id_settings()["column_names"] == ["transaction_id"]
    deployment.update_drift_tracking_settings(target_drift_enabled=True, feature_drift_enabled=True)
    assert deployment.get_drift_tracking_settings()["target_drift"]["enabled"] is True
    with pytest.raises(ClientError):  # challengers need prediction data collection
        deployment.update_challenger_models_settings(challenger_models_enabled=True)
    deployment.update_predictions_data_collection_settings(enabled=True)
    deployment.update_challenger_models_settings(challenger_models_enabled=True)
    assert deployment.get_challenger_models_settings()["enabled"] is True
    deployment.update_segment_analysis_settings(
        segment_analysis_enabled=True, segment_analysis_attributes=["country"]
    )
    assert deployment.get_segment_analysis_settings()["attributes"] == ["country"]
    assert deployment.get_predictions_data_collection_settings()["enabled"] is True

    challenger = Challenger.create(deployment.id, pkg2.id, PRODUCTION, "v2 shadow")
    assert challenger.model_package["id"] == pkg2.id
    assert [c.id for c in Challenger.list(deployment.id)] == [challenger.id]
    challenger.update(name="v2 challenger")
    assert Challenger.get(deployment.id, challenger.id).name == "v2 challenger"
    challenger.delete()
    assert Challenger.list(deployment.id) == []

    environment = dr.PredictionEnvironment.create(
        name="Edge", platform="onPremise", supported_model_formats=["customModel"]
    )
    assert dr.PredictionEnvironment.get(environment.id).platform == "onPremise"
    challenger_env = Challenger.create(deployment.id, pkg2.id, environment.id, "edge")
    with pytest.raises(ClientError) as in_use:
        environment.delete()
    assert in_use.value.status_code == 409
    challenger_env.delete()
    environment.delete()
    assert environment.id not in {e.id for e in dr.PredictionEnvironment.list()}

    deployment.submit_actuals_from_catalog_async(
        dataset_id=TRAIN, actual_value_column="is_fraud", association_id_column="merchant"
    ).wait_for_completion()
