"""``dr-gitops serve`` as a real process with the real engine, against the emulator and real
git repositories: start-up apply, webhooks, /status and /metrics, drift, SIGTERM.

(The namespace lock between processes is in ``test_serve_locking.py``.)
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from controller.model.identity import lock_upid
from controller.model.live import LiveModel
from emulator.server import EmulatorServer
from tests.fixtures.emulator import EmulatorApi
from tests.fixtures.gitrepos import RemoteRepo
from tests.fixtures.served import ServedProcess
from tests.fixtures.service import (
    WEBHOOK_SECRET,
    github_push,
    github_signature,
    push_payload,
    request,
)
from tests.fixtures.workspace import NAMESPACE, Workspace

Start = Callable[..., ServedProcess]
TEMPLATE = re.compile(r"^/api/v2/(?:[A-Za-z]+/|\{[A-Za-z]+\}/)+$")
WEBHOOKS = {"DR_GITOPS_WEBHOOK_SECRET": WEBHOOK_SECRET}


def serve_args(repo: str, *extra: str) -> tuple[str, ...]:
    """``serve`` that runs only when asked (start-up, webhooks) unless ``--interval`` is
    given again in ``extra``."""
    return (
        "serve",
        "--repo",
        repo,
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "3600",
        "--jitter",
        "0",
        "--lock-ttl",
        "5",
        "--concurrency",
        "2",
        *extra,
    )


def managed(workspace: Workspace) -> dict[str, LiveModel]:
    """The namespace's models by ``metadata.name`` (the lock model left out)."""
    prefix = NAMESPACE + "/"
    return {
        m.user_provided_id.removeprefix(prefix): m
        for m in workspace.client.list_models()
        if m.user_provided_id
        and m.user_provided_id.startswith(prefix)
        and m.user_provided_id != lock_upid(NAMESPACE)
    }


def lock_model(workspace: Workspace) -> LiveModel | None:
    upid = lock_upid(NAMESPACE)
    return next((m for m in workspace.client.list_models() if m.user_provided_id == upid), None)


def sample(metrics: dict[Any, float], name: str, **labels: str) -> float:
    return metrics.get((name, tuple(sorted(labels.items()))), 0.0)


def total(metrics: dict[Any, float], name: str) -> float:
    return sum(value for (sample_name, _), value in metrics.items() if sample_name == name)


def test_serve_applies_at_start_then_on_a_signed_push_and_reports_both(
    workspace: Workspace, dr_gitops: Start
) -> None:
    workspace.add_model("churn", spec={"description": "Predicts churn"})
    workspace.add_model("fraud")
    first = workspace.commit("two models")
    served = dr_gitops(*serve_args(str(workspace.repo.path)), env=WEBHOOKS)

    # (a) The start-up run applies the manifests.
    startup = served.wait_for_run(lambda r: r["trigger"] == "startup")
    assert startup["result"] == "success", startup
    assert startup["revision"] == first
    assert startup["counts"] == {
        "created": 2, "updated": 0, "versions": 2, "shared": 0, "deleted": 0, "failed": 0,
        "builds": 0, "tests": 0,
    }  # fmt: skip
    assert set(managed(workspace)) == {"churn", "fraud"}
    before = served.metrics()

    # (c) A push with a bad signature is refused and triggers nothing.
    workspace.edit_manifest("models/churn.yaml", description="Predicts churn, weekly")
    second = workspace.commit("describe churn better")
    body = push_payload(after=second)
    forged = github_push(served.port, body, X_Hub_Signature_256=github_signature(body, "x" * 32))
    assert forged.status == 401

    # (b) The same push, signed, leads to an apply within seconds.
    sent = time.monotonic()
    assert github_push(served.port, body).status == 200
    pushed = served.wait_for_run(lambda r: r["revision"] == second, timeout=10)
    latency = time.monotonic() - sent
    print(f"webhook -> applied: {latency:.2f}s")  # the figure (run with -s)
    assert pushed["result"] == "success", pushed
    assert pushed["trigger"] == "webhook:github"
    assert pushed["counts"]["updated"] == 1
    assert managed(workspace)["churn"].fields["description"] == "Predicts churn, weekly"

    # (e) /status holds both runs, newest first, and nothing for the forged push.
    status = served.status()
    assert [(r["trigger"], r["revision"]) for r in status["runs"]] == [
        ("webhook:github", second),
        ("startup", first),
    ]
    assert status["lock"]["held"] is True
    assert status["lastSuccess"]["runId"] == pushed["runId"]

    # (d) /metrics parses, and its counters moved.
    after = served.metrics()
    runs = "dr_gitops_reconcile_runs_total"
    assert sample(after, runs, trigger="startup", result="success") == 1
    assert sample(after, runs, trigger="webhook:github", result="success") == 1
    assert sample(before, runs, trigger="webhook:github", result="success") == 0
    webhooks = "dr_gitops_webhooks_total"
    assert sample(after, webhooks, source="github", outcome="unauthorized") == 1
    assert sample(after, webhooks, source="github", outcome="triggered") == 1
    api = "dr_gitops_api_requests_total"
    assert total(after, api) > total(before, api)
    assert sample(after, api, method="PATCH", route="/api/v2/customModels/{customModelId}/",
                  status="200") >= 1  # fmt: skip
    assert sample(after, api, method="POST", route="/api/v2/customModels/", status="201") == 3
    routes = {dict(labels)["route"] for (name, labels) in after if name == api}
    assert routes
    assert all(TEMPLATE.match(route) for route in routes), routes
    resources = "dr_gitops_managed_resources"
    assert sample(after, resources, kind="CustomModel", state="in-sync") == 2
    assert sample(after, "dr_gitops_actions_total", action="versions") == 2
    assert sample(after, "dr_gitops_actions_total", action="updated") == 1
    assert sample(after, "dr_gitops_last_success_timestamp_seconds") >= time.time() - latency - 1
    assert sample(after, "dr_gitops_namespace_lock_held") == 1

    served.signal(signal.SIGTERM)
    assert served.finish() == 0
    assert lock_model(workspace) is None  # released


