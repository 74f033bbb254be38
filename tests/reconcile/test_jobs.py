"""Custom jobs end to end: files, entry point, fields, runtime values, and ownership."""

from __future__ import annotations

from controller.model.identity import read_stamp
from controller.model.plans import ActionKind, FileChangeKind
from tests.fixtures.workspace import NAMESPACE, Workspace


def _job(workspace: Workspace):
    (job,) = workspace.client.list_jobs()
    return job


def test_a_job_is_created_with_its_files_entry_point_and_a_stamp(workspace: Workspace) -> None:
    workspace.add_job("retrain", spec={"description": "Refits the model."})
    sha = workspace.commit()
    workspace.converge()
    job = _job(workspace)
    assert sorted(i.file_path for i in job.items) == ["job.py", "metadata.yaml", "run.sh"]
    assert next(i.file_path for i in job.items if i.id == job.entry_point) == "run.sh"
    description = str(job.fields["description"])
    assert description.startswith("Refits the model.")
    stamp = read_stamp(description)
    assert stamp is not None
    assert (stamp.namespace, stamp.name, stamp.commit) == (NAMESPACE, "retrain", sha)


def test_renaming_the_entry_point_uploads_the_new_file_and_points_at_it(
    workspace: Workspace,
) -> None:
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()
    workspace.repo.git("mv", "jobs/retrain/run.sh", "jobs/retrain/start.sh")
    workspace.edit_manifest("jobs/retrain.yaml", entryPoint="start.sh")
    workspace.commit("rename the entry point")

    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.UPDATE_JOB
    assert sorted((f.path, f.change) for f in action.files) == [
        ("run.sh", FileChangeKind.DELETE),
        ("start.sh", FileChangeKind.ADD),
    ]
    assert ("entryPoint", "run.sh", "start.sh") in [(c.field, c.old, c.new) for c in action.fields]
    workspace.converge()
    job = _job(workspace)
    assert next(i.file_path for i in job.items if i.id == job.entry_point) == "start.sh"
    assert "run.sh" not in {i.file_path for i in job.items}


def test_a_changed_job_file_and_field_are_updated_in_place(workspace: Workspace) -> None:
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()
    job_id = _job(workspace).id
    workspace.repo.write({"jobs/retrain/job.py": "print('v2')\n"})
    workspace.edit_manifest("jobs/retrain.yaml", name="Retrain v2", description="now with v2")
    workspace.commit()
    (action,) = workspace.plan().plan.actions
    assert [(f.path, f.change) for f in action.files] == [("job.py", FileChangeKind.MODIFY)]
    workspace.converge()
    job = _job(workspace)
    assert job.id == job_id
    assert job.name == "Retrain v2"
    assert str(job.fields["description"]).startswith("now with v2")
    assert (
        workspace.client.get_job_item(
            job.id, next(i.id for i in job.items if i.file_path == "job.py")
        ).content
        == "print('v2')\n"
    )


def test_runtime_values_changed_and_removed_reset_to_the_default(workspace: Workspace) -> None:
    workspace.add_job("retrain", spec={"runtimeParameters": {"DAYS": 7, "TARGET": "eu"}})
    workspace.commit()
    workspace.converge()
    workspace.edit_manifest("jobs/retrain.yaml", runtimeParameters={"DAYS": 14})
    workspace.commit("longer window, all targets")
    (action,) = workspace.plan().plan.actions
    assert [(r.field_name, r.old, r.new) for r in action.runtime] == [
        ("DAYS", 7, 14),
        ("TARGET", "eu", None),
    ]
    writes = workspace.writes()
    workspace.converge()
    assert workspace.writes() - writes == 1  # the values and the stamp, in one PATCH
    params = {p.field_name: p for p in _job(workspace).runtime_parameters}
    assert params["DAYS"].override_value == 14
    assert params["TARGET"].override_value is None
    assert params["TARGET"].current_value == "all"


def test_a_job_made_by_hand_is_never_claimed_and_can_be_adopted(workspace: Workspace) -> None:
    hand = workspace.client.create_job(
        {"name": "Retrain", "jobType": "default", "environmentId": "64d2ba178dd3f0b1fa2162f2"}
    )
    workspace.add_job("retrain")
    workspace.commit()
    (blocked,) = workspace.plan().plan.actions
    assert blocked.kind is ActionKind.BLOCKED
    assert hand.id in blocked.reason
    assert "adopt: true" in blocked.reason
    writes = workspace.writes()
    # The pull request's check fails already: plan exits 1 (even with --detailed-exitcode)
    # and still prints the plan, which says what to do.
    for output in ("text", "markdown"):
        result = workspace.cli(
            "plan", "--repo", str(workspace.repo.path), "--detailed-exitcode", "--output", output
        )
        assert result.code == 1, result.err
        assert "1 blocked (apply would fail on CustomJob/retrain)" in result.err
        assert "adopt: true" in result.out
    assert "⛔ 1 blocked" in result.out
    assert not workspace.apply().ok
    assert workspace.writes() == writes

    doc_path = workspace.repo.path / "jobs/retrain.yaml"
    doc_path.write_text(
        doc_path.read_text().replace("  name: retrain\n", "  name: retrain\n  adopt: true\n")
    )
    workspace.commit("adopt the hand-made job")
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.ADOPT_JOB
    assert action.target_id == hand.id
    workspace.converge()
    (job,) = workspace.client.list_jobs()
    assert job.id == hand.id
    assert read_stamp(str(job.fields["description"])) is not None
    assert next(i.file_path for i in job.items if i.id == job.entry_point) == "run.sh"


def test_a_job_file_edited_by_hand_is_found_by_content_and_restored(workspace: Workspace) -> None:
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()
    job = _job(workspace)
    source = workspace.repo.path / "jobs/retrain/job.py"
    tampered = source.with_name("tampered.py")
    tampered.write_text("print('edited by hand')\n")
    from controller.remote import FileUpload

    workspace.client.update_job(job.id, files=[FileUpload(tampered, "job.py")])
    tampered.unlink()
    (action,) = workspace.plan().plan.actions
    assert [(f.path, f.change) for f in action.files] == [("job.py", FileChangeKind.MODIFY)]
    workspace.converge()


def test_a_job_whose_stamp_was_edited_away_is_not_duplicated(workspace: Workspace) -> None:
    workspace.add_job("retrain", spec={"description": "Retrains"})
    workspace.commit()
    workspace.converge()
    job = _job(workspace)
    workspace.client.update_job(job.id, {"description": "edited by hand"})
    (action,) = workspace.plan().plan.actions
    assert action.kind is ActionKind.BLOCKED
    assert job.id in action.reason
    assert not workspace.apply().ok
    assert len(workspace.client.list_jobs()) == 1
