"""The issue's scenario: serve (the real engine, the emulator) with notifications to a local
receiver; a commit that fails validation, the same failure again, a fix, then a drift made
by hand while suspended, and the resume that undoes it. Exactly the expected
notifications arrive, in order, none repeated; the page shows each state in turn."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from controller.service.metrics import ServiceMetrics
from controller.service.notifications import NotificationSettings, NotificationTarget
from controller.service.notifier import Notifier
from tests.fixtures.statuspage import wait
from tests.fixtures.workspace import Workspace
from tests.service.test_notifications import Receiver, receiver  # noqa: F401 (a fixture)


def _controller_state(page: str) -> str:
    return page.split('id="controller-state">', 1)[1].split("<", 1)[0]


def _newest_run(page: str) -> str:
    return page.split('<tr data-run="', 1)[1].split('data-result="', 1)[1].split('"', 1)[0]


def test_a_bad_commit_a_fix_and_drift_notify_once_each_and_the_page_follows(
    workspace: Workspace,
    live_service: Any,
    receiver: Callable[..., Receiver],  # noqa: F811 (the fixture imported above)
    emulator_api: Any,
) -> None:
    hook = receiver()
    metrics = ServiceMetrics()
    settings = NotificationSettings(
        (NotificationTarget("audit", "webhook", hook.url),),
        namespace="test/scenario",
        retries=1,
        backoff_seconds=0.01,
    )
    notifier = Notifier(settings, metrics)
    notifier.start()
    workspace.add_model("scorer", spec={"description": "Scores"})
    workspace.commit("a model")

    # 1. The start-up run applies it.
    # Runs only when asked (no retry after a failure comes by itself).
    live = live_service(
        notifier=notifier, metrics=metrics, backoff_initial_seconds=3600, backoff_max_seconds=3600
    )
    page = live.page()
    assert (_controller_state(page), _newest_run(page)) == ("running", "success")
    assert live.objects() == {"CustomModel/scorer": "in-sync"}

    # 2. A commit that fails validation, twice: told once.
    workspace.edit_manifest("models/scorer.yaml", targetType="NotAType")
    workspace.commit("a typo")
    assert live.reconcile()["result"] == "failed"
    page = live.page()
    assert (_controller_state(page), _newest_run(page)) == ("failing", "failed")
    assert "the last run failed before it could plan" in page
    run_id = live.service.history.recent()[0].run_id
    assert "NotAType" in html.unescape(live.page(f"/runs/{run_id}"))
    assert live.reconcile()["result"] == "failed"

    # 3. The fix: recovered, applied.
    workspace.edit_manifest("models/scorer.yaml", targetType="Regression", description="Fixed")
    workspace.commit("the fix")
    assert live.reconcile()["result"] == "success"
    page = live.page()
    assert (_controller_state(page), _newest_run(page)) == ("running", "success")
    assert live.objects() == {"CustomModel/scorer": "in-sync"}

    # 4. Drift made by hand while suspended: shown and told, not undone.
    assert live.post("/control/suspend").status == 200
    (model,) = [m for m in workspace.client.list_models() if m.user_provided_id]
    assert emulator_api.patch(f"customModels/{model.id}/", json={"description": "hand"}).ok
    assert live.reconcile()["result"] == "planned"
    assert live.reconcile()["result"] == "planned"  # the same drift again: told once
    page = live.page()
    assert (_controller_state(page), _newest_run(page)) == ("suspended", "planned")
    assert live.objects() == {"CustomModel/scorer": "drifted"}

    # 5. Resumed: the drift is undone at once.
    before = len(live.service.history.recent())
    assert live.post("/control/resume").status == 200
    live.wait_until_idle(before + 1, timeout=60)
    page = live.page()
    assert (_controller_state(page), _newest_run(page)) == ("running", "success")
    assert live.objects() == {"CustomModel/scorer": "in-sync"}
    assert workspace.client.get_model(model.id).fields["description"] == "Fixed"

    notifier.close(timeout=10)
    wait(lambda: len(hook.bodies) >= 6)
    assert [b["event"] for b in hook.bodies] == [
        "applied",
        "gate-failed",
        "recovered",
        "applied",
        "drift-detected",
        "drift-corrected",
    ]
    drift = hook.bodies[4]
    assert drift["lines"] == ["CustomModel/scorer: fields differ: description"]
    assert hook.bodies[5]["lines"] == ["CustomModel/scorer: model updated"]
