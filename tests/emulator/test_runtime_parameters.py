"""Runtime parameters: definitions from the files, values merged, checked and shown."""

from __future__ import annotations

import textwrap

import pytest

SKLEARN = "64d2ba178dd3f0b1fa2162f0"
METADATA = textwrap.dedent(
    """\
    name: m
    runtimeParameterDefinitions:
      - fieldName: THRESHOLD
        type: numeric
        defaultValue: 0.5
        minValue: 0
        maxValue: 1
        description: Decision threshold
      - fieldName: MODE
        type: string
        defaultValue: fast
        allowEmpty: false
      - fieldName: VERBOSE
        type: boolean
        defaultValue: false
      - fieldName: S3_CREDS
        type: credential
        credentialType: s3
      - fieldName: UPSTREAM
        type: deployment
    """
)
CRED = "65a000000000000000000001"


def _value(name, kind, value):
    return {"fieldName": name, "type": kind, "value": value}


@pytest.fixture
def model(emulator_api):
    model = emulator_api.create_model()
    emulator_api.create_version(model["id"], {"model-metadata.yaml": METADATA, "custom.py": "pass"})
    return model


def _params(version):
    return {p["fieldName"]: p for p in version["runtimeParameters"]}


def _patch(emulator_api, model, values, **form):
    return emulator_api.upload(
        f"customModels/{model['id']}/versions/",
        form.pop("files", {}),
        "PATCH",
        isMajorUpdate="false",
        runtimeParameterValues=values,
        **form,
    )


def test_definitions_are_read_from_model_metadata_yaml(emulator_api, model):
    version = emulator_api.get(f"customModels/{model['id']}/").json()["latestVersion"]
    params = _params(version)
    assert list(params) == ["THRESHOLD", "MODE", "VERBOSE", "S3_CREDS", "UPSTREAM"]
    assert params["THRESHOLD"] == {
        "fieldName": "THRESHOLD",
        "type": "numeric",
        "description": "Decision threshold",
        "allowEmpty": True,
        "defaultValue": 0.5,
        "minValue": 0,
        "maxValue": 1,
        "credentialType": None,
        "overrideValue": None,
        "currentValue": 0.5,
    }
    assert params["S3_CREDS"]["credentialType"] == "s3"


def test_values_merge_with_the_previous_version_and_null_resets(emulator_api, model):
    first = _patch(
        emulator_api,
        model,
        [_value("THRESHOLD", "numeric", 0.9), _value("S3_CREDS", "credential", CRED)],
    ).json()
    assert (
        _params(first)["THRESHOLD"]["currentValue"],
        _params(first)["S3_CREDS"]["overrideValue"],
    ) == (0.9, CRED)
    second = _patch(emulator_api, model, [_value("MODE", "string", "slow")]).json()
    assert {n: p["overrideValue"] for n, p in _params(second).items()} == {
        "THRESHOLD": 0.9, "MODE": "slow", "VERBOSE": None, "S3_CREDS": CRED, "UPSTREAM": None,
    }  # fmt: skip
    third = _patch(emulator_api, model, [_value("THRESHOLD", "numeric", None)]).json()
    assert (
        _params(third)["THRESHOLD"]["overrideValue"],
        _params(third)["THRESHOLD"]["currentValue"],
    ) == (None, 0.5)
    assert _params(third)["MODE"]["currentValue"] == "slow"


def test_a_version_without_values_keeps_the_previous_ones(emulator_api, model):
    _patch(emulator_api, model, [_value("VERBOSE", "boolean", True)])
    version = emulator_api.create_version(
        model["id"], {"custom.py": "changed"}, "PATCH", isMajorUpdate="false"
    )
    assert _params(version)["VERBOSE"]["currentValue"] is True


