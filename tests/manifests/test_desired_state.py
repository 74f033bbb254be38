"""Manifests become the desired state: normalised, sorted, with every default stated."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from controller.errors import DrGitopsError
from controller.manifests import ManifestError, load_desired_state, sourcefiles, validate_tree
from controller.model.desired import Adoption, ResourceKey, RuntimeValue, SharingGrant
from tests.fixtures.manifests import JOB, MODEL, ManifestRepo

EXAMPLE = Path(__file__).parents[2] / "manifests-example"
REPO = Path(__file__).parents[2]


def test_the_example_repository_loads_three_models_and_two_jobs() -> None:
    state = load_desired_state(REPO, EXAMPLE)

    assert state.root == "manifests-example"
    assert [m.key.name for m in state.models] == [
        "fraud-detector",
        "house-prices",
        "support-assistant",
    ]
    assert [j.key.name for j in state.jobs] == ["drift-alert", "nightly-retrain"]
    fraud = state.models[0]
    assert fraud.location.file == "manifests-example/models/fraud-detector.yaml"
    assert fraud.version is not None
    assert fraud.version.source.dir == "manifests-example/models/fraud-detector"
    assert "tests/test_custom.py" not in fraud.version.source.paths()  # excluded
    assert fraud.version.settings["maximumMemory"] == 1024**3


def test_a_binary_model_gets_the_api_defaults_it_implies(manifest_repo: ManifestRepo) -> None:
    state = load_desired_state(manifest_repo.with_model().root)

    model = state.models[0]
    assert model.key == ResourceKey("CustomModel", "scorer")
    assert dict(model.fields) == {
        "name": "scorer",
        "description": "",
        "language": "",
        "targetType": "Binary",
        "targetName": "label",
        "positiveClassLabel": "yes",
        "negativeClassLabel": "no",
        "predictionThreshold": 0.5,
    }
    assert model.sharing is None
    assert model.adopt is None


def test_enum_case_and_memory_units_are_normalised(manifest_repo: ManifestRepo) -> None:
    manifest = MODEL.replace("targetType: Binary", "targetType: binary").replace(
        "maximumMemory: 512Mi", "maximumMemory: 1G\n    desiredMemory: 268435456"
    )
    manifest += "    networkEgressPolicy: public\n"
    model = load_desired_state(manifest_repo.with_model(manifest).root).models[0]

    assert model.fields["targetType"] == "Binary"
    assert model.version is not None
    assert dict(model.version.settings) == {
        "baseEnvironmentId": "64d2ba178dd3f0b1fa2162f0",
        "maximumMemory": 1_000_000_000,
        "desiredMemory": 268435456,
        "networkEgressPolicy": "PUBLIC",
    }


def test_source_files_carry_their_version_path_and_repository_path(
    manifest_repo: ManifestRepo,
) -> None:
    manifest_repo.with_model().write(
        {
            "models/scorer/pkg/helpers.py": "X = 1\n",
            "models/scorer/__pycache__/custom.cpython-311.pyc": b"\0",
            "models/scorer/.DS_Store": b"\0",
        }
    )
    version = load_desired_state(manifest_repo.root).models[0].version
    assert version is not None

    files = {f.path: f.repo_path for f in version.source.files}
    assert files == {
        "custom.py": "models/scorer/custom.py",
        "model-metadata.yaml": "models/scorer/model-metadata.yaml",
        "pkg/helpers.py": "models/scorer/pkg/helpers.py",
        "requirements.txt": "models/scorer/requirements.txt",
    }
    assert [f.path for f in version.source.files] == sorted(files)


def test_a_symlinked_file_inside_the_repository_is_uploaded_with_the_target_content(
    manifest_repo: ManifestRepo,
) -> None:
    manifest_repo.with_model().write({"shared/utils.py": "def helper():\n    return 1\n"})
    (manifest_repo.root / "models/scorer/utils.py").symlink_to("../../shared/utils.py")

    version = load_desired_state(manifest_repo.root).models[0].version
    assert version is not None

    linked = next(f for f in version.source.files if f.path == "utils.py")
    assert linked.repo_path == "shared/utils.py"
    assert linked.size == len("def helper():\n    return 1\n")


def test_a_manifest_inside_its_own_source_folder_is_not_uploaded(
    manifest_repo: ManifestRepo,
) -> None:
    manifest = MODEL.replace("source: ./scorer", "source: .")
    manifest_repo.with_model().write({"models/scorer/manifest.yaml": manifest})
    (manifest_repo.root / "models/scorer.yaml").unlink()

    version = load_desired_state(manifest_repo.root).models[0].version
    assert version is not None
    assert "manifest.yaml" not in version.source.paths()
    assert "custom.py" in version.source.paths()


def test_sources_may_live_beside_the_manifest_folder(manifest_repo: ManifestRepo) -> None:
    manifest = MODEL.replace("source: ./scorer", "source: ../src/scorer")
    manifest_repo.write(
        {
            "manifests/scorer.yaml": manifest,
            "src/scorer/custom.py": "x = 1\n",
        }
    )

    state = load_desired_state(manifest_repo.root, manifest_repo.root / "manifests")

    assert state.root == "manifests"
    assert state.models[0].version is not None
    assert state.models[0].version.source.dir == "src/scorer"


def test_runtime_values_are_typed_by_their_definitions(manifest_repo: ManifestRepo) -> None:
    manifest = MODEL + (
        "    runtimeParameters:\n"
        "      LIMIT: 7\n"
        "      GREETING: hello\n"
        "      STORE: {credentialId: 65a1f0c2e4b0a1b2c3d4e5f6}\n"
        "      VERBOSE: null\n"
    )
    version = load_desired_state(manifest_repo.with_model(manifest).root).models[0].version
    assert version is not None

    assert version.runtime_values == (
        RuntimeValue("GREETING", "string", "hello"),
        RuntimeValue("LIMIT", "numeric", 7),
        RuntimeValue("STORE", "credential", "65a1f0c2e4b0a1b2c3d4e5f6"),
        RuntimeValue("VERBOSE", "boolean", None),
    )
    assert [d.field_name for d in version.runtime_definitions] == [
        "GREETING",
        "LIMIT",
        "STORE",
        "VERBOSE",
    ]
    assert version.runtime_definitions[1].max_value == 100


def test_a_model_without_version_manages_the_model_fields_only(
    manifest_repo: ManifestRepo,
) -> None:
    manifest = MODEL.split("  version:")[0]
    manifest_repo.write({"models/plain.yaml": manifest})

    model = load_desired_state(manifest_repo.root).models[0]

    assert model.version is None
    assert model.fields["name"] == "scorer"


def test_adopt_asks_to_take_over_the_object_named_like_spec_name(
    manifest_repo: ManifestRepo,
) -> None:
    manifest = MODEL.replace("  name: scorer\n", "  name: scorer\n  adopt: true\n").replace(
        "spec:\n", "spec:\n  name: Hand-made scorer\n"
    )
    model = load_desired_state(manifest_repo.with_model(manifest).root).models[0]

    assert model.adopt == Adoption("Hand-made scorer")


def test_job_defaults_and_sharing_with_groups_and_organizations(
    manifest_repo: ManifestRepo,
) -> None:
    manifest = JOB + (
        "  resources: {resourceBundleId: cpu.small}\n"
        "  sharing:\n"
        "    - {username: gitops-bot@example.com, role: OWNER}\n"
        "    - {shareRecipientType: group, name: data-science, role: USER, canShare: false}\n"
        "    - {shareRecipientType: organization, id: 6500000000000000000000f1, role: OBSERVER}\n"
    )
    job = load_desired_state(manifest_repo.with_job(manifest).root).jobs[0]

    assert dict(job.fields) == {
        "name": "worker",
        "description": "",
        "jobType": "default",
        "environmentId": "64d2ba178dd3f0b1fa2162f2",
        "resources": {"egressNetworkPolicy": "none", "resourceBundleId": "cpu.small"},
    }
    assert job.entry_point == "run.sh"
    assert job.sharing is not None
    assert [(g.recipient_type, g.name, g.id, g.role, g.can_share) for g in job.sharing] == [
        ("group", "data-science", None, "USER", False),
        ("organization", None, "6500000000000000000000f1", "OBSERVER", None),
        ("user", "gitops-bot@example.com", None, "OWNER", None),
    ]


def test_model_sharing_is_sorted_by_user(manifest_repo: ManifestRepo) -> None:
    manifest = MODEL + (
        "  sharing:\n"
        "    - {username: zed@example.com, role: OWNER, canShare: true}\n"
        "    - {username: alice@example.com, role: USER}\n"
    )
    model = load_desired_state(manifest_repo.with_model(manifest).root).models[0]

    assert model.sharing == (
        SharingGrant("user", "USER", name="alice@example.com"),
        SharingGrant("user", "OWNER", name="zed@example.com", can_share=True),
    )


def test_loading_raises_one_error_listing_every_problem(manifest_repo: ManifestRepo) -> None:
    manifest_repo.with_model(MODEL.replace("Binary", "Bianry")).with_job(
        JOB.replace("run.sh", "start.sh")
    )

    with pytest.raises(ManifestError) as raised:
        load_desired_state(manifest_repo.root)

    assert isinstance(raised.value, DrGitopsError)
    assert [p.file for p in raised.value.errors] == ["jobs/worker.yaml", "models/scorer.yaml"]
    assert "models/scorer.yaml:6: document 1: spec.targetType: 'Bianry'" in str(raised.value)


def test_validate_tree_returns_problems_instead_of_raising(manifest_repo: ManifestRepo) -> None:
    manifest_repo.write({"broken.yaml": "apiVersion: dr-gitops/v1\nkind: [\n"})

    problems = validate_tree(manifest_repo.root)

    assert len(problems) == 1
    assert problems[0].file == "broken.yaml"
    assert problems[0].severity == "error"


def test_other_yaml_files_are_ignored(manifest_repo: ManifestRepo) -> None:
    manifest_repo.with_model().write(
        {
            ".github/workflows/ci.yaml": "on: push\njobs: {}\n",
            "helm/values.yaml": "replicas: {{ .Values.x }}\n",
            "docs/kind.yaml": "apiVersion: v1\nkind: ConfigMap\n",
        }
    )

    loaded = manifest_repo.load()

    assert loaded.problems == ()
    assert loaded.manifests == 1


def test_several_manifests_in_one_file_keep_their_document_numbers(
    manifest_repo: ManifestRepo,
) -> None:
    second = MODEL.replace("name: scorer", "name: scorer-two").replace("Binary", "Bianry")
    manifest_repo.with_model(MODEL + "---\n" + second)

    (problem,) = manifest_repo.errors()

    assert (problem.document, problem.line, problem.path) == (2, 20, "spec.targetType")


def test_warnings_do_not_stop_loading(manifest_repo: ManifestRepo) -> None:
    metadata = (
        "runtimeParameterDefinitions:\n  - {fieldName: KEY, type: credential, allowEmpty: false}\n"
    )
    manifest_repo.with_model(metadata=metadata)

    loaded = manifest_repo.load()

    assert loaded.errors == ()
    assert [w.severity for w in loaded.warnings] == ["warning"]
    assert "'KEY' has no value" in loaded.warnings[0].message
    with capture_logs() as events:
        state = load_desired_state(manifest_repo.root)
    assert state.models[0].key.name == "scorer"
    assert [e["event"] for e in events] == ["manifest_warning"]


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("evil\n```\n**look here**.txt", "control character"),
        ("tab\there.txt", "control character"),
        (b"lat\xe9.txt", "not UTF-8"),
    ],
)
def test_a_source_file_name_the_api_or_a_plan_cannot_carry_is_an_error(
    manifest_repo: ManifestRepo, name: str | bytes, complaint: str
) -> None:
    import os

    manifest_repo.with_model()
    folder = os.fsencode(manifest_repo.root / "models" / "scorer")
    raw = name if isinstance(name, bytes) else name.encode()
    with open(os.path.join(folder, raw), "wb") as handle:
        handle.write(b"x")
    (problem,) = manifest_repo.errors()
    assert complaint in problem.message
    assert "rename it, or exclude it" in problem.hint


def test_a_git_submodule_inside_a_source_is_an_error(manifest_repo: ManifestRepo) -> None:
    manifest_repo.with_model().write(
        {"models/scorer/lib/.git": "gitdir: ../../.git/modules/lib\n", "models/scorer/lib/x.py": ""}
    )
    (problem,) = manifest_repo.errors()
    assert "models/scorer/lib is a git submodule" in problem.message


def test_a_git_lfs_pointer_in_a_source_is_a_warning(manifest_repo: ManifestRepo) -> None:
    pointer = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 12345\n"
    )
    manifest_repo.with_model().write({"models/scorer/model.pkl": pointer})
    loaded = manifest_repo.load()
    assert not loaded.errors
    (warning,) = [p for p in loaded.problems if "LFS" in p.message]
    assert "models/scorer/model.pkl is a Git LFS pointer" in warning.message


def test_only_files_the_size_of_a_git_lfs_pointer_are_opened_to_look_for_one(
    manifest_repo: ManifestRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    smallest = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 0\n"
    )
    opened: list[str] = []
    original = sourcefiles._is_lfs_pointer

    def counted(path: str) -> bool:
        opened.append(Path(path).name)
        return original(path)

    monkeypatch.setattr(sourcefiles, "_is_lfs_pointer", counted)
    manifest_repo.with_model().write({"models/scorer/empty.pkl": smallest})
    loaded = manifest_repo.load()
    (warning,) = [p for p in loaded.problems if "LFS" in p.message]
    assert "models/scorer/empty.pkl is a Git LFS pointer" in warning.message
    # custom.py, requirements.txt and model-metadata.yaml are too small to be pointers
    assert opened == ["empty.pkl"]
