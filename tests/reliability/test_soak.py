"""Under 20% injected faults (429 with Retry-After, 502/503/504 before and after the write,
dropped connections, latency spikes), repeated applies converge, and DataRobot then holds
exactly what the manifests say: nothing duplicated, missing, lost or deleted. The last
round removes some manifests and applies with --prune: exactly those objects go."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.server import EmulatorServer
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.reliability import Figures
from tests.reliability.repos import Shape
from tests.reliability.scenarios import SoakReport, soak


def _assert_converged_exactly(report: SoakReport) -> None:
    for number, round_ in enumerate(report.rounds, 1):
        runs = round_.convergence
        assert runs.converged, f"round {number} did not converge: {runs.runs[-1].detail}"
        assert round_.leftovers == [], f"round {number}: the next plan is not empty"
        round_.verdict.assert_clean()
        assert round_.requests["injected"] + round_.requests["dropped"] > 0  # faults did fire


def test_a_small_repository_converges_exactly_under_faults(
    emulator: EmulatorServer, git_repo: GitRepo, tmp_path: Path, figures: Figures
) -> None:
    report = soak(
        emulator,
        git_repo,
        tmp_path / "cache",
        Shape(models=6, jobs=2, seed=7),
        spike_ms=(100, 400),
        modes=("engine", "cli"),
        prune=1,
    )
    figures(report.figures())
    _assert_converged_exactly(report)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_200_models_and_50_jobs_converge_exactly_under_faults(
    emulator: EmulatorServer, git_repo: GitRepo, tmp_path: Path, figures: Figures, seed: int
) -> None:
    report = soak(
        emulator, git_repo, tmp_path / "cache", Shape(seed=seed), rounds=3, max_runs=15, prune=4
    )
    figures(report.figures())
    _assert_converged_exactly(report)
