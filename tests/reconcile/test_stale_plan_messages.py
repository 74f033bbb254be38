"""A stale-plan refusal names the parts of the object that changed, not only the object."""

from __future__ import annotations

from pathlib import Path

from controller.engine.saved_plans import stale_entries
from controller.model.plans import BasisEntry
from tests.fixtures.workspace import Workspace


def test_a_stale_plan_names_the_fields_changed_by_hand(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.add_job("cleanup", spec={"description": "one"})
    workspace.commit()
    workspace.converge()
    workspace.edit_manifest("jobs/cleanup.yaml", description="two")
    workspace.commit()
    plan_file = tmp_path / "plan.json"
    saved = workspace.cli("plan", "--repo", str(workspace.repo.path), "--out", str(plan_file))
    assert saved.code == 0, saved.err

    (job,) = workspace.client.list_jobs()
    workspace.client.update_job(job.id, {"resources": {"egressNetworkPolicy": "public"}})

    refused = workspace.cli("apply", str(plan_file), "--repo", str(workspace.repo.path))
    assert refused.code == 1
    # Before, it said "CustomJob/cleanup changed: was job 'Cleanup', now job 'Cleanup'".
    assert "CustomJob/cleanup changed its resources (job 'Cleanup')" in refused.err


def test_several_parts_and_a_new_summary_are_all_said() -> None:
    before = BasisEntry("CustomModel/a", "m1", "d1", "model 'A' at version 1.0",
                        (("description", "x"), ("files", "f1"), ("sharing", "s")))  # fmt: skip
    after = BasisEntry("CustomModel/a", "m1", "d2", "model 'A' at version 1.1",
                       (("description", "y"), ("files", "f2"), ("sharing", "s")))  # fmt: skip
    assert stale_entries((before,), (after,)) == [
        "CustomModel/a changed its description and files: was model 'A' at version 1.0, "
        "now model 'A' at version 1.1"
    ]


def test_a_plan_saved_without_parts_still_says_what_it_can() -> None:
    before = BasisEntry("CustomJob/j", "j1", "d1", "job 'J'")
    after = BasisEntry("CustomJob/j", "j1", "d2", "job 'J'", (("description", "y"),))
    assert stale_entries((before,), (after,)) == ["CustomJob/j changed (job 'J')"]
