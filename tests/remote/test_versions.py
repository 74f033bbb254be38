"""Version calls against the emulator: the three ways to create, metadata, lookup, download."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from controller.model.live import LiveModel
from controller.model.values import GitModelVersion
from controller.remote import DataRobotClient, FileUpload, RequestCounter, apierrors
from emulator.server import EmulatorServer
from tests.fixtures.remote import ENVIRONMENT_ID, model_fields, set_faults, write_files

SHA_1 = "1" * 40
SHA_2 = "2" * 40
METADATA = """name: fraud
type: inference
targetType: binary
runtimeParameterDefinitions:
  - fieldName: THRESHOLD
    type: numeric
    defaultValue: 0.5
  - fieldName: MODE
    type: string
    defaultValue: fast
"""


def _git(sha: str) -> GitModelVersion:
    return GitModelVersion(f"https://github.com/acme/m/commit/{sha}", sha, None, "refs/heads/main")


@pytest.fixture
def model(dr_client: DataRobotClient) -> LiveModel:
    return dr_client.create_model(model_fields("versioned"))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    write_files(
        root,
        {
            "custom.py": "def score(d, m, **k):\n    return d\n",
            "model-metadata.yaml": METADATA,
            "lib/util.py": "X = 1\n",
        },
    )
    return root


def _first_version(client: DataRobotClient, model: LiveModel, source: Path) -> str:
    files = [FileUpload(source / p, p) for p in ("custom.py", "model-metadata.yaml", "lib/util.py")]
    version = client.create_version(
        model.id,
        files=files,
        settings={"baseEnvironmentId": ENVIRONMENT_ID, "maximumMemory": 536870912, "replicas": 1},
        runtime_parameter_values=[{"fieldName": "THRESHOLD", "type": "numeric", "value": 0.8}],
        git_model_version=_git(SHA_1),
    )
    return version.id


def test_a_clean_version_holds_exactly_the_uploaded_files_and_settings(
    dr_client: DataRobotClient, model: LiveModel, source: Path
) -> None:
    version_id = _first_version(dr_client, model, source)
    version = dr_client.get_version(model.id, version_id)
    assert version.label == "1.0"
    assert sorted(version.item_by_path()) == ["custom.py", "lib/util.py", "model-metadata.yaml"]
    assert version.settings["maximumMemory"] == 536870912
    assert version.settings["baseEnvironmentId"] == ENVIRONMENT_ID
    assert version.git == _git(SHA_1)
    values = {p.field_name: p.override_value for p in version.runtime_parameters}
    assert values == {"THRESHOLD": 0.8, "MODE": None}
    assert dr_client.get_model(model.id).latest_version == version


def test_a_version_from_latest_replaces_adds_and_deletes_files(
    dr_client: DataRobotClient, model: LiveModel, source: Path
) -> None:
    first = dr_client.get_version(model.id, _first_version(dr_client, model, source))
    new = write_files(source, {"custom.py": "# changed\n", "extra/new.txt": "hello"})
    version = dr_client.create_version_from_latest(
        model.id,
        files=new,
        files_to_delete=[first.item_by_path()["lib/util.py"].id],
        git_model_version=_git(SHA_2),
    )
    assert version.label == "1.1"
    assert sorted(version.item_by_path()) == ["custom.py", "extra/new.txt", "model-metadata.yaml"]
    assert version.settings["maximumMemory"] == 536870912  # settings carried over
    assert version.git is not None
    assert version.git.main_branch_commit_sha == SHA_2


def test_a_settings_only_version_uploads_nothing_and_changes_settings(
    dr_client: DataRobotClient, model: LiveModel, source: Path, request_counter: RequestCounter
) -> None:
    first = dr_client.get_version(model.id, _first_version(dr_client, model, source))
    version = dr_client.create_version_with_settings(
        model.id,
        is_major_update=True,
        settings={
            "replicas": 3,
            "networkEgressPolicy": "PUBLIC",
            "requiredMetadataValues": [],
        },
        runtime_parameter_values=[
            {"fieldName": "THRESHOLD", "type": "numeric", "value": None},
            {"fieldName": "MODE", "type": "string", "value": "slow"},
        ],
    )
    assert (version.major, version.minor) == (2, 0)
    assert version.settings["replicas"] == 3
    assert version.settings["networkEgressPolicy"] == "PUBLIC"
    assert [i.file_path for i in version.items] == [i.file_path for i in first.items]
    values = {p.field_name: p.override_value for p in version.runtime_parameters}
    assert values == {"THRESHOLD": None, "MODE": "slow"}


def test_metadata_updates_change_the_version_in_place(
    dr_client: DataRobotClient, model: LiveModel, source: Path
) -> None:
    version_id = _first_version(dr_client, model, source)
    updated = dr_client.update_version_metadata(
        model.id, version_id, description="after merge", git_model_version=_git(SHA_2)
    )
    assert updated.id == version_id
    assert updated.description == "after merge"
    assert updated.git is not None
    assert updated.git.main_branch_commit_sha == SHA_2
    assert len(dr_client.list_versions(model.id)) == 1


def test_versions_are_found_by_the_commit_they_were_made_from(
    dr_client: DataRobotClient, model: LiveModel, source: Path
) -> None:
    _first_version(dr_client, model, source)
    dr_client.create_version_with_settings(
        model.id, settings={"replicas": 2}, git_model_version=_git(SHA_2)
    )
    assert [v.label for v in dr_client.list_versions(model.id)] == ["1.1", "1.0"]
    assert [v.label for v in dr_client.list_versions(model.id, main_branch_commit_sha=SHA_1)] == [
        "1.0"
    ]
    assert dr_client.list_versions(model.id, main_branch_commit_sha="3" * 40) == []


def test_a_version_downloads_as_a_zip_of_its_files(
    dr_client: DataRobotClient, model: LiveModel, source: Path, tmp_path: Path
) -> None:
    version_id = _first_version(dr_client, model, source)
    target = dr_client.download_version(model.id, version_id, tmp_path / "out" / "v.zip")
    with zipfile.ZipFile(target) as archive:
        names = set(archive.namelist())
        assert {"custom.py", "lib/util.py", "model-metadata.yaml"} <= names
        assert archive.read("lib/util.py") == b"X = 1\n"
    assert [p.name for p in target.parent.iterdir()] == ["v.zip"]  # no partial left behind


def test_a_download_retried_after_a_dropped_connection_still_completes(
    emulator: EmulatorServer,
    dr_client: DataRobotClient,
    model: LiveModel,
    source: Path,
    tmp_path: Path,
) -> None:
    version_id = _first_version(dr_client, model, source)
    route = "/api/v2/customModels/{customModelId}/versions/{customModelVersionId}/download/"
    set_faults(emulator, script=[{"method": "GET", "route": route, "dropConnection": True}])
    target = dr_client.download_version(model.id, version_id, tmp_path / "v.zip")
    assert zipfile.is_zipfile(target)


def test_a_multipart_version_create_is_resent_after_429_with_its_files(
    emulator: EmulatorServer, dr_client: DataRobotClient, model: LiveModel, source: Path
) -> None:
    route = "/api/v2/customModels/{customModelId}/versions/"
    set_faults(
        emulator, script=[{"method": "POST", "route": route, "status": 429, "retryAfter": 0}]
    )
    version = dr_client.get_version(model.id, _first_version(dr_client, model, source))
    assert len(version.items) == 3
    assert len(dr_client.list_versions(model.id)) == 1


def test_a_missing_model_is_not_found_for_version_calls(dr_client: DataRobotClient) -> None:
    with pytest.raises(apierrors.NotFoundError):
        dr_client.list_versions("0" * 24)
