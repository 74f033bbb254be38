"""Objects made "by hand" in the emulator, through the API as a person's script would make
them: no userProvidedId, no dr-gitops stamp, no git metadata."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from controller.remote import DataRobotClient, FileUpload

ENV_SKLEARN = "64d2ba178dd3f0b1fa2162f0"
ENV_GENAI = "64d2ba178dd3f0b1fa2162f1"
ENV_JOBS = "64d2ba178dd3f0b1fa2162f2"
ORG_ID = "6500000000000000000000f1"
GROUP_DATA_SCIENCE = "6500000000000000000000a2"
GROUP_ML_PLATFORM = "6500000000000000000000a1"
CRED_S3 = "65a1f0c2e4b0a1b2c3d4e5f6"
CRED_TOKEN = "65a1f0c2e4b0a1b2c3d4e5f7"
GIB = 1024**3

FRAUD_METADATA = """\
name: fraud
type: inference
targetType: binary
runtimeParameterDefinitions:
  - {fieldName: AMOUNT_CAP, type: numeric, defaultValue: 10000, minValue: 0}
  - {fieldName: BLOCKLIST, type: string}
  - {fieldName: EXPLAIN, type: boolean, defaultValue: false}
  - {fieldName: STORE_CREDS, type: credential, credentialType: s3}
"""
ASSISTANT_METADATA = """\
name: assistant
type: inference
targetType: textgeneration
runtimeParameterDefinitions:
  - {fieldName: LLM_ENDPOINT, type: string}
  - {fieldName: TEMPERATURE, type: numeric, defaultValue: 0.0, minValue: 0, maxValue: 2}
  - {fieldName: LLM_API_TOKEN, type: credential, credentialType: apiToken}
"""
RETRAIN_METADATA = """\
name: retrain
runtimeParameterDefinitions:
  - {fieldName: TRAINING_DAYS, type: numeric, defaultValue: 30, minValue: 7, maxValue: 365}
  - {fieldName: DATA_PATH, type: string}
  - {fieldName: DATA_CREDENTIALS, type: credential, credentialType: s3}
"""
ALERT_METADATA = """\
name: alert
runtimeParameterDefinitions:
  - {fieldName: CHANNEL, type: string, defaultValue: "#ml"}
  - {fieldName: WEBHOOK, type: credential, credentialType: apiToken}
