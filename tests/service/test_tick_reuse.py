"""``serve`` keeps what a run computed for the next one (issue 20): a run whose commit and
DataRobot did not move takes over the last run's desired state, decoded list pages,
matching and plan; anything that moved in git or DataRobot is still seen by the next run."""

from __future__ import annotations

from controller.service.engine_runs import EngineRunner
from controller.service.runs import RunOutcome, RunRequest
from controller.settings import EngineSettings
from tests.fixtures.workspace import Workspace


class Ticks:
    """One runner for every run, as ``serve`` keeps it."""

    def __init__(self, workspace: Workspace, settings: EngineSettings | None = None) -> None:
        engine = settings or EngineSettings()
        self.runner = EngineRunner(workspace.git_settings(), workspace.api, engine, {})
        self.last: str | None = None
        self.count = 0

    def tick(self) -> RunOutcome:
        self.count += 1
        request = RunRequest(
            run_id=f"r{self.count}",
            trigger="schedule",
            last_success_revision=self.last,
        )
        outcome = self.runner(request)
        if outcome.result in ("success", "no-op"):
            self.last = outcome.revision
        return outcome


def _models(workspace: Workspace, count: int) -> None:
    for n in range(count):
        workspace.add_model(f"m{n}", spec={"description": f"model {n}"})


def test_a_run_with_nothing_changed_reuses_the_last_runs_work(workspace: Workspace) -> None:
    _models(workspace, 3)
    workspace.commit()
    ticks = Ticks(workspace)
    assert ticks.tick().result == "success"
    memory, pages = ticks.runner.memory, ticks.runner.pages
    assert memory.reused == {}
    writes = workspace.writes()

    quiet = ticks.tick()  # DataRobot moved (the first run's writes): planned again
    assert quiet.result == "no-op", quiet.errors
    assert memory.reused == {"desired": 1, "elsewhere": 1}
    again = ticks.tick()  # nothing moved
    assert again.result == "no-op"
    assert memory.reused == {
        "desired": 2, "elsewhere": 2, "matched": 1, "held elsewhere": 1, "evidence": 1, "plan": 1,
    }  # fmt: skip
    assert again is quiet  # the object states of the status page: not worked out again
    assert [o.name for o in again.objects] == ["m0", "m1", "m2"]
    assert pages.hits >= 2  # the model page and the job page, not decoded again
    assert workspace.writes() == writes


def test_a_model_changed_by_hand_between_two_runs_is_healed(workspace: Workspace) -> None:
    _models(workspace, 3)
    workspace.commit()
    ticks = Ticks(workspace)
    ticks.tick()
    assert ticks.tick().result == "no-op"
    model = next(m for m in workspace.client.list_models() if m.name == "M1")
    workspace.client.update_model(model.id, {"description": "by hand"})

    healed = ticks.tick()
    assert healed.result == "success", healed.errors
    assert healed.drift_fields == (("description", 1),)
    assert workspace.client.get_model(model.id).fields["description"] == "model 1"
    assert ticks.tick().result == "no-op"


def test_a_commit_between_two_runs_is_applied(workspace: Workspace) -> None:
    _models(workspace, 2)
    workspace.commit()
    ticks = Ticks(workspace)
    ticks.tick()
    assert ticks.tick().result == "no-op"
    workspace.edit_manifest("models/m0.yaml", description="from git")
    workspace.commit("describe m0")

    applied = ticks.tick()
    assert applied.result == "success", applied.errors
    assert applied.counts.updated == 1
    assert applied.drift_fields == ()
    (model,) = [m for m in workspace.client.list_models() if m.name == "M0"]
    assert model.fields["description"] == "from git"
    assert ticks.tick().result == "no-op"


def test_uncommitted_edits_are_read_again_each_time_they_change(workspace: Workspace) -> None:
    _models(workspace, 2)
    workspace.commit()
    ticks = Ticks(workspace, EngineSettings(allow_dirty=True))
    ticks.tick()
    assert ticks.tick().result == "no-op"
    for text in ("first edit", "second edit, same file"):
        workspace.edit_manifest("models/m1.yaml", description=text)
        applied = ticks.tick()
        assert applied.result == "success", applied.errors
        (model,) = [m for m in workspace.client.list_models() if m.name == "M1"]
        assert model.fields["description"] == text
    workspace.repo.write({"models/m1/notes.csv": "a,b\n"})  # untracked, in a source folder
    applied = ticks.tick()
    assert applied.counts.versions == 1, applied.errors
    assert "notes.csv" in (applied.plan or "")
