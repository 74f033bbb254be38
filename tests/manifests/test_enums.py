"""One rule for enum values in every manifest kind: any case is accepted and normalised to
the API's spelling (schemas/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from controller.manifests import load_desired_state
from controller.manifests.schemas import SCHEMA_FILES
from tests.fixtures.manifests import JOB, MODEL, ManifestRepo

SCHEMAS = Path(__file__).parents[2] / "schemas"


def _enums(node: Any, path: str = "") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if isinstance(node, dict):
        if "enum" in node:
            found[path] = node["enum"]
        for key, value in node.items():
            found.update(_enums(value, f"{path}/{key}"))
    return found


def test_every_enum_in_the_manifest_schemas_lists_one_spelling_per_value() -> None:
    enums = {}
    for file in SCHEMA_FILES.values():
        for path, choices in _enums(json.loads((SCHEMAS / file).read_text())).items():
            enums[f"{file}:{path.rsplit('/', 1)[-1]}"] = choices
            assert len({c.casefold() for c in choices}) == len(choices), (file, path, choices)
    # The test below covers each of them; a new enum must be added there too.
    assert sorted(enums) == [
        "custom-job.schema.json:egressNetworkPolicy",
        "custom-job.schema.json:jobType",
        "custom-job.schema.json:role",
        "custom-job.schema.json:shareRecipientType",
        "custom-model.schema.json:dependencyBuild",
        "custom-model.schema.json:errorCheck",
        "custom-model.schema.json:longRunningService",
        "custom-model.schema.json:networkEgressPolicy",
        "custom-model.schema.json:nullValueImputation",
        "custom-model.schema.json:performanceCheck",
        "custom-model.schema.json:predictionVerificationCheck",
        "custom-model.schema.json:role",
        "custom-model.schema.json:sideEffects",
        "custom-model.schema.json:stabilityCheck",
        "custom-model.schema.json:targetType",
    ]


def test_every_enum_value_is_accepted_in_any_case_and_sent_as_the_api_spells_it(
    manifest_repo: ManifestRepo,
) -> None:
    model = MODEL.replace("targetType: Binary", "targetType: binary") + (
        "    networkEgressPolicy: Public\n"
        "    dependencyBuild: Always\n"
        "    test:\n"
        "      datasetId: 6600000000000000000000d1\n"
        "      networkEgressPolicy: public\n"
        "      checks: {sideEffects: WARN, errorCheck: Fail, performanceCheck: Skip}\n"
        "  sharing:\n"
        "    - {username: alice@example.com, role: owner}\n"
        "    - {username: bob@example.com, role: user}\n"
    )
    job = JOB + (
        "  jobType: Retraining\n"
        "  resources: {egressNetworkPolicy: PUBLIC}\n"
        "  sharing:\n"
        "    - {shareRecipientType: User, username: alice@example.com, role: Owner}\n"
        "    - {shareRecipientType: GROUP, name: analysts, role: editor}\n"
    )
    state = load_desired_state(manifest_repo.with_model(model).with_job(job).root)

    (scorer,) = state.models
    assert scorer.fields["targetType"] == "Binary"
    assert scorer.version is not None
    assert scorer.version.settings["networkEgressPolicy"] == "PUBLIC"
    gates = scorer.version.gates
    assert gates is not None
    assert gates.dependency_build.value == "always"
    assert gates.test is not None
    assert gates.test.resources["networkEgressPolicy"] == "PUBLIC"
    checks = gates.test.checks
    assert (checks["sideEffects"], checks["errorCheck"], checks["performanceCheck"]) == (
        "warn",
        "fail",
        "skip",
    )
    assert scorer.sharing is not None
    assert sorted(g.role for g in scorer.sharing) == ["OWNER", "USER"]
    (worker,) = state.jobs
    assert worker.fields["jobType"] == "retraining"
    assert worker.fields["resources"] == {"egressNetworkPolicy": "public"}
    assert worker.sharing is not None
    assert sorted((g.recipient_type, g.role) for g in worker.sharing) == [
        ("group", "EDITOR"),
        ("user", "OWNER"),
    ]
