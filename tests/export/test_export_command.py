"""`dr-gitops export` against the emulator: refusals, partial failures, secrets, names."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.export.seeding import ENV_JOBS, ENV_SKLEARN, seed_account, uploads
from tests.fixtures.remote import set_faults
from tests.fixtures.workspace import NAMESPACE, Workspace

DOWNLOAD_ROUTE = "/api/v2/customModels/{customModelId}/versions/{customModelVersionId}/download/"
MODEL_ACCESS_ROUTE = "/api/v2/customModels/{customModelId}/accessControl/"
SECRET = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


def _files_under(folder: Path) -> list[str]:
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and ".git" not in p.parts
    )


def _model(
    workspace: Workspace,
    scratch: Path,
    name: str,
    files: dict[str, str | bytes] | None = None,
    **version: object,
) -> str:
    model = workspace.client.create_model(
        {"name": name, "targetType": "Regression", "targetName": "y"}
    )
    workspace.client.create_version(
        model.id,
        files=uploads(scratch / model.id, files or {"custom.py": "x = 1\n"}),
        settings={"baseEnvironmentId": ENV_SKLEARN, **version},
    )
    return model.id


# --- refusals ----------------------------------------------------------------------------


def test_a_non_empty_folder_is_refused_before_anything_is_read(
    workspace: Workspace, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")

    result = workspace.cli("export", "--out", str(out))

    assert result.code == 1
    assert "is not empty (it holds notes.txt)" in result.err
    assert "--force" in result.err
    assert _files_under(out) == ["notes.txt"]
    assert workspace.stats()["total"] == 0


def test_force_replaces_exported_folders_and_keeps_everything_else(
    workspace: Workspace, tmp_path: Path
) -> None:
    _model(workspace, tmp_path / "scratch", "Churn")
    out = tmp_path / "out"
    assert workspace.cli("export", "--out", str(out)).code == 0
    (out / "models/churn/stale.py").write_text("old\n")
    (out / ".github/workflows").mkdir(parents=True)
    (out / ".github/workflows/dr-gitops.yml").write_text("on: push\n")

    result = workspace.cli("export", "--out", str(out), "--force")

    assert result.code == 0, result.err
    assert not (out / "models/churn/stale.py").exists()
    assert (out / ".github/workflows/dr-gitops.yml").read_text() == "on: push\n"
    assert (out / "models/churn/custom.py").is_file()


def test_an_unknown_namespace_is_refused_naming_the_known_ones(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()

    result = workspace.cli(
        "export", "--out", str(tmp_path / "out"), "--namespace", "test/wrokspace"
    )

    assert result.code == 1
    assert "no model or job in DataRobot is owned by the namespace 'test/wrokspace'" in result.err
    assert f"'{NAMESPACE}'" in result.err
    assert not (tmp_path / "out").exists()


def test_only_owned_needs_a_namespace(workspace: Workspace, tmp_path: Path) -> None:
    result = workspace.cli("export", "--out", str(tmp_path / "out"), "--only-owned")

    assert result.code == 1
    assert "--only-owned needs --namespace" in result.err


def test_an_invalid_namespace_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    result = workspace.cli(
        "export", "--out", str(tmp_path / "out"), "--namespace", "bad namespace!"
    )

    assert result.code == 1
    assert "is not valid" in result.err


def test_a_wrong_token_is_a_clear_error_that_never_shows_the_token(
    workspace: Workspace, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("not-the-token-1234567890\n")

    result = workspace.cli(
        "export",
        "--out",
        str(tmp_path / "out"),
        "--endpoint",
        workspace.emulator.api_url,
        "--token-file",
        str(token_file),
    )

    assert result.code == 1
    assert "answered 401" in result.err
    assert "not-the-token-1234567890" not in result.err + result.out


# --- partial failures --------------------------------------------------------------------


def test_a_failed_download_is_named_and_everything_else_is_written(
    workspace: Workspace, tmp_path: Path
) -> None:
    _model(workspace, tmp_path / "scratch", "Churn")
    _model(workspace, tmp_path / "scratch", "Prices")
    set_faults(
        workspace.emulator,
        script=[{"method": "GET", "route": DOWNLOAD_ROUTE, "status": 403, "times": 1}],
    )
    out = tmp_path / "out"

    result = workspace.cli("export", "--out", str(out), "--concurrency", "1")

    assert result.code == 1
    assert "the export is incomplete" in result.err
    failed = [
        n
        for n in ("churn", "prices")
        if f"models/{n}/: the download of version 1.0 failed" in result.out
    ]
    assert len(failed) == 1, result.out
    ok = ({"churn", "prices"} - set(failed)).pop()
    assert (out / f"models/{ok}/custom.py").is_file()
    broken = yaml.safe_load((out / f"models/{failed[0]}.yaml").read_text())
    assert "version" not in broken["spec"]  # never claims files it does not hold
    assert "#   source: ./" in (out / f"models/{failed[0]}.yaml").read_text()  # to uncomment
    assert workspace.cli("validate", str(out)).code == 0


def test_a_job_file_that_is_not_utf8_is_named_and_the_job_is_managed_without_files(
    workspace: Workspace, tmp_path: Path
) -> None:
    files = {
        "run.sh": "#!/bin/sh\npython job.py\n",
        "job.py": "print(1)\n",
        "model.bin": b"\x89PNG\xff\x00",
    }
    workspace.client.create_job(
        {"name": "Scorer", "environmentId": ENV_JOBS}, files=uploads(tmp_path / "scratch", files)
    )
    out = workspace.repo.path

    result = workspace.cli("export", "--out", str(out))

    assert result.code == 1
    assert "jobs/scorer/model.bin: DataRobot refuses to return it (422" in result.out
    assert _files_under(out / "jobs/scorer") == ["job.py", "run.sh"]
    job = yaml.safe_load((out / "jobs/scorer.yaml").read_text())
    assert "source" not in job["spec"]
    assert "entryPoint" not in job["spec"]
    assert "model.bin" in (out / "README.md").read_text()
    # Committed as it is, the export adopts the job without touching its files.
    workspace.commit("partial export")
    plan = json.loads(workspace.cli("plan", "--repo", str(out), "--output", "json").out)
    assert [(a["kind"], a["files"]) for a in plan["actions"]] == [("adopt-job", [])]


def test_unreadable_sharing_is_left_unmanaged_with_a_note(
    workspace: Workspace, tmp_path: Path
) -> None:
    _model(workspace, tmp_path / "scratch", "Churn")
    set_faults(
        workspace.emulator,
        script=[{"method": "GET", "route": MODEL_ACCESS_ROUTE, "status": 403, "times": 1}],
    )
    out = tmp_path / "out"

    result = workspace.cli("export", "--out", str(out))

    assert result.code == 0, result.err
    text = (out / "models/churn.yaml").read_text()
    assert "sharing" not in yaml.safe_load(text)["spec"]
    assert "# sharing is not managed: it could not be read" in text


# --- values ------------------------------------------------------------------------------


def test_a_secret_looking_runtime_value_is_never_written(
    workspace: Workspace, tmp_path: Path
) -> None:
    metadata = (
        "name: m\ntype: inference\ntargetType: regression\nruntimeParameterDefinitions:\n"
        "  - {fieldName: OPENAI_API_KEY, type: string}\n  - {fieldName: MODE, type: string}\n"
    )
    model_id = _model(
        workspace,
        tmp_path / "scratch",
        "Chat",
        {"custom.py": "x = 1\n", "model-metadata.yaml": metadata},
    )
    workspace.client.create_version_with_settings(
        model_id,
        runtime_parameter_values=[
            {"fieldName": "OPENAI_API_KEY", "type": "string", "value": SECRET},
            {"fieldName": "MODE", "type": "string", "value": "fast"},
        ],
    )
    out = tmp_path / "out"

    result = workspace.cli("export", "--out", str(out))

    assert result.code == 0, result.err
    assert SECRET not in result.out + result.err
    for path in _files_under(out):
        assert SECRET not in (out / path).read_text(encoding="utf-8", errors="replace")
    text = (out / "models/chat.yaml").read_text()
    assert yaml.safe_load(text)["spec"]["version"]["runtimeParameters"] == {"MODE": "fast"}
    assert "# OPENAI_API_KEY: not exported, the value looks like a secret" in text
    assert "OPENAI_API_KEY" in (out / "README.md").read_text()


def test_memory_is_written_readably_and_converts_back_to_the_same_bytes(
    workspace: Workspace, tmp_path: Path
) -> None:
    _model(workspace, tmp_path / "scratch", "Small", maximumMemory=512 * 1024**2)
    _model(workspace, tmp_path / "scratch", "Odd", maximumMemory=600_000_000)
    _model(workspace, tmp_path / "scratch", "Exact", maximumMemory=300_000_001)
    out = tmp_path / "out"

    assert workspace.cli("export", "--out", str(out)).code == 0

    memory = {
        n: yaml.safe_load((out / f"models/{n}.yaml").read_text())["spec"]["version"][
            "maximumMemory"
        ]
        for n in ("small", "odd", "exact")
    }
    assert memory == {"small": "512Mi", "odd": "600M", "exact": 300_000_001}


# --- names and selection -----------------------------------------------------------------


def test_display_names_become_unique_manifest_names(workspace: Workspace, tmp_path: Path) -> None:
    for name in ("Churn", "churn", "Prévision des ventes (FR)", "!!!"):
        _model(workspace, tmp_path / "scratch", name)
    out = tmp_path / "out"

    result = workspace.cli("export", "--out", str(out))

    assert result.code == 0, result.err
    assert sorted(p.name for p in (out / "models").glob("*.yaml")) == [
        "churn-2.yaml",
        "churn.yaml",
        "model.yaml",
        "prevision-des-ventes-fr.yaml",
    ]
    assert yaml.safe_load((out / "models/churn-2.yaml").read_text())["spec"]["name"] == "churn"


def test_objects_sharing_a_display_name_are_skipped_since_none_can_be_adopted(
    workspace: Workspace, tmp_path: Path
) -> None:
    first = _model(workspace, tmp_path / "scratch", "Churn")
    second = _model(workspace, tmp_path / "scratch", "Churn")
    _model(workspace, tmp_path / "scratch", "Prices")
    out = tmp_path / "out"

    result = workspace.cli("export", "--out", str(out), "--output", "json")

    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [o["name"] for o in report["exported"]] == ["prices"]
    assert sorted(s["id"] for s in report["skipped"]) == sorted([first, second])
    assert "2 models are named 'Churn'" in report["skipped"][0]["reason"]
    assert workspace.cli("validate", str(out)).code == 0


def test_name_filter_exports_only_matching_objects(workspace: Workspace, tmp_path: Path) -> None:
    seed_account(workspace.client, tmp_path / "scratch")
    out = tmp_path / "out"

    result = workspace.cli(
        "export", "--out", str(out), "--name-filter", "*DRIFT*", "--name-filter", "house-*"
    )

    assert result.code == 0, result.err
    assert _files_under(out / "models") + _files_under(out / "jobs") == [
        "house-prices.yaml",
        "house-prices/custom.py",
        "house-prices/model.json",
        "drift-alert.yaml",
        "drift-alert/metadata.yaml",
        "drift-alert/notify.py",
        "drift-alert/run.sh",
    ]
    assert "Left out by --name-filter / --only-owned: 3" in result.out


def test_objects_of_another_namespace_are_skipped_not_adopted(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.add_model("churn")
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()
    _model(workspace, tmp_path / "scratch", "Hand made")
    out = tmp_path / "out"

    result = workspace.cli("export", "--out", str(out), "--output", "json")

    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [o["name"] for o in report["exported"]] == ["hand-made"]
    assert sorted(s["displayName"] for s in report["skipped"]) == ["Churn", "Retrain"]
    assert all(f"--namespace {NAMESPACE}" in s["reason"] for s in report["skipped"])


def test_only_owned_leaves_hand_made_objects_out(workspace: Workspace, tmp_path: Path) -> None:
    workspace.add_model("churn")
    workspace.commit()
    workspace.converge()
    _model(workspace, tmp_path / "scratch", "Hand made")
    out = tmp_path / "out"

    result = workspace.cli(
        "export", "--out", str(out), "--namespace", NAMESPACE, "--only-owned", "--output", "json"
    )

    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [(o["name"], o["adopt"]) for o in report["exported"]] == [("churn", False)]
    assert report["filteredOut"] == 1


def test_a_re_export_names_manifests_it_did_not_write_again(
    workspace: Workspace, tmp_path: Path
) -> None:
    _model(workspace, tmp_path / "scratch", "Churn")
    out = tmp_path / "out"
    assert workspace.cli("export", "--out", str(out)).code == 0
    (out / "models/renamed-since.yaml").write_text(
        "apiVersion: dr-gitops/v1\nkind: CustomModel\nmetadata: {name: renamed-since, adopt: true}\n"
        "spec: {name: Renamed since, targetType: Regression, targetName: y}\n"
    )

    result = workspace.cli("export", "--out", str(out), "--force")

    assert result.code == 0, result.err
    assert "models/renamed-since.yaml was not written by this export" in result.out
    assert (out / "models/renamed-since.yaml").exists()  # never deletes what it did not write


def test_objects_without_files_round_trip_as_fields_and_sharing_only(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.client.create_model({"name": "Draft", "targetType": "Regression", "targetName": "y"})
    workspace.client.create_job({"name": "Empty job", "environmentId": ENV_JOBS})
    out = workspace.repo.path

    assert workspace.cli("export", "--out", str(out)).code == 0
    workspace.commit("export")

    assert "version" not in yaml.safe_load((out / "models/draft.yaml").read_text())["spec"]
    assert "source" not in yaml.safe_load((out / "jobs/empty-job.yaml").read_text())["spec"]
    plan = json.loads(workspace.cli("plan", "--repo", str(out), "--output", "json").out)
    assert [(a["kind"], a["fields"], a["sharing"]) for a in plan["actions"]] == [
        ("adopt-model", [], []),
        ("adopt-job", [], []),
    ]


def test_a_note_says_when_the_token_user_is_not_an_owner(
    workspace: Workspace, tmp_path: Path
) -> None:
    model_id = _model(workspace, tmp_path / "scratch", "Shared with me")
    workspace.client.update_model_access(
        model_id,
        [
            {"username": "alice@example.com", "role": "OWNER", "canShare": True},
            {"username": "gitops-bot@example.com", "role": "USER"},
        ],
    )
    out = tmp_path / "out"

    result = workspace.cli("export", "--out", str(out))

    assert result.code == 0, result.err
    assert "gitops-bot@example.com, the user of this token, has the role USER" in result.out
