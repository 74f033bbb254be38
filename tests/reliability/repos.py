"""Generated repositories of manifests for the soak and crash trials.

:func:`generate` writes ``manifests-example`` (under ``example/``) and ``models`` custom
models plus ``jobs`` custom jobs (under ``generated/``) into a git working tree, with a
seeded mix of what users write: Binary and Regression targets, version settings, runtime
values (numbers, strings, booleans, credentials), sharing with users, groups and the
organization, nested folders, a binary file, excluded test folders. :func:`evolve` then
edits a seeded share of them the way a follow-up commit does (a file changed, added or
deleted, a runtime value changed or removed, a grant added or revoked, a description
edited, an entry point renamed), and reorganises a few: a source folder moved (one of them
with a file edited in the same commit) and a file's mode changed, neither of which changes
what DataRobot should hold. Nothing here knows what DataRobot should hold: the verifier
derives that from the manifests themselves.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.fixtures.gitrepos import GitRepo

EXAMPLE = Path(__file__).resolve().parents[2] / "manifests-example"
ENV_MODELS = "64d2ba178dd3f0b1fa2162f0"
ENV_JOBS = "64d2ba178dd3f0b1fa2162f2"
BOT = "gitops-bot@example.com"
ORG_ID = "6500000000000000000000f1"
CREDENTIALS = ("65a1f0c2e4b0a1b2c3d4e5f6", "65a1f0c2e4b0a1b2c3d4e5f7", "65a1f0c2e4b0a1b2c3d4e5f8")

MODEL_METADATA = """\
name: {name}
type: inference
targetType: {target}
runtimeParameterDefinitions:
  - fieldName: THRESHOLD
    type: numeric
    defaultValue: 0.5
    minValue: 0
    maxValue: 1
  - fieldName: MODE
    type: string
    defaultValue: fast
  - fieldName: VERBOSE
    type: boolean
    defaultValue: false
  - fieldName: STORE_CREDENTIALS
    type: credential
    credentialType: s3
"""

JOB_METADATA = """\
name: {name}
runtimeParameterDefinitions:
  - fieldName: DAYS
    type: numeric
    defaultValue: 30
    minValue: 1
    maxValue: 365
  - fieldName: TARGET
    type: string
    defaultValue: all
  - fieldName: DRY_RUN
    type: boolean
    defaultValue: false
"""


@dataclass(frozen=True)
class Shape:
    """What to generate: ``models`` and ``jobs`` counts, the example or not, a seed."""

    models: int = 200
    jobs: int = 50
    example: bool = True
    seed: int = 0

    def model_names(self) -> list[str]:
        return [f"gm-{index:03d}" for index in range(self.models)]

    def job_names(self) -> list[str]:
        return [f"gj-{index:03d}" for index in range(self.jobs)]


def generate(repo: GitRepo, shape: Shape) -> None:
    """Write the whole repository into ``repo``'s working tree (the caller commits)."""
    rng = random.Random(shape.seed)
    if shape.example:
        shutil.copytree(EXAMPLE, repo.path / "example", dirs_exist_ok=True)
    for name in shape.model_names():
        _write_model(repo, name, rng)
    for name in shape.job_names():
        _write_job(repo, name, rng)


