"""Building dr-gitops's distributions as users and the image do, and running them installed.

No container engine can pull base images here, so the image is proven by building the
wheel from exactly what the Dockerfile's build stage copies. Builds run offline (no build
isolation: the test environment has setuptools, wheel and build); each install goes into
a fresh virtual environment that sees the test environment's libraries through a ``.pth``
line (a ``.pth`` file inside that folder is not run, so the editable dr-gitops of the test
environment stays invisible) and gets dr-gitops itself only from the distribution.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_build_stage(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the first stage, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    stage: list[tuple[str, str]] = []
    seen_from = False
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            if seen_from:
                break
            seen_from = True
        if seen_from:
            stage.append((word.upper(), rest.strip()))
    return stage


def _dockerignored(relative: str, patterns: Sequence[str]) -> bool:
    parts = relative.split("/")
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatchcase(part, pattern[3:]) for part in parts):
                return True
        elif any(
            fnmatch.fnmatchcase("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1)
        ):
            return True
    return False


def docker_build_context(dest: Path) -> Path:
    """Copy what the Dockerfile's build stage COPYs to where it copies it (symbolic links
    copied as links, as Docker does, and .dockerignore applied); return the folder the
    stage's ``pip wheel`` builds."""
    ignore = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    workdir = Path("/")
    build_dir: Path | None = None
    for word, rest in dockerfile_build_stage(ROOT / "Dockerfile"):
        if word == "WORKDIR":
            workdir = workdir / rest
        elif word == "COPY":
            assert "--from" not in rest
            *sources, target = shlex.split(rest)
            into = dest / (workdir / target).relative_to("/")
            for source in sources:
                origin = ROOT / source
                if origin.is_dir():
                    _copy_tree(origin, into, source, ignore)
                else:
                    place = into / origin.name if target.endswith("/") else into
                    place.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(origin, place)
        elif word == "RUN" and "pip wheel" in rest:
            assert rest.split()[-1] == ".", rest
            build_dir = dest / workdir.relative_to("/")
    assert build_dir is not None, "the build stage runs no `pip wheel .`"
    return build_dir


def _copy_tree(origin: Path, into: Path, source: str, ignore: Sequence[str]) -> None:
    for path in sorted(origin.rglob("*")):
        relative = path.relative_to(origin).as_posix()
        if _dockerignored(f"{source.rstrip('/')}/{relative}", ignore):
            continue
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            target.symlink_to(os.readlink(path))
        elif path.is_file():
            shutil.copy2(path, target)
    into.mkdir(parents=True, exist_ok=True)


def clean_clone(dest: Path) -> Path:
    """The files a fresh clone of this working tree holds (tracked and new files that git
    does not ignore, as they are now; links kept as links)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        origin = ROOT / relative
        if not origin.exists() and not origin.is_symlink():
            continue  # deleted in the working tree, not yet committed
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_symlink():
            target.symlink_to(os.readlink(origin))
        else:
            shutil.copy2(origin, target)
    return dest


def run(args: Sequence[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=240, check=False, **kwargs
    )  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


def offline_pip_env() -> dict[str, str]:
    """pip with no index: nothing may be downloaded while the tests run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        {"PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_CONFIG_FILE": os.devnull}
    )
    env.pop("PYTHONPATH", None)
    return env


def build_wheel_with_pip(source: Path, out: Path) -> Path:
    """What the Dockerfile runs: ``pip wheel --no-deps`` (offline here)."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            out,
            source,
        ],
        env=offline_pip_env(),
    )
    (wheel,) = out.glob("dr_gitops-*.whl")
    return wheel


def build_with_build(source: Path, out: Path) -> tuple[Path, Path]:
    """What ``make dist`` runs: ``python -m build`` (the sdist, then the wheel from it)."""
    run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", out, source],
        env=offline_pip_env(),
    )
    (sdist,) = out.glob("dr_gitops-*.tar.gz")
    (wheel,) = out.glob("dr_gitops-*.whl")
    return sdist, wheel


@dataclass(frozen=True)
class Installed:
    """dr-gitops installed in its own virtual environment."""

    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def dr_gitops(self) -> Path:
        return self.venv / "bin" / "dr-gitops"

    def run(self, *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None) -> str:
        environ = {k: v for k, v in os.environ.items() if k.startswith(("GIT_", "LANG", "LC_"))}
        environ.update(
            {"PATH": os.environ["PATH"], "HOME": str(cwd), "NO_PROXY": "*", **(env or {})}
        )
        return run([self.dr_gitops, *args], cwd=cwd, env=environ).stdout


def install(distribution: Path, venv: Path) -> Installed:
    """A fresh venv, the test environment's libraries visible, dr-gitops from ``distribution``."""
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    site = Path(
        run(
            [
                venv / "bin" / "python",
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            ]
        ).stdout.strip()
    )
    (site / "_test_libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            venv / "bin" / "python",
            "install",
            "--no-deps",
            "--no-build-isolation",
            distribution,
        ],
        env=offline_pip_env(),
    )
    return Installed(venv)