"""


@dataclass
class Seeded:
    fraud: str
    prices: str
    assistant: str
    retrain: str
    alert: str


def uploads(folder: Path, files: dict[str, str | bytes]) -> list[FileUpload]:
    """Write ``files`` under ``folder`` and return them as uploads."""
    out = []
    for rel, content in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        out.append(FileUpload(target, rel))
    return out


def seed_account(client: DataRobotClient, scratch: Path) -> Seeded:
    """Three models (binary, regression, text generation) and two jobs, made by hand."""
    return Seeded(
        fraud=_fraud(client, scratch / "fraud"),
        prices=_prices(client, scratch / "prices"),
        assistant=_assistant(client, scratch / "assistant"),
        retrain=_retrain(client, scratch / "retrain"),
        alert=_alert(client, scratch / "alert"),
    )


def _fraud(client: DataRobotClient, folder: Path) -> str:
    model = client.create_model(
        {
            "name": "Fraud detector (v2)",
            "description": "Scores card transactions.\nOwned by the risk team.",
            "targetType": "Binary",
            "targetName": "is_fraud",
            "positiveClassLabel": "yes",
            "negativeClassLabel": "no",
            "predictionThreshold": 0.35,
            "language": "python",
        }
    )
    first = {
        "custom.py": "def score(data, model):\n    return data\n",
        "model-metadata.yaml": FRAUD_METADATA,
    }
    client.create_version(
        model.id,
        files=uploads(folder / "v1", first),
        settings={"baseEnvironmentId": ENV_SKLEARN, "maximumMemory": GIB, "replicas": 2},
        runtime_parameter_values=[{"fieldName": "AMOUNT_CAP", "type": "numeric", "value": 500}],
    )
    newer = {
        "custom.py": "def score(data, model):\n    return data * 2\n",
        "requirements.txt": "pandas>=2.0\n",
        "tests/test_custom.py": "def test_nothing():\n    pass\n",
    }
    client.create_version_from_latest(
        model.id,
        files=uploads(folder / "v2", newer),
        settings={
            "networkEgressPolicy": "NONE",
            "requiredMetadataValues": [{"fieldName": "TEAM", "value": "risk"}],
        },
        runtime_parameter_values=[
            {"fieldName": "AMOUNT_CAP", "type": "numeric", "value": 25000},
            {"fieldName": "BLOCKLIST", "type": "string", "value": "merchant-7731,merchant-0042"},
            {"fieldName": "EXPLAIN", "type": "boolean", "value": True},
            {"fieldName": "STORE_CREDS", "type": "credential", "value": CRED_S3},
        ],
    )
    client.update_model_access(
        model.id,
        [
            {"username": "alice@example.com", "role": "OWNER", "canShare": True},
            {"username": "bob@example.com", "role": "USER"},
        ],
    )
    return model.id


def _prices(client: DataRobotClient, folder: Path) -> str:
    model = client.create_model(
        {"name": "House prices", "targetType": "Regression", "targetName": "sale_price"}
    )
    files = {
        "custom.py": "def score(data, model):\n    return data\n",
        "model.json": '{"w": [1, 2]}\n',
    }
    client.create_version(
        model.id,
        files=uploads(folder, files),
        settings={"baseEnvironmentId": ENV_SKLEARN, "maximumMemory": 512 * 1024**2, "replicas": 1},
    )
    return model.id


def _assistant(client: DataRobotClient, folder: Path) -> str:
    model = client.create_model(
        {
            "name": "Support assistant",
            "description": "Drafts answers from the help-centre articles.",
            "targetType": "TextGeneration",
            "targetName": "resultText",
            "language": "python",
        }
    )
    files = {
        "custom.py": "def score(data, model):\n    return data\n",
        "model-metadata.yaml": ASSISTANT_METADATA,
    }
    client.create_version(
        model.id,
        files=uploads(folder, files),
        settings={
            "baseEnvironmentId": ENV_GENAI,
            "maximumMemory": 2 * GIB,
            "replicas": 1,
            "networkEgressPolicy": "PUBLIC",
        },
        runtime_parameter_values=[
            {
                "fieldName": "LLM_ENDPOINT",
                "type": "string",
                "value": "https://llm.example.com/v1/chat",
            },
            {"fieldName": "TEMPERATURE", "type": "numeric", "value": 0.2},
            {"fieldName": "LLM_API_TOKEN", "type": "credential", "value": CRED_TOKEN},
        ],
    )
    client.update_model_access(model.id, [{"username": "carol@example.com", "role": "EDITOR"}])
    return model.id


def _retrain(client: DataRobotClient, folder: Path) -> str:
    files = {
        "run.sh": "#!/bin/sh\npython retrain.py\n",
        "retrain.py": "print('retraining')\n",
        "metadata.yaml": RETRAIN_METADATA,
        "lib/util.py": "X = 1\n",
    }
    job = client.create_job(
        {
            "name": "Nightly retrain",
            "description": "Refits the fraud detector.",
            "jobType": "retraining",
            "environmentId": ENV_JOBS,
            "resources": {"egressNetworkPolicy": "public"},
        },
        files=uploads(folder, files),
        runtime_parameter_values=[
            {"fieldName": "TRAINING_DAYS", "type": "numeric", "value": 90},
            {"fieldName": "DATA_PATH", "type": "string", "value": "s3://example-ml/fraud/"},
            {"fieldName": "DATA_CREDENTIALS", "type": "credential", "value": CRED_S3},
        ],
    )
    client.update_job_roles(
        job.id,
        [
            {"shareRecipientType": "user", "username": "alice@example.com", "role": "USER"},
            {"shareRecipientType": "group", "id": GROUP_DATA_SCIENCE, "role": "USER"},
            {"shareRecipientType": "organization", "id": ORG_ID, "role": "OBSERVER"},
        ],
    )
    return job.id


def _alert(client: DataRobotClient, folder: Path) -> str:
    files = {
        "run.sh": "#!/bin/sh\npython notify.py\n",
        "notify.py": "print('drift')\n",
        "metadata.yaml": ALERT_METADATA,
    }
    job = client.create_job(
        {"name": "Drift alert", "jobType": "notification", "environmentId": ENV_JOBS},
        files=uploads(folder, files),
        runtime_parameter_values=[
            {"fieldName": "CHANNEL", "type": "string", "value": "#ml-platform-alerts"},
            {"fieldName": "WEBHOOK", "type": "credential", "value": CRED_TOKEN},
        ],
    )
    client.update_job_roles(
        job.id, [{"shareRecipientType": "group", "id": GROUP_ML_PLATFORM, "role": "USER"}]
    )
    return job.id
