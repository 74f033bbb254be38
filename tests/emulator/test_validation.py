"""Request bodies are checked against the reference's schema for their route."""

from __future__ import annotations

import json

import pytest

from emulator.core import reference
from emulator.routing import ROUTES

MODEL = {"name": "m", "customModelType": "inference", "targetType": "Regression", "targetName": "y"}


def test_every_route_of_the_reference_is_served():
    served = {(r.method, r.path) for r in ROUTES if r.in_reference}
    assert served == set(reference().endpoints)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"customModelType": "inference"}, "name", "is required"),
        ({**MODEL, "name": 7}, "name", "must be a string"),
        (
            {**MODEL, "customModelType": "other"},
            "customModelType",
            "must be one of: training, inference",
        ),
        ({**MODEL, "name": "x" * 256}, "name", "must be at most 255 characters long"),
        ({**MODEL, "maximumMemory": 1}, "maximumMemory", "must be at least 134217728"),
        ({**MODEL, "replicas": 0}, "replicas", "must be greater than 0"),
        ({**MODEL, "replicas": 9}, "replicas", "must be at most 8"),
        ({**MODEL, "predictionThreshold": 1.5}, "predictionThreshold", "must be at most 1"),
        (
            {**MODEL, "userProvidedId": "u" * 101},
            "userProvidedId",
            "must be at most 100 characters long",
        ),
        ({**MODEL, "nmae": "typo"}, "nmae", "nmae is not allowed key"),
        (
            {
                **MODEL,
                "gitModelVersion": {
                    "commitUrl": "x",
                    "mainBranchCommitSha": "a" * 40,
                    "pullRequestCommitSha": None,
                    "refName": "m",
                },
            },
            "gitModelVersion.commitUrl",
            "must be a valid uri",
        ),
        (
            {
                **MODEL,
                "gitModelVersion": {
                    "commitUrl": "https://g/c",
                    "mainBranchCommitSha": "abc",
                    "pullRequestCommitSha": None,
                    "refName": "m",
                },
            },
            "gitModelVersion.mainBranchCommitSha",
            "must be at least 40 characters long",
        ),
        (
            {
                **MODEL,
                "gitModelVersion": {
                    "commitUrl": "https://g/c",
                    "mainBranchCommitSha": "a" * 40,
                    "refName": "m",
                },
            },
            "gitModelVersion.pullRequestCommitSha",
            "is required",
        ),
    ],
)
def test_a_bad_model_body_is_a_422_naming_the_field(emulator_api, body, field, message):
    answer = emulator_api.post("customModels/", json=body)
    assert answer.status_code == 422
    assert answer.json()["message"] == "Invalid field data"
    assert answer.json()["errors"][field] == message


def test_every_bad_field_is_reported_at_once(emulator_api):
    answer = emulator_api.post(
        "customModels/", json={"name": 1, "customModelType": "x", "extra": True}
    )
    assert set(answer.json()["errors"]) == {"name", "customModelType", "extra"}


def test_multipart_strings_are_read_as_the_schema_types(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(
        model["id"],
        {"custom.py": "pass"},
        isMajorUpdate="False",
        maximumMemory="268435456",
        replicas="2",
        requiresHa="true",
        gitModelVersion={
            "commitUrl": "https://g/c/1",
            "mainBranchCommitSha": "b" * 40,
            "pullRequestCommitSha": None,
            "refName": "main",
        },
    )
    assert version["maximumMemory"] == 268435456
    assert version["replicas"] == 2
    assert version["requiresHa"] is True
    assert version["gitModelVersion"]["mainBranchCommitSha"] == "b" * 40


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"isMajorUpdate": "yes"}, "isMajorUpdate", "must be one of: false, False, true, True"),
        ({"isMajorUpdate": "true", "replicas": "two"}, "replicas", "must be an integer or null"),
        (
            {"isMajorUpdate": "true", "maximumMemory": "1024"},
            "maximumMemory",
            "must be at least 134217728",
        ),
        (
            {"isMajorUpdate": "true", "networkEgressPolicy": "DR_API_ACCESS"},
            "networkEgressPolicy",
            "must be one of: NONE, PUBLIC, null",
        ),
        (
            {"isMajorUpdate": "true", "gitModelVersion": "not json"},
            "gitModelVersion",
            "must be a JSON-encoded object",
        ),
        (
            {"isMajorUpdate": "true", "requiresHa": "maybe"},
            "requiresHa",
            "must be a boolean or null",
        ),
        ({}, "isMajorUpdate", "is required"),
    ],
)
def test_a_bad_multipart_field_is_a_422(emulator_api, form, field, message):
    model = emulator_api.create_model()
    form.setdefault("baseEnvironmentId", "64d2ba178dd3f0b1fa2162f0")
    answer = emulator_api.upload(f"customModels/{model['id']}/versions/", {"a.py": "x"}, **form)
    assert answer.status_code == 422
    assert answer.json()["errors"][field] == message


def test_file_path_may_be_a_string_or_repeated(emulator_api):
    model = emulator_api.create_model()
    one = emulator_api.create_version(model["id"], {"a.py": "x"})
    two = emulator_api.create_version(model["id"], {"a.py": "x", "b.py": "y"})
    assert len(one["items"]) == 1
    assert len(two["items"]) == 2


def test_sharing_roles_must_name_a_user_by_username_or_id_not_both(emulator_api):
    job = emulator_api.post("customJobs/", json={"name": "j"}).json()
    role = {
        "shareRecipientType": "user",
        "role": "USER",
        "username": "bob@example.com",
        "id": "650000000000000000000003",
    }
    answer = emulator_api.patch(
        f"customJobs/{job['id']}/sharedRoles/", json={"operation": "updateRoles", "roles": [role]}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == {"roles.0": "give either username or id, not both"}
    del role["username"], role["shareRecipientType"]
    answer = emulator_api.patch(
        f"customJobs/{job['id']}/sharedRoles/", json={"operation": "updateRoles", "roles": [role]}
    )
    assert answer.json()["errors"] == {"roles.0.shareRecipientType": "is required"}


def test_a_malformed_json_body_is_a_400(emulator_api):
    answer = emulator_api.post(
        "customModels/", data="{nope", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["message"] == "Malformed JSON body"


def test_a_json_body_that_is_not_an_object_is_a_422(emulator_api):
    answer = emulator_api.post(
        "customModels/", data=json.dumps([1]), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422


def test_an_unsupported_content_type_is_a_415(emulator_api):
    answer = emulator_api.post(
        "customModels/", data="name=x", headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 415


def test_files_are_refused_where_the_route_takes_none(emulator_api):
    answer = emulator_api.upload(
        "customModels/", {"a.py": "x"}, name="m", customModelType="inference"
    )
    assert answer.status_code == 422
    assert "file" in answer.json()["errors"]
