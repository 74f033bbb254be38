"""What pyproject.toml promises about dependencies is true: no floor admits a release with a
known vulnerability, and nothing is configured for a library the code does not use."""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.packaging.installing import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# Releases the lower bounds must exclude (advisory: releases affected).
VULNERABLE = {
    "waitress": [
        "3.0.0"
    ],  # CVE-2024-49768 (request smuggling), CVE-2024-49769 (DoS); fixed in 3.0.1
}


@pytest.mark.parametrize("name", sorted(VULNERABLE))
def test_no_dependency_range_admits_a_known_vulnerable_release(name: str) -> None:
    (requirement,) = [
        r
        for r in map(Requirement, PYPROJECT["project"]["dependencies"])
        if canonicalize_name(r.name) == name
    ]
    for version in VULNERABLE[name]:
        assert not requirement.specifier.contains(version), f"{requirement} admits {version}"


def test_the_constraints_pin_no_vulnerable_release() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    for name, versions in VULNERABLE.items():
        assert pins[name] not in versions


def test_gitpython_is_not_configured_because_git_runs_as_subprocesses() -> None:
    # The design once named GitPython; git runs as batched subprocesses instead
    # (controller/sources/gitrunner.py), so nothing may still pretend it is used.
    overrides = PYPROJECT["tool"]["mypy"]["overrides"]
    assert not any(m.startswith("git") for o in overrides for m in o["module"])
    contracts = PYPROJECT["tool"]["importlinter"]["contracts"]
    assert not any("git" in c.get("forbidden_modules", []) for c in contracts)
    (processes,) = [c for c in contracts if c.get("forbidden_modules") == ["subprocess"]]
    assert "controller.sources" not in processes["source_modules"]
    assert "GitPython" in (ROOT / "README.md").read_text()  # the dependency note says why