@pytest.mark.slow  # fetching is also proven in-process (test_reconciler.py); this adds GitLab
def test_a_url_source_is_fetched_again_on_each_run(
    remote_repo: RemoteRepo, emulator: EmulatorServer, dr_gitops: Start, tmp_path: Any
) -> None:
    workspace = Workspace(remote_repo.work, emulator, tmp_path / "ws-cache")
    workspace.add_model("churn")
    first = workspace.commit("churn")
    remote_repo.push()
    served = dr_gitops(*serve_args(remote_repo.url), env=WEBHOOKS)
    assert served.wait_for_run(lambda r: r["revision"] == first)["result"] == "success"

    workspace.add_model("fraud")
    second = workspace.commit("fraud")
    remote_repo.push()
    gitlab = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": WEBHOOK_SECRET}
    body = json.dumps({"ref": "refs/heads/main", "checkout_sha": second}).encode()
    sent = time.monotonic()
    assert request(served.port, "POST", "/webhooks/gitlab", body, gitlab).status == 200

    pushed = served.wait_for_run(lambda r: r["revision"] == second)
    print(f"webhook -> applied (fetched from a URL): {time.monotonic() - sent:.2f}s")
    assert (pushed["trigger"], pushed["result"]) == ("webhook:gitlab", "success")
    assert pushed["counts"]["created"] == 1
    fraud = managed(workspace)["fraud"]
    assert fraud.latest_version is not None
    assert fraud.latest_version.git is not None
    assert fraud.latest_version.git.main_branch_commit_sha == second
    assert fraud.latest_version.git.ref_name == "main"
    served.signal(signal.SIGTERM)
    assert served.finish() == 0
    workspace.client.close()


def test_drift_made_by_hand_is_corrected_on_the_next_tick_and_counted(
    workspace: Workspace, emulator_api: EmulatorApi, dr_gitops: Start
) -> None:
    workspace.add_model(
        "churn",
        spec={"description": "Predicts churn"},
        version={"runtimeParameters": {"THRESHOLD": 0.7}},
    )
    revision = workspace.commit("churn")
    served = dr_gitops(*serve_args(str(workspace.repo.path), "--interval", "0.5"))
    served.wait_for_run(lambda r: r["trigger"] == "startup" and r["result"] == "success")
    churn = managed(workspace)["churn"]
    assert churn.latest_version is not None
    first_version = churn.latest_version.id

    # A description edited in the DataRobot UI...
    edited = emulator_api.patch(f"customModels/{churn.id}/", json={"description": "by hand"})
    assert edited.status_code in (200, 201), edited.text
    healed = served.wait_for_run(lambda r: r["driftCorrections"] >= 1)
    assert (healed["revision"], healed["counts"]["updated"]) == (revision, 1)
    assert managed(workspace)["churn"].fields["description"] == "Predicts churn"
    assert sample(served.metrics(), "dr_gitops_drift_corrections_total") == 1

    # ...and a runtime value changed by making a version by hand.
    values = json.dumps([{"fieldName": "THRESHOLD", "type": "numeric", "value": 0.2}])
    made = emulator_api.patch(
        f"customModels/{churn.id}/versions/",
        json={"isMajorUpdate": "false", "runtimeParameterValues": values},
    )
    assert made.status_code == 201, made.text
    by_hand = made.json()["id"]
    healed = served.wait_for_run(
        lambda r: r["counts"]["versions"] == 1 and r["trigger"] != "startup"
    )
    assert (healed["revision"], healed["driftCorrections"]) == (revision, 1)
    newest = managed(workspace)["churn"].latest_version
    assert newest is not None
    assert newest.id not in (first_version, by_hand)
    assert newest.git is not None
    assert newest.git.main_branch_commit_sha == revision
    threshold = {p.field_name: p.current_value for p in newest.runtime_parameters}["THRESHOLD"]
    assert threshold == 0.7
    assert sample(served.metrics(), "dr_gitops_drift_corrections_total") == 2
    served.signal(signal.SIGTERM)
    assert served.finish() == 0


def test_sigterm_during_an_apply_lets_it_finish_then_exits_0_and_releases_the_lock(
    workspace: Workspace, emulator: EmulatorServer, dr_gitops: Start
) -> None:
    names = ["alpha", "bravo", "charlie", "delta"]
    for name in names:
        workspace.add_model(name)
    workspace.commit("four models")
    emulator.set_faults({"latencyMs": 200, "methods": ["POST"]})  # each create is slow
    served = dr_gitops(*serve_args(str(workspace.repo.path), "--concurrency", "1"))

    served.wait_for("action_done")  # the apply is under way...
    served.signal(signal.SIGTERM)  # ...when the pod is told to stop
    assert served.finish() == 0

    finished = served.wait_for("run_finished")
    assert (finished["result"], finished["counts"]["versions"]) == ("success", 4)
    events = [e["event"] for e in served.events()]
    assert events.index("shutdown_requested") < events.index("run_finished")
    assert events.index("run_finished") < events.index("namespace_lock_released")
    models = managed(workspace)
    assert set(models) == set(names)
    assert all(m.latest_version is not None for m in models.values())
    assert lock_model(workspace) is None
    writes = workspace.writes()
    time.sleep(0.3)
    assert workspace.writes() == writes  # nothing left running behind the exit
