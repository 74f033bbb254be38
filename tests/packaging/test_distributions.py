"""The image, the wheel and the sdist each install and work: version, validate, plan.

The image (no container engine here) is proven by the wheel built from exactly the files
the Dockerfile's build stage copies; the wheel and sdist by what ``python -m build`` (``make
dist``) makes from a clean clone. Each is installed into its own virtual environment and run
from outside the source tree, against the emulator over HTTP.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from controller import __version__
from emulator.server import EmulatorServer
from tests.packaging.installing import (
    ROOT,
    Installed,
    build_wheel_with_pip,
    build_with_build,
    clean_clone,
    docker_build_context,
    install,
)

RENDER_PAGE = (
    "from controller.service.operations import OperationsSettings\n"
    "from controller.service.page import PageFacts, RunPages, render_index\n"
    "facts = PageFacts({}, {}, OperationsSettings(namespace='pkg/ns'), RunPages(1))\n"
    "print(render_index(facts))\n"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three distributions, built once for this module."""
    root = tmp_path_factory.mktemp("dists")
    image_wheel = build_wheel_with_pip(docker_build_context(root / "docker"), root / "docker-dist")
    # `python -m build` makes the sdist, then the wheel from the sdist: installing that
    # wheel proves both (a file missing from the sdist is missing from the wheel).
    sdist, wheel = build_with_build(clean_clone(root / "clone"), root / "dist")
    return {"image wheel": image_wheel, "wheel from the sdist": wheel, "sdist": sdist}


def manifests_repo(where: Path) -> Path:
    repo = where / "repo"
    shutil.copytree(ROOT / "manifests-example", repo)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "manifests"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    return repo


def check_installed(installed: Installed, tmp_path: Path, emulator: EmulatorServer) -> None:
    # The installed package, not this source tree, is what runs.
    located = subprocess.run(
        [installed.python, "-c", "import controller; print(controller.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert located.startswith(str(installed.venv)), located

    assert __version__ in installed.run("--version", cwd=tmp_path)

    # The status page's templates are package data: they load from the installed package.
    rendered = subprocess.run(
        [installed.python, "-c", RENDER_PAGE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    page = rendered.stdout
    assert page.startswith("<!doctype html>"), page
    assert "namespace <strong>pkg/ns</strong>" in page

    repo = manifests_repo(tmp_path)
    validated = installed.run("validate", ".", cwd=repo)
    assert "ok: 7 manifests valid" in validated, validated

    planned = installed.run(
        "plan",
        cwd=repo,
        env={
            "DATAROBOT_ENDPOINT": emulator.api_url,
            "DATAROBOT_API_TOKEN": emulator.token,
            "DR_GITOPS_NAMESPACE": "example.com/packaging",
            "DR_GITOPS_CACHE_DIR": str(tmp_path / "cache"),
        },
    )
    assert "Plan: 7 to create" in planned, planned


@pytest.mark.parametrize("kind", ["image wheel", "wheel from the sdist"])
def test_the_distribution_installs_validates_and_plans(
    kind: str, built: dict[str, Path], tmp_path: Path, emulator: EmulatorServer
) -> None:
    installed = install(built[kind], tmp_path / "venv")
    check_installed(installed, tmp_path, emulator)


def test_the_distributions_ship_the_schemas_the_page_templates_and_the_comment_poster(
    built: dict[str, Path],
) -> None:
    import tarfile
    import zipfile

    shipped = ["controller/post_plan_comment.py", "controller/plancomments.py"] + [
        f"controller/schemas/{name}"
        for name in ("custom-model.schema.json", "custom-job.schema.json", "plan.schema.json")
    ]
    shipped += [
        f"controller/service/templates/{name}"
        for name in sorted(p.name for p in (ROOT / "controller/service/templates").glob("*.html"))
    ]
    assert len(shipped) > 4
    for kind in ("image wheel", "wheel from the sdist"):
        names = zipfile.ZipFile(built[kind]).namelist()
        assert set(shipped) <= set(names), kind
    with tarfile.open(built["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {*shipped, "schemas/custom-model.schema.json", "constraints.txt"} <= names