def test_values_of_parameters_no_longer_defined_are_dropped(emulator_api, model):
    _patch(emulator_api, model, [_value("THRESHOLD", "numeric", 0.9)])
    slim = "runtimeParameterDefinitions:\n  - {fieldName: MODE, type: string}\n"
    version = emulator_api.create_version(
        model["id"], {"model-metadata.yaml": slim}, "PATCH", isMajorUpdate="false"
    )
    assert list(_params(version)) == ["MODE"]
    again = emulator_api.create_version(
        model["id"], {"model-metadata.yaml": METADATA}, "PATCH", isMajorUpdate="false"
    )
    assert _params(again)["THRESHOLD"]["overrideValue"] is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (_value("NOPE", "string", "x"), "is not defined"),
        (_value("THRESHOLD", "string", "0.7"), "type must be 'numeric'"),
        (_value("THRESHOLD", "numeric", 2), "value must be at most 1"),
        (_value("THRESHOLD", "numeric", -1), "value must be at least 0"),
        (_value("THRESHOLD", "numeric", True), "value must be a number"),
        (_value("VERBOSE", "boolean", "true"), "value must be a boolean"),
        (_value("MODE", "string", "x" * 4097), "at most 4096 characters"),
        (_value("MODE", "string", ""), "must not be empty"),
        (_value("S3_CREDS", "credential", "AKIA-secret"), "never the secret itself"),
        (_value("UPSTREAM", "deployment", 12), "value must be a string"),
        ({"fieldName": "MODE", "value": "x"}, "exactly fieldName, type and value"),
    ],
)
def test_bad_values_are_a_422_naming_the_value(emulator_api, model, value, message):
    answer = _patch(emulator_api, model, [value])
    assert answer.status_code == 422
    assert message in answer.json()["errors"]["runtimeParameterValues.0"]


def test_values_must_be_a_json_list(emulator_api, model):
    answer = emulator_api.upload(
        f"customModels/{model['id']}/versions/",
        {},
        "PATCH",
        isMajorUpdate="false",
        runtimeParameterValues="{not json",
    )
    assert answer.json()["errors"] == {"runtimeParameterValues": "must be a JSON-encoded string"}
    answer = _patch(emulator_api, model, {"fieldName": "MODE"})
    assert answer.json()["errors"] == {
        "runtimeParameterValues": "must be a list of {fieldName, type, value}"
    }


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        (
            "runtimeParameterDefinitions: [{fieldName: A, type: color}]",
            "runtimeParameterDefinitions[0].type",
        ),
        (
            "runtimeParameterDefinitions: [{type: string}]",
            "runtimeParameterDefinitions[0].fieldName",
        ),
        (
            "runtimeParameterDefinitions: [{fieldName: A, type: numeric, defaultValue: 5, maxValue: 1}]",
            "runtimeParameterDefinitions[0].defaultValue",
        ),
        (
            "runtimeParameterDefinitions: [{fieldName: A, type: string, minValue: 1}]",
            "runtimeParameterDefinitions[0].minValue",
        ),
        (
            "runtimeParameterDefinitions: [{fieldName: A, type: credential, credentialType: magic}]",
            "runtimeParameterDefinitions[0].credentialType",
        ),
        (
            "runtimeParameterDefinitions: [{fieldName: A, type: string}, {fieldName: A, type: string}]",
            "runtimeParameterDefinitions",
        ),
        (
            "runtimeParameterDefinitions: [{fieldName: A, type: string, colour: red}]",
            "runtimeParameterDefinitions[0].colour",
        ),
        ("runtimeParameterDefinitions: {A: 1}", "runtimeParameterDefinitions"),
        ("name: [unclosed", ""),
    ],
)
def test_bad_definitions_are_a_422(emulator_api, metadata, field):
    model = emulator_api.create_model()
    answer = emulator_api.upload(
        f"customModels/{model['id']}/versions/",
        {"model-metadata.yaml": metadata},
        isMajorUpdate="true",
        baseEnvironmentId=SKLEARN,
    )
    assert answer.status_code == 422
    key = f"model-metadata.yaml:{field}" if field else "model-metadata.yaml"
    assert key in answer.json()["errors"]


def test_yaml_defaults_are_read_as_their_declared_type(emulator_api):
    model = emulator_api.create_model()
    metadata = "runtimeParameterDefinitions:\n  - {fieldName: PORT, type: string, defaultValue: 8080}\n  - {fieldName: ENABLED, type: boolean, defaultValue: 'true'}\n"
    version = emulator_api.create_version(model["id"], {"model-metadata.yaml": metadata})
    assert [(p["defaultValue"], p["currentValue"]) for p in version["runtimeParameters"]] == [
        ("8080", "8080"),
        (True, True),
    ]


def test_a_version_without_model_metadata_has_no_parameters_and_refuses_values(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"custom.py": "x"})
    assert version["runtimeParameters"] == []
    answer = _patch(emulator_api, model, [_value("MODE", "string", "x")])
    assert answer.status_code == 422


def test_only_the_root_model_metadata_counts(emulator_api):
    model = emulator_api.create_model()
    version = emulator_api.create_version(model["id"], {"sub/model-metadata.yaml": METADATA})
    assert version["runtimeParameters"] == []
