"""Every way the documentation tells people to install or run dr-gitops works.

dr-gitops is not on PyPI: an install command in README.md, docs/ or examples/ must be one of
the forms below, each exercised by a test (the CI examples' ones in tests/ci_examples). A
new install command fails this file until it is added here with its test.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

from controller import __version__
from controller.cli import build_parser
from tests.packaging.installing import ROOT, Installed, clean_clone, offline_pip_env, run

# Every install command of the documentation → the test that runs it.
INSTALL_FORMS = {
    "python3 -m pip install -c dr-gitops/constraints.txt ./dr-gitops": "test_the_readme_install_works",
    "python -P -m pip --python": "tests/ci_examples/test_action.py (GitHub Action and GitLab job)",
}
DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted(p for p in (ROOT / "examples").rglob("*") if p.is_file()),
    ROOT / "action.yml",
    ROOT / ".pre-commit-hooks.yaml",
]
_INSTALL = re.compile(
    r"[^\n`]*\bpip3? install\b[^\n`]*|[^\n`]*\bpip --python\b[^\n`]*|[^\n`]*\bpipx install\b[^\n`]*"
)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_install_command_is_a_tested_form(document: Path) -> None:
    for found in _INSTALL.finditer(document.read_text()):
        line = found.group(0)
        assert any(form in line for form in INSTALL_FORMS), (
            f"{document.relative_to(ROOT)}: {line.strip()!r} is not an install command a test "
            "runs (dr-gitops is not on PyPI); use one of INSTALL_FORMS"
        )
    assert "dr-gitops==" not in document.read_text()  # not on PyPI: no version to pin there


def readme_install_block() -> list[str]:
    section = README_SECTION.search((ROOT / "README.md").read_text())
    assert section, "README.md has no 'Using it on your repository' section with a sh block"
    return [line for line in section.group(1).splitlines() if line.strip()]


README_SECTION = re.compile(r"## Using it on your repository\n.*?```sh\n(.*?)```", re.S)


def test_the_readme_install_works(tmp_path: Path) -> None:
    """The README's install lines, run as written (the clone from a local copy of this
    repository, the checkout of its commit, as before the first release), give a working
    dr-gitops (offline: no index; the dependencies come from the test environment)."""
    lines = [line.split("#")[0] for line in readme_install_block()]
    clone = shlex.split(next(line for line in lines if line.startswith("git clone")))
    checkout = shlex.split(next(line for line in lines if " checkout " in line))
    install = shlex.split(next(line for line in lines if "pip install" in line))
    assert checkout[-1] == "<commit>"
    assert install[:3] == ["python3", "-m", "pip"]
    release = clean_clone(tmp_path / "origin" / "dr-gitops")
    work = tmp_path / "work"
    work.mkdir()
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "r"]):
        run(["git", *args], cwd=release)
    commit = run(["git", "rev-parse", "HEAD"], cwd=release).stdout.strip()
    run(["git", "commit", "-q", "--allow-empty", "-m", "after"], cwd=release)  # not HEAD
    url = next(word for word in clone if word.startswith("https://"))
    run([word.replace(url, f"file://{release}") for word in clone], cwd=work)
    run([*checkout[:-1], commit], cwd=work)
    assert run(["git", "rev-parse", "HEAD"], cwd=work / "dr-gitops").stdout.strip() == commit

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    site = run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    Path(site, "_test_libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # `python3 -m pip ARGS` of the README, with that venv's Python, from the same folder.
    run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", *install[3:]],
        cwd=work,
        env={**offline_pip_env(), "PIP_NO_BUILD_ISOLATION": "0"},
    )
    # (validate and plan from an installed build: test_distributions.py)
    assert __version__ in Installed(venv).run("--version", cwd=tmp_path)


def test_make_dist_builds_the_wheel_and_the_sdist_as_the_packaging_tests_do() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^dist:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "the Makefile has no dist target"
    assert "-m build --no-isolation --outdir dist ." in recipe.group(1)  # tests/packaging builds so


def test_the_pre_commit_hook_points_at_a_real_command(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    known = {
        "id",
        "name",
        "entry",
        "language",
        "files",
        "exclude",
        "types",
        "types_or",
        "exclude_types",
        "always_run",
        "fail_fast",
        "verbose",
        "pass_filenames",
        "require_serial",
        "description",
        "language_version",
        "minimum_pre_commit_version",
        "args",
        "stages",
    }
    (hook,) = hooks
    assert set(hook) <= known, set(hook) - known
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["id"] == "dr-gitops-validate"
    assert hook["language"] == "python"  # pre-commit pip-installs this repository
    assert hook["pass_filenames"] is False  # validate takes a folder, not file names
    program, *args = shlex.split(hook["entry"])
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert program in scripts
    assert build_parser().parse_args(args).command == "validate"
    # Run as pre-commit does: the entry, in the repository's root, with the hook's args.
    repository = tmp_path / "repo"
    shutil.copytree(ROOT / "manifests-example", repository)
    executable = Path(sys.executable).parent / program
    done = subprocess.run(
        [executable, *args, *hook.get("args", [])],
        cwd=repository,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ok: 7 manifests valid" in done.stdout
    (repository / "models" / "broken.yaml").write_text(
        "apiVersion: dr-gitops/v1\nkind: CustomModel\n"
    )
    failed = subprocess.run(
        [executable, *args], cwd=repository, capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1
    assert "broken.yaml" in failed.stdout + failed.stderr
