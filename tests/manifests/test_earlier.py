"""The source folder a manifest named at an earlier commit, and the keys of a Deployment
manifest changed since then, read from its text."""

from __future__ import annotations

import pytest

from controller.manifests import deployment_changes, earlier_source_dir

MODEL = b"""\
apiVersion: dr-gitops/v1
kind: CustomModel
metadata: {name: churn}
spec:
  targetType: Regression
  version: {source: ../src/churn, baseEnvironmentId: x}
---
apiVersion: dr-gitops/v1
kind: CustomJob
metadata: {name: churn}
spec: {source: ./jobs/churn}
"""


def test_a_model_and_a_job_of_the_same_name_are_told_apart() -> None:
    assert earlier_source_dir(MODEL, "team/models/churn.yaml", "CustomModel", "churn") == (
        "team/src/churn"
    )
    assert earlier_source_dir(MODEL, "team/models/churn.yaml", "CustomJob", "churn") == (
        "team/models/jobs/churn"
    )


@pytest.mark.parametrize(
    ("raw", "file"),
    [
        (MODEL, "churn.yaml"),  # ../src/churn leaves the repository from its top
        (b"apiVersion: dr-gitops/v1\nkind: CustomModel\nmetadata: {name: other}\n", "a.yaml"),
        (b"{not yaml: [", "a.yaml"),
        (b"\xff\xfe", "a.yaml"),
        (MODEL.replace(b"../src/churn", b"/abs"), "m/a.yaml"),
        (MODEL + b"---\n" + MODEL.split(b"---\n")[0], "m/a.yaml"),  # declared twice
    ],
)
def test_what_cannot_be_told_is_none(raw: bytes, file: str) -> None:
    assert earlier_source_dir(raw, file, "CustomModel", "churn") is None


DEPLOYMENT = """\
apiVersion: dr-gitops/v1
kind: Deployment
metadata: {name: prod}
spec:
  label: Fraud (production)
  model: fraud
  version: "1.0"
  heal: false
  settings: {targetDrift: true, featureDrift: false}
"""


def test_the_deployment_keys_changed_since_an_earlier_commit_are_named() -> None:
    now = DEPLOYMENT.replace('"1.0"', '"1.1"').replace("featureDrift: false", "featureDrift: true")
    then = DEPLOYMENT.encode()

    assert deployment_changes(then, now.encode(), "d.yaml") == {
        "prod": frozenset({"version", "settings.featureDrift"})
    }
    assert deployment_changes(then, then, "d.yaml") == {"prod": frozenset()}


def test_a_deployment_new_since_the_earlier_commit_is_all_new() -> None:
    renamed = DEPLOYMENT.replace("name: prod", "name: production").encode()

    assert deployment_changes(DEPLOYMENT.encode(), renamed, "d.yaml") == {"production": None}
    assert deployment_changes(None, renamed, "d.yaml") == {"production": None}
    assert deployment_changes(b"{not yaml", renamed, "d.yaml") == {"production": None}
