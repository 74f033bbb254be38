"""Custom model calls against the emulator: create, read, list across pages, update, delete."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from controller.model.values import GitModelVersion
from controller.remote import DataRobotClient, RequestCounter, apierrors
from emulator.server import EmulatorServer
from tests.fixtures.remote import (
    ENVIRONMENT_ID,
    emulator_stats,
    fast_settings,
    model_fields,
    set_faults,
    write_files,
)

GIT = GitModelVersion(
    commit_url="https://github.com/acme/models/commit/" + "b" * 40,
    main_branch_commit_sha="b" * 40,
    pull_request_commit_sha=None,
    ref_name="refs/heads/main",
)


def test_a_created_model_reads_back_with_its_fields_and_git_facts(
    dr_client: DataRobotClient,
) -> None:
    created = dr_client.create_model(
        model_fields("fraud", description="Scores"), git_model_version=GIT
    )
    fetched = dr_client.get_model(created.id)
    assert fetched == created
    assert fetched.user_provided_id == "tests/fraud"
    assert fetched.fields["customModelType"] == "inference"
    assert fetched.fields["description"] == "Scores"
    assert fetched.git == GIT
    assert fetched.latest_version is None


def test_a_second_model_with_the_same_user_provided_id_is_a_validation_error(
    dr_client: DataRobotClient,
) -> None:
    dr_client.create_model(model_fields("unique"))
    with pytest.raises(apierrors.ValidationError) as caught:
        dr_client.create_model(model_fields("unique"))
    assert (caught.value.server_message or "").startswith(
        "Cannot create a custom model with a user provided ID"
    )


def test_an_invalid_body_names_the_field_the_server_rejected(dr_client: DataRobotClient) -> None:
    with pytest.raises(apierrors.ValidationError) as caught:
        dr_client.create_model(model_fields("bad", targetType="Sideways"))
    assert "targetType" in caught.value.errors


def test_listing_follows_next_across_pages(
    emulator: EmulatorServer, dr_client: DataRobotClient, request_counter: RequestCounter
) -> None:
    for index in range(23):
        dr_client.create_model(model_fields(f"m{index:02d}"))
    request_counter.reset()
    models = dr_client.list_models(page_size=10)
    assert len(models) == 23
    assert len({m.id for m in models}) == 23
    assert [m.name for m in models[:2]] == ["m22", "m21"]  # newest first
    assert request_counter.snapshot().count("GET", "/api/v2/customModels/") == 3
    assert emulator_stats(emulator)["routes"]["GET /api/v2/customModels/"]["count"] == 3


def test_search_narrows_the_list(dr_client: DataRobotClient) -> None:
    dr_client.create_model(model_fields("alpha-model"))
    dr_client.create_model(model_fields("beta-model"))
    assert [m.name for m in dr_client.list_models(search="alpha")] == ["alpha-model"]


def test_an_update_changes_fields_and_records_git(dr_client: DataRobotClient) -> None:
    model = dr_client.create_model(model_fields("patched"))
    updated = dr_client.update_model(
        model.id, {"description": "new", "predictionThreshold": 0.7}, git_model_version=GIT
    )
    assert updated.fields["description"] == "new"
    assert updated.fields["predictionThreshold"] == 0.7
    assert dr_client.get_model(model.id).git == GIT


def test_a_deleted_model_is_gone_and_deleting_it_again_is_not_found(
    dr_client: DataRobotClient,
) -> None:
    model = dr_client.create_model(model_fields("doomed"))
    dr_client.delete_model(model.id)
    with pytest.raises(apierrors.NotFoundError) as caught:
        dr_client.get_model(model.id)
    assert caught.value.route == "/api/v2/customModels/{customModelId}/"
    with pytest.raises(apierrors.NotFoundError):
        dr_client.delete_model(model.id)


def test_a_deployed_model_cannot_be_deleted_and_says_why(
    emulator: EmulatorServer, dr_client: DataRobotClient, tmp_path: Path
) -> None:
    model = dr_client.create_model(model_fields("deployed"))
    files = write_files(tmp_path, {"custom.py": "x = 1\n"})
    dr_client.create_version(model.id, files=files, settings={"baseEnvironmentId": ENVIRONMENT_ID})
    deploy = f"{emulator.url}/__emulator__/customModels/{model.id}/deploy"
    requests.post(deploy, json={}, timeout=10).raise_for_status()
    assert dr_client.get_model(model.id).deployments_count == 1
    with pytest.raises(apierrors.ConflictError) as caught:
        dr_client.delete_model(model.id)
    assert caught.value.status == 409
    assert "deployed" in str(caught.value)


def test_the_tokens_user_is_known(dr_client: DataRobotClient) -> None:
    info = dr_client.account_info()
    assert info is not None
    assert info.username == "gitops-bot@example.com"
    assert info.organization_id == "6500000000000000000000f1"


def test_a_server_without_account_info_means_an_unknown_user(
    emulator: EmulatorServer, dr_client: DataRobotClient
) -> None:
    set_faults(
        emulator, script=[{"method": "GET", "route": "/api/v2/account/info/", "status": 404}]
    )
    assert dr_client.account_info() is None


def test_a_wrong_token_is_unauthorized_with_advice(emulator: EmulatorServer) -> None:
    client = DataRobotClient(fast_settings(emulator, token="not-the-token"))
    with client, pytest.raises(apierrors.UnauthorizedError) as caught:
        client.list_models()
    assert "DATAROBOT_API_TOKEN" in str(caught.value)
    assert "not-the-token" not in str(caught.value)
