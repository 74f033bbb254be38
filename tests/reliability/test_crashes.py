"""A controller killed with SIGKILL anywhere in an apply, then run again, converges with no
duplicate model, version or job, no lost update and nothing of anyone else's touched.

Each trial generates a repository, kills ``dr-gitops apply`` (a real subprocess) after a
seeded random number of writes (or while it is still reading), sometimes kills the re-run
too, finishes, and verifies; then commits edits and does the same to the update path.
After a kill it waits until the emulator is quiet: requests the dead process left in flight
land first, as they do during a real restart (a window that only server-side idempotency
keys could close)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.server import EmulatorServer
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.reliability import Figures
from tests.reliability.repos import Shape
from tests.reliability.scenarios import CrashPhase, crash_figures, crash_trial


def _assert_clean(trials: list[list[CrashPhase]]) -> None:
    for number, trial in enumerate(trials, 1):
        for phase in trial:
            assert phase.leftovers == [], f"trial {number} at {phase.commit[:8]}"
            phase.verdict.assert_clean()


def test_three_killed_applies_converge_exactly(
    emulator: EmulatorServer, tmp_path: Path, figures: Figures
) -> None:
    # The first trial kills the create path, the second the update path, the third both.
    plans = [((0,), 1), ((1,), 2), ((0, 1), 2)]
    trials = []
    for seed, (killed, phases) in enumerate(plans, 1):
        emulator.reset()
        shape = Shape(models=3, jobs=2, example=False, seed=seed)
        repo = GitRepo(tmp_path / f"repo-{seed}")
        trials.append(
            crash_trial(
                emulator,
                repo,
                tmp_path / f"cache-{seed}",
                shape,
                phases=phases,
                killed=killed,
                finish=("engine",),
            )
        )
    figures(crash_figures(trials))
    _assert_clean(trials)


@pytest.mark.slow
def test_twenty_four_killed_trials_converge_exactly_half_of_them_under_faults(
    emulator: EmulatorServer, tmp_path: Path, figures: Figures
) -> None:
    trials = []
    for seed in range(100, 124):
        emulator.reset()
        shape = Shape(models=12, jobs=4, example=seed % 3 == 0, seed=seed)
        repo = GitRepo(tmp_path / f"repo-{seed}")
        finish = ("cli",) if seed % 2 else ("engine",)
        trials.append(
            crash_trial(
                emulator, repo, tmp_path / f"c-{seed}", shape, finish=finish, faulty=seed % 4 < 2
            )
        )
    figures(crash_figures(trials))
    _assert_clean(trials)
