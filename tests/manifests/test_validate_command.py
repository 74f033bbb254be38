"""`dr-gitops validate [PATH] [--output text|json]` as users and scripts run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from controller.cli import main
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.manifests import MODEL, ManifestRepo

EXAMPLE = Path(__file__).parents[2] / "manifests-example"


def test_the_example_repository_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.strip() == "ok: 7 manifests valid (0 warnings)"


def test_json_output_is_a_list_of_problems(
    manifest_repo: ManifestRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest_repo.with_model(MODEL.replace("replicas", "x").replace("512Mi", "64Mi"))

    code = main(["validate", str(manifest_repo.root), "--output", "json"])

    assert code == 1
    (problem,) = json.loads(capsys.readouterr().out)
    assert problem == {
        "file": "models/scorer.yaml",
        "line": 13,
        "document": 1,
        "path": "spec.version.maximumMemory",
        "message": "'64Mi' (67108864 bytes) is outside 128Mi to 14Gi",
        "hint": "use 128Mi to 14Gi, e.g. 512Mi or 2Gi",
        "severity": "error",
    }


def test_a_mistake_prints_problems_and_no_stack_trace(manifest_repo: ManifestRepo) -> None:
    manifest_repo.with_model(MODEL.replace("  targetName: label\n", "  targetName: [label\n"))

    done = subprocess.run(
        [sys.executable, "-m", "controller.cli", "validate", str(manifest_repo.root)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("models/scorer.yaml:")
    assert "1 error, 0 warnings in 0 manifests" in done.stdout


def test_files_are_named_from_the_top_of_the_enclosing_git_repository(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    ManifestRepo(git_repo.path / "deploy").with_model(MODEL.replace("Binary", "Bianry"))

    code = main(["validate", str(git_repo.path / "deploy" / "models")])

    assert code == 1
    assert capsys.readouterr().out.startswith("deploy/models/scorer.yaml:6: document 1:")


def test_a_source_outside_the_checked_folder_but_inside_the_repository_is_fine(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = MODEL.replace("source: ./scorer", "source: ../../src/scorer")
    ManifestRepo(git_repo.path).write(
        {"deploy/models/scorer.yaml": manifest, "src/scorer/custom.py": "x = 1\n"}
    )

    assert main(["validate", str(git_repo.path / "deploy")]) == 0
    assert "ok: 1 manifest valid" in capsys.readouterr().out


def test_a_path_that_is_not_a_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path / "nowhere")]) == 1
    assert "is not a folder" in capsys.readouterr().err


def test_an_empty_folder_validates_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "warning: no manifests found" in out


def test_a_manifest_whose_header_values_carry_yaml_tags_is_read_not_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import shutil

    example = Path(__file__).parents[2] / "manifests-example"
    repo = tmp_path / "repo"
    shutil.copytree(example, repo)
    path = repo / "models" / "fraud-detector.yaml"
    text = path.read_text()
    text = text.replace("apiVersion: dr-gitops/v1", "apiVersion: !!str dr-gitops/v1")
    path.write_text(text.replace("kind: CustomModel", "kind: !!str CustomModel"))
    assert main(["validate", str(repo)]) == 0
    assert "ok: 7 manifests valid" in capsys.readouterr().out  # not 4


def test_a_broken_settings_file_is_one_problem_among_the_manifests_problems(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    ManifestRepo(git_repo.path / "deploy").with_model(MODEL.replace("Binary", "Bianry")).write(
        {".dr-gitops.yaml": "namespace: acme/models\nendpoint: https://evil.example.com\n"}
    )

    code = main(["validate", str(git_repo.path / "deploy")])

    assert code == 1
    out = capsys.readouterr().out
    assert out.startswith("deploy/.dr-gitops.yaml: endpoint: 'endpoint' cannot be set in the")
    assert "\ndeploy/models/scorer.yaml:6: document 1:" in out
    assert out.rstrip().endswith("2 errors, 0 warnings in 1 manifest")


def test_a_broken_settings_file_is_reported_in_json_too(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    ManifestRepo(git_repo.path).with_model().write(
        {".dr-gitops.yaml": "namespace: 'acme models!'\nexlude: ['tests/']\n"}
    )

    code = main(["validate", str(git_repo.path), "--output", "json"])

    assert code == 1
    (problem,) = json.loads(capsys.readouterr().out)
    assert problem["file"] == ".dr-gitops.yaml"
    assert problem["path"] == "exlude"
    assert problem["message"] == "unknown key 'exlude'; did you mean 'exclude'?"
    assert problem["severity"] == "error"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("- a\n", "", "must be a YAML mapping of namespace, commitUrlTemplate, exclude"),
        ("namespace: [x\n", "", "is not valid YAML (ParserError); fix it"),
        ("namespace: 'a b'\n", "namespace", "must be a string of letters"),
        ("commitUrlTemplate: 7\n", "commitUrlTemplate", "must be a string"),
        ("exclude: ['../x']\n", "exclude", "pattern '../x' climbs out of the source folder"),
    ],
)
def test_a_settings_problem_names_the_file_and_the_key(
    git_repo: GitRepo, capsys: pytest.CaptureFixture[str], text: str, key: str, message: str
) -> None:
    ManifestRepo(git_repo.path).with_model().write({".dr-gitops.yaml": text})

    assert main(["validate", str(git_repo.path), "--output", "json"]) == 1
    (problem,) = json.loads(capsys.readouterr().out)
    assert (problem["file"], problem["path"]) == (".dr-gitops.yaml", key)
    assert problem["message"].startswith(message), problem["message"]