def _write_model(repo: GitRepo, name: str, rng: random.Random) -> None:
    binary = rng.random() < 0.5
    spec: dict[str, Any] = {
        "name": f"Generated model {name}",
        "description": f"Soak model {name} ({rng.randrange(10**6)})",
        "targetType": "Binary" if binary else "Regression",
        "targetName": "label" if binary else "y",
        "language": "python",
    }
    if binary:
        spec |= {"positiveClassLabel": "yes", "negativeClassLabel": "no"}
        spec["predictionThreshold"] = round(rng.uniform(0.1, 0.9), 2)
    version: dict[str, Any] = {"source": f"./{name}", "baseEnvironmentId": ENV_MODELS}
    if rng.random() < 0.5:
        version["maximumMemory"] = rng.choice(["256Mi", "512Mi", "1Gi"])
    if rng.random() < 0.4:
        version["replicas"] = rng.randint(1, 3)
    if rng.random() < 0.3:
        version["networkEgressPolicy"] = rng.choice(["NONE", "PUBLIC"])
    if rng.random() < 0.35:
        version["runtimeParameters"] = _model_values(rng)
    files: dict[str, str | bytes] = {
        "custom.py": f"# {name}\nSALT = {rng.randrange(10**9)}\n\ndef score(data, model, **kw):\n"
        "    return data\n",
        "model-metadata.yaml": MODEL_METADATA.format(
            name=name, target="binary" if binary else "regression"
        ),
        "requirements.txt": rng.choice(["pandas>=2.0\n", "numpy>=1.26\nscikit-learn>=1.4\n"]),
    }
    if rng.random() < 0.5:
        files["src/features.py"] = f"FEATURES = {sorted(rng.sample(range(100), 5))}\n"
    if rng.random() < 0.3:
        files["weights.bin"] = rng.randbytes(rng.randint(16, 4096))
    if rng.random() < 0.25:
        files["tests/test_model.py"] = "def test_nothing():\n    pass\n"
        version["exclude"] = ["tests/**"]
    spec["version"] = version
    if rng.random() < 0.25:
        spec["sharing"] = _model_sharing(rng)
    _manifest(repo, f"generated/models/{name}.yaml", "CustomModel", name, spec)
    repo.write({f"generated/models/{name}/{path}": body for path, body in files.items()})


