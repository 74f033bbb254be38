"""Custom model versions: files, numbering, freezing, settings, metadata, downloads."""

from __future__ import annotations

import io
import zipfile

import pytest

SKLEARN, GENAI = "64d2ba178dd3f0b1fa2162f0", "64d2ba178dd3f0b1fa2162f1"
SKLEARN_V1, SKLEARN_V2, GENAI_V2 = (
    "64d2ba178dd3f0b1fa2163a0",
    "64d2ba178dd3f0b1fa2163b0",
    "64d2ba178dd3f0b1fa2163b1",
)
GIT = {
    "commitUrl": "https://git.example.com/c/1",
    "mainBranchCommitSha": "c" * 40,
    "pullRequestCommitSha": None,
    "refName": "main",
}


def _paths(version):
    return {i["filePath"]: i["id"] for i in version["items"]}


def _contents(emulator_api, model_id, version_id):
    answer = emulator_api.get(f"customModels/{model_id}/versions/{version_id}/download/")
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    return {name: archive.read(name).decode() for name in archive.namelist()}


def test_post_makes_a_version_of_exactly_the_uploaded_files(emulator_api):
    model = emulator_api.create_model()
    emulator_api.create_version(model["id"], {"a.py": "1", "b.py": "2"})
    second = emulator_api.create_version(model["id"], {"c.py": "3"}, isMajorUpdate="false")
    assert list(_paths(second)) == ["c.py"]
    assert _contents(emulator_api, model["id"], second["id"]) == {"c.py": "3"}


def test_patch_starts_from_the_latest_replaces_by_path_and_deletes_by_item_id(emulator_api):
    model = emulator_api.create_model()
    first = emulator_api.create_version(model["id"], {"a.py": "1", "b.py": "2", "dir/c.py": "3"})
    ids = _paths(first)
    second = emulator_api.create_version(
        model["id"],
        {"a.py": "new", "d.py": "4"},
        method="PATCH",
        isMajorUpdate="false",
        filesToDelete=[ids["b.py"]],
    )
    after = _paths(second)
    assert list(after) == ["a.py", "dir/c.py", "d.py"]
    assert after["dir/c.py"] == ids["dir/c.py"]  # untouched: same item
    assert after["a.py"] != ids["a.py"]  # replaced: a new item
    assert _contents(emulator_api, model["id"], second["id"]) == {
        "a.py": "new",
        "dir/c.py": "3",
        "d.py": "4",
    }


def test_a_json_patch_makes_a_settings_only_version(emulator_api):
    model = emulator_api.create_model()
    first = emulator_api.create_version(model["id"], {"a.py": "1", "b.py": "2"})
    answer = emulator_api.patch(
        f"customModels/{model['id']}/versions/",
        json={
            "isMajorUpdate": "false",
            "replicas": 3,
            "filesToDelete": [_paths(first)["b.py"]],
            "gitModelVersion": GIT,
        },
    )
    assert answer.status_code == 201
    second = answer.json()
    assert list(_paths(second)) == ["a.py"]
    assert second["replicas"] == 3
    assert second["gitModelVersion"] == GIT
    assert second["baseEnvironmentVersionId"] == first["baseEnvironmentVersionId"]


def test_files_and_file_paths_pair_in_order(emulator_api):
    model = emulator_api.create_model()
    parts = [
        ("file", ("x", b"first")),
        ("file", ("y", b"second")),
        ("filePath", (None, "one/x.py")),
        ("filePath", (None, "two/y.py")),
        ("isMajorUpdate", (None, "true")),
        ("baseEnvironmentId", (None, SKLEARN)),
    ]
    version = emulator_api.post(f"customModels/{model['id']}/versions/", files=parts).json()
    assert _contents(emulator_api, model["id"], version["id"]) == {
        "one/x.py": "first",
        "two/y.py": "second",
    }
    assert {i["fileName"] for i in version["items"]} == {"x.py", "y.py"}


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([("file", ("a", b"x"))], "filePath"),
        ([("file", ("a", b"x")), ("filePath", (None, "../a.py"))], "filePath"),
        ([("file", ("a", b"x")), ("filePath", (None, "/etc/a.py"))], "filePath"),
        (
            [
                ("file", ("a", b"x")),
                ("file", ("b", b"y")),
                ("filePath", (None, "a.py")),
                ("filePath", (None, "./a.py")),
            ],
            "filePath",
        ),
        ([("filesToDelete", (None, "ffffffffffffffffffffffff"))], "filesToDelete"),
    ],
)
def test_bad_file_parts_are_a_422(emulator_api, parts, field):
    model = emulator_api.create_model()
    emulator_api.create_version(model["id"], {"a.py": "1"})
    parts = [*parts, ("isMajorUpdate", (None, "false"))]
    answer = emulator_api.patch(f"customModels/{model['id']}/versions/", files=parts)
    assert answer.status_code == 422
    assert field in answer.json()["errors"]