def _model_values(rng: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {"THRESHOLD": round(rng.uniform(0.05, 0.95), 2)}
    if rng.random() < 0.6:
        values["MODE"] = rng.choice(["fast", "accurate", "balanced"])
    if rng.random() < 0.4:
        values["VERBOSE"] = rng.random() < 0.5
    if rng.random() < 0.3:
        values["STORE_CREDENTIALS"] = {"credentialId": rng.choice(CREDENTIALS)}
    return values


def _model_sharing(rng: random.Random) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = [{"username": BOT, "role": "OWNER", "canShare": True}]
    grants.append({"username": "alice@example.com", "role": rng.choice(["OWNER", "USER"])})
    if rng.random() < 0.5:
        grants.append({"username": "bob@example.com", "role": "USER"})
    if rng.random() < 0.5:
        grants.append({"username": "carol@example.com", "role": "EDITOR", "canShare": False})
    return grants


def _write_job(repo: GitRepo, name: str, rng: random.Random) -> None:
    spec: dict[str, Any] = {
        "name": f"Generated job {name}",
        "description": f"Soak job {name}",
        "jobType": rng.choice(["default", "retraining", "notification"]),
        "environmentId": ENV_JOBS,
        "source": f"./{name}",
        "entryPoint": "run.sh",
    }
    if rng.random() < 0.5:
        spec["resources"] = {"egressNetworkPolicy": rng.choice(["none", "public"])}
    if rng.random() < 0.4:
        values: dict[str, Any] = {"DAYS": rng.randint(1, 365)}
        if rng.random() < 0.5:
            values["TARGET"] = rng.choice(["all", "recent", "labelled"])
        if rng.random() < 0.3:
            values["DRY_RUN"] = True
        spec["runtimeParameters"] = values
    if rng.random() < 0.3:
        spec["sharing"] = _job_sharing(rng)
    files = {
        "run.sh": f"#!/bin/sh\n# {name}\npython job.py\n",
        "job.py": f"print('{name}', {rng.randrange(10**6)})\n",
        "metadata.yaml": JOB_METADATA.format(name=name),
    }
    if rng.random() < 0.4:
        files["lib/helpers.py"] = f"HELP = {rng.randrange(1000)}\n"
    _manifest(repo, f"generated/jobs/{name}.yaml", "CustomJob", name, spec)
    repo.write({f"generated/jobs/{name}/{path}": body for path, body in files.items()})


def _job_sharing(rng: random.Random) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = [{"username": BOT, "role": "OWNER", "canShare": True}]
    if rng.random() < 0.7:
        grants.append({"shareRecipientType": "group", "name": "data-science", "role": "USER"})
    if rng.random() < 0.5:
        grants.append({"username": "alice@example.com", "role": rng.choice(["USER", "EDITOR"])})
    if rng.random() < 0.3:
        grants.append({"shareRecipientType": "organization", "id": ORG_ID, "role": "OBSERVER"})
    return grants


def _manifest(repo: GitRepo, path: str, kind: str, name: str, spec: dict[str, Any]) -> None:
    doc = {"apiVersion": "dr-gitops/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}
    repo.write({path: yaml.safe_dump(doc, sort_keys=False)})


# --- a follow-up commit ------------------------------------------------------------------


def evolve(repo: GitRepo, shape: Shape, *, round_: int, share: float = 0.25) -> list[str]:
    """Edit about ``share`` of the generated models and jobs (seeded by the shape's seed and
    ``round_``), then reorganise a few (see the module docstring); returns one line per
    edit, for messages."""
    rng = random.Random(shape.seed * 1000 + round_)
    edits: list[str] = []
    for name in shape.model_names():
        if rng.random() < share:
            edits.append(f"{name}: {_evolve_model(repo, name, rng, round_)}")
    for name in shape.job_names():
        if rng.random() < share:
            edits.append(f"{name}: {_evolve_job(repo, name, rng, round_)}")
    return edits + _reorganise(repo, shape, rng, round_)


def _reorganise(repo: GitRepo, shape: Shape, rng: random.Random, round_: int) -> list[str]:
    """Moves and mode changes: what changes no content, so must make no version."""
    edits: list[str] = []
    models = rng.sample(shape.model_names(), min(3, shape.models))
    for name, what in zip(models, ("move", "move+file", "mode"), strict=False):
        folder = source_folder(repo, "models", name)
        if what == "mode":
            _toggle_mode(folder / "custom.py")
        else:
            folder = _move(repo, "models", name, round_)
        if what == "move+file":
            (folder / "custom.py").write_text(
                (folder / "custom.py").read_text() + f"# moved in round {round_}\n"
            )
        edits.append(f"{name}: {what}")
    jobs = rng.sample(shape.job_names(), min(2, shape.jobs))
    for name, what in zip(jobs, ("move", "mode"), strict=False):
        if what == "mode":
            _toggle_mode(source_folder(repo, "jobs", name) / "job.py")
        else:
            _move(repo, "jobs", name, round_)
        edits.append(f"{name}: {what}")
    return edits


def source_folder(repo: GitRepo, kind: str, name: str) -> Path:
    """Where a generated model's or job's source folder is now (moves change it)."""
    manifest = repo.path / "generated" / kind / f"{name}.yaml"
    spec = yaml.safe_load(manifest.read_text())["spec"]
    source = spec["version"]["source"] if kind == "models" else spec["source"]
    return (manifest.parent / source).resolve()


def _move(repo: GitRepo, kind: str, name: str, round_: int) -> Path:
    """Move the source folder to ``moved-<round>/<name>`` and point the manifest at it."""
    manifest = repo.path / "generated" / kind / f"{name}.yaml"
    doc = yaml.safe_load(manifest.read_text())
    old = source_folder(repo, kind, name)
    new = manifest.parent / f"moved-{round_}" / name
    new.parent.mkdir(parents=True, exist_ok=True)
    old.rename(new)
    holder = doc["spec"]["version"] if kind == "models" else doc["spec"]
    holder["source"] = f"./moved-{round_}/{name}"
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
    return new


def _toggle_mode(path: Path) -> None:
    path.chmod(path.stat().st_mode ^ 0o111)


def _evolve_model(repo: GitRepo, name: str, rng: random.Random, round_: int) -> str:
    folder = source_folder(repo, "models", name)
    manifest = repo.path / "generated" / "models" / f"{name}.yaml"
    doc = yaml.safe_load(manifest.read_text())
    spec, version = doc["spec"], doc["spec"]["version"]
    edit = rng.choice(["file", "add", "delete", "value", "unset", "sharing", "field", "setting"])
    if edit == "file":
        (folder / "custom.py").write_text(
            (folder / "custom.py").read_text() + f"# round {round_}\n"
        )
    elif edit == "add":
        (folder / "extra").mkdir(exist_ok=True)
        (folder / "extra" / f"round_{round_}.txt").write_text(f"{name} {round_}\n")
    elif edit == "delete" and (folder / "requirements.txt").exists():
        (folder / "requirements.txt").unlink()
    elif edit == "value" or (edit == "unset" and not version.get("runtimeParameters")):
        version.setdefault("runtimeParameters", {})["MODE"] = f"round-{round_}"
        edit = "value"
    elif edit == "unset":
        version["runtimeParameters"].pop(sorted(version["runtimeParameters"])[0])
        if not version["runtimeParameters"]:
            del version["runtimeParameters"]
    elif edit == "sharing":
        grants = spec.get("sharing") or [{"username": BOT, "role": "OWNER", "canShare": True}]
        others = [g for g in grants if g.get("username") != "bob@example.com"]
        spec["sharing"] = (
            others
            if len(others) < len(grants)
            else [*grants, {"username": "bob@example.com", "role": "USER"}]
        )
    elif edit == "field":
        spec["description"] = f"{spec.get('description', '')} (edited in round {round_})"
    else:
        edit = "setting"
        version["replicas"] = int(version.get("replicas", 1)) % 3 + 1
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
    return edit


def _evolve_job(repo: GitRepo, name: str, rng: random.Random, round_: int) -> str:
    folder = source_folder(repo, "jobs", name)
    manifest = repo.path / "generated" / "jobs" / f"{name}.yaml"
    doc = yaml.safe_load(manifest.read_text())
    spec = doc["spec"]
    edit = rng.choice(["file", "value", "sharing", "field", "entry"])
    if edit == "file":
        (folder / "job.py").write_text((folder / "job.py").read_text() + f"# round {round_}\n")
    elif edit == "value":
        spec.setdefault("runtimeParameters", {})["DAYS"] = 100 + round_
    elif edit == "sharing":
        grants = spec.get("sharing") or [{"username": BOT, "role": "OWNER", "canShare": True}]
        spec["sharing"] = [*grants, {"username": "carol@example.com", "role": "EDITOR"}]
        if any(g.get("username") == "carol@example.com" for g in grants):
            spec["sharing"] = [g for g in grants if g.get("username") != "carol@example.com"]
    elif edit == "field":
        spec["description"] = f"{spec.get('description', '')} (edited in round {round_})"
    else:
        entry = spec["entryPoint"]
        renamed = f"start_{round_}.sh"
        (folder / entry).rename(folder / renamed)
        spec["entryPoint"] = renamed
    manifest.write_text(yaml.safe_dump(doc, sort_keys=False))
    return edit


def remove(repo: GitRepo, shape: Shape, *, models: int, jobs: int, round_: int) -> list[str]:
    """Delete the manifests and sources of a seeded choice of generated models and jobs (as
    when a team retires them); returns their names."""
    rng = random.Random(shape.seed * 1000 + round_)
    gone_models = rng.sample(shape.model_names(), min(models, shape.models))
    gone_jobs = rng.sample(shape.job_names(), min(jobs, shape.jobs))
    for kind, names in (("models", gone_models), ("jobs", gone_jobs)):
        for name in names:
            folder = source_folder(repo, kind, name).relative_to(repo.path.resolve())
            repo.remove(f"generated/{kind}/{name}.yaml", folder.as_posix())
    return [*gone_models, *gone_jobs]