def test_versions_are_numbered_and_superseded_ones_frozen(emulator_api):
    model = emulator_api.create_model()
    labels = []
    for major in ("false", "false", "true", "false"):
        version = emulator_api.create_version(
            model["id"], {"a.py": "x"}, "PATCH", isMajorUpdate=major, baseEnvironmentId=SKLEARN
        )
        labels.append(version["label"])
    assert labels == ["1.0", "1.1", "2.0", "2.1"]
    listing = emulator_api.get(f"customModels/{model['id']}/versions/").json()
    assert [(v["label"], v["isFrozen"]) for v in listing["data"]] == [
        ("2.1", False),
        ("2.0", True),
        ("1.1", True),
        ("1.0", True),
    ]
    assert (listing["data"][0]["versionMajor"], listing["data"][0]["versionMinor"]) == (2, 1)


def test_a_minor_version_on_a_frozen_deployed_version_is_refused(emulator_api):
    model = emulator_api.create_model()
    emulator_api.create_version(model["id"], {"a.py": "x"})
    emulator_api.admin("POST", f"customModels/{model['id']}/deploy").raise_for_status()
    answer = emulator_api.upload(
        f"customModels/{model['id']}/versions/", {}, "PATCH", isMajorUpdate="false"
    )
    assert answer.status_code == 422
    assert "isMajorUpdate" in answer.json()["errors"]
    assert (
        emulator_api.create_version(model["id"], {}, "PATCH", isMajorUpdate="true")["label"]
        == "2.0"
    )


def test_version_responses_carry_every_field_clients_rely_on(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"a.py": "x"})
    for key in (
        "id", "customModelId", "versionMajor", "versionMinor", "label", "isFrozen", "items", "created", "description",
        "baseEnvironmentId", "baseEnvironmentVersionId", "gitModelVersion", "maximumMemory", "replicas",
        "networkEgressPolicy", "requiredMetadataValues", "runtimeParameters", "dependencies",
    ):  # fmt: skip
        assert key in version, key
    item = version["items"][0]
    assert set(item) >= {
        "id",
        "fileName",
        "filePath",
        "fileSource",
        "created",
        "storagePath",
        "workspaceId",
    }
    assert version["networkEgressPolicy"] == "NONE"


def test_the_environment_is_resolved_from_the_ids_given_or_inherited(emulator_api):
    model = emulator_api.create_model()
    v = emulator_api.create_version(model["id"], {"a.py": "x"}, baseEnvironmentId=SKLEARN)
    assert v["baseEnvironmentVersionId"] == SKLEARN_V2
    v = emulator_api.create_version(model["id"], {"a.py": "x"}, baseEnvironmentVersionId=SKLEARN_V1)
    assert (v["baseEnvironmentId"], v["baseEnvironmentVersionId"]) == (SKLEARN, SKLEARN_V1)
    v = emulator_api.create_version(model["id"], {}, "PATCH")
    assert v["baseEnvironmentVersionId"] == SKLEARN_V1
    v = emulator_api.create_version(model["id"], {}, "PATCH", baseEnvironmentId=SKLEARN)
    assert v["baseEnvironmentVersionId"] == SKLEARN_V1
    v = emulator_api.create_version(model["id"], {}, "PATCH", baseEnvironmentId=GENAI)
    assert (v["baseEnvironmentId"], v["baseEnvironmentVersionId"]) == (GENAI, GENAI_V2)


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"baseEnvironmentId": "64d2ba178dd3f0b1fa2169ff"}, "baseEnvironmentId"),
        ({"baseEnvironmentVersionId": "64d2ba178dd3f0b1fa2169ff"}, "baseEnvironmentVersionId"),
        (
            {"baseEnvironmentId": GENAI, "baseEnvironmentVersionId": SKLEARN_V1},
            "baseEnvironmentVersionId",
        ),
        ({}, "baseEnvironmentId"),
    ],
)
def test_unknown_or_missing_environments_are_a_422(emulator_api, form, field):
    model = emulator_api.create_model()
    answer = emulator_api.upload(
        f"customModels/{model['id']}/versions/", {"a.py": "x"}, isMajorUpdate="true", **form
    )
    assert answer.status_code == 422
    assert field in answer.json()["errors"]


def test_settings_are_inherited_from_the_previous_version_unless_given(emulator_api):
    model = emulator_api.create_model(maximumMemory=268435456, networkEgressPolicy="PUBLIC")
    first = emulator_api.create_version(
        model["id"],
        {"a.py": "x"},
        replicas="2",
        requiredMetadataValues=[{"fieldName": "F", "value": "v"}],
    )
    assert (first["maximumMemory"], first["networkEgressPolicy"], first["replicas"]) == (
        268435456,
        "PUBLIC",
        2,
    )
    second = emulator_api.create_version(model["id"], {}, "PATCH", networkEgressPolicy="NONE")
    assert (second["maximumMemory"], second["networkEgressPolicy"], second["replicas"]) == (
        268435456,
        "NONE",
        2,
    )
    assert second["requiredMetadataValues"] == [{"fieldName": "F", "value": "v"}]


def test_required_metadata_values_are_checked_against_their_schema(emulator_api):
    model = emulator_api.create_model()
    answer = emulator_api.upload(
        f"customModels/{model['id']}/versions/",
        {},
        isMajorUpdate="true",
        baseEnvironmentId=SKLEARN,
        requiredMetadataValues=[{"fieldName": "F"}],
    )
    assert answer.json()["errors"] == {"requiredMetadataValues.0.value": "is required"}


def test_dependencies_are_parsed_from_requirements_txt(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(
        model["id"],
        {"requirements.txt": "# pinned\nnumpy==1.26.4\n\npandas[parquet]>=2.0,<3 # data\n"},
    )
    assert version["dependencies"] == [
        {
            "packageName": "numpy",
            "extras": "",
            "constraints": [{"constraintType": "==", "version": "1.26.4"}],
            "line": "numpy==1.26.4",
            "lineNumber": 2,
        },
        {
            "packageName": "pandas",
            "extras": "parquet",
            "constraints": [
                {"constraintType": "<", "version": "3"},
                {"constraintType": ">=", "version": "2.0"},
            ],
            "line": "pandas[parquet]>=2.0,<3",
            "lineNumber": 4,
        },
    ]


def test_unreadable_requirements_are_a_422_listing_the_lines(emulator_api):
    model = emulator_api.create_model()
    answer = emulator_api.upload(
        f"customModels/{model['id']}/versions/",
        {"requirements.txt": "numpy~=1.2\n--index-url x\nok\n"},
        isMajorUpdate="true",
        baseEnvironmentId=SKLEARN,
    )
    assert answer.status_code == 422
    assert [d["lineNumber"] for d in answer.json()["invalidDependencies"]] == [1, 2]


def test_version_metadata_can_be_edited_without_a_new_version(emulator_api):
    model = emulator_api.create_model()
    first = emulator_api.create_version(model["id"], {"a.py": "x"})
    second = emulator_api.create_version(model["id"], {}, "PATCH")
    answer = emulator_api.patch(
        f"customModels/{model['id']}/versions/{first['id']}/",
        json={
            "description": "the first",
            "gitModelVersion": GIT,
            "requiredMetadataValues": [{"fieldName": "A", "value": "b"}],
        },
    )
    assert answer.status_code == 200
    assert answer.json()["description"] == "the first"
    assert answer.json()["isFrozen"] is True
    assert len(emulator_api.get(f"customModels/{model['id']}/versions/").json()["data"]) == 2
    emulator_api.patch(
        f"customModels/{model['id']}/versions/{second['id']}/", json={"gitModelVersion": GIT}
    )
    assert (
        emulator_api.get(f"customModels/{model['id']}/").json()["latestVersion"]["gitModelVersion"]
        == GIT
    )
    bad = emulator_api.patch(
        f"customModels/{model['id']}/versions/{first['id']}/", json={"isMajorUpdate": "true"}
    )
    assert bad.status_code == 422


def test_versions_can_be_found_by_main_branch_commit(emulator_api):
    model = emulator_api.create_model()
    emulator_api.create_version(model["id"], {"a.py": "1"}, gitModelVersion=GIT)
    emulator_api.create_version(
        model["id"], {}, "PATCH", gitModelVersion={**GIT, "mainBranchCommitSha": "d" * 40}
    )
    emulator_api.create_version(model["id"], {}, "PATCH", gitModelVersion=GIT)
    found = emulator_api.get(
        f"customModels/{model['id']}/versions/?mainBranchCommitSha={'c' * 40}"
    ).json()
    assert [v["label"] for v in found["data"]] == ["3.0", "1.0"]
    assert (
        emulator_api.get(
            f"customModels/{model['id']}/versions/?mainBranchCommitSha=abc"
        ).status_code
        == 400
    )


def test_too_large_uploads_are_a_413(emulator, emulator_api):
    emulator.configure(maxUploadBytes=10_000)
    model = emulator_api.create_model()
    answer = emulator_api.upload(
        f"customModels/{model['id']}/versions/",
        {"big.bin": b"x" * 20_000},
        isMajorUpdate="true",
        baseEnvironmentId=SKLEARN,
    )
    assert answer.status_code == 413
    assert answer.json()["limitBytes"] == 10_000


def test_binary_files_round_trip(emulator_api):
    model = emulator_api.create_model()
    blob = bytes(range(256)) * 10
    version = emulator_api.create_version(model["id"], {"model.pkl": blob})
    answer = emulator_api.get(f"customModels/{model['id']}/versions/{version['id']}/download/")
    assert zipfile.ZipFile(io.BytesIO(answer.content)).read("model.pkl") == blob


def test_a_version_of_another_model_is_a_404(emulator_api):
    a, b = emulator_api.create_model(), emulator_api.create_model()
    version = emulator_api.create_version(a["id"], {"a.py": "x"})
    assert emulator_api.get(f"customModels/{b['id']}/versions/{version['id']}/").status_code == 404
