"""A captured, signed delivery sent again triggers nothing; a flood of distinct deliveries
costs one run per --webhook-min-interval (issue 15)."""

from __future__ import annotations

import time

from controller.service.webhooks import DeliveryLog
from tests.fixtures.service import (
    WEBHOOK_SECRET,
    FakeRun,
    ServiceStarter,
    github_push,
    push_payload,
    request,
)


def test_a_replayed_github_delivery_is_answered_without_a_run(
    start_service: ServiceStarter,
) -> None:
    fake = FakeRun()
    running = start_service(fake, webhook_min_interval_seconds=0.0)
    running.wait_until_idle(1)
    first = github_push(running.port, X_GitHub_Delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert first.json()["outcome"] == "triggered"
    running.wait_until_idle(2)
    replayed = github_push(running.port, X_GitHub_Delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert replayed.status == 200
    assert replayed.json()["outcome"] == "replayed"
    assert "already received" in replayed.json()["reason"]
    assert "run" not in replayed.json()
    time.sleep(0.3)
    assert len(fake.requests) == 2
    assert running.service.runner.pending is None
    # A new delivery of the same push is a new delivery.
    assert github_push(running.port).json()["outcome"] == "triggered"


def test_a_replayed_gitlab_event_is_answered_without_a_run(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    running = start_service(fake, webhook_min_interval_seconds=0.0)
    running.wait_until_idle(1)
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Token": WEBHOOK_SECRET,
        "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
    }
    body = push_payload()
    first = request(running.port, "POST", "/webhooks/gitlab", body, headers)
    assert first.json()["outcome"] == "triggered"
    running.wait_until_idle(2)
    again = request(running.port, "POST", "/webhooks/gitlab", body, headers)
    assert (again.status, again.json()["outcome"]) == (200, "replayed")
    time.sleep(0.3)
    assert len(fake.requests) == 2


def test_a_forged_delivery_does_not_shadow_the_real_one(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    running = start_service(fake, webhook_min_interval_seconds=0.0)
    running.wait_until_idle(1)
    forged = github_push(
        running.port, X_GitHub_Delivery="known-id", X_Hub_Signature_256="sha256=" + "0" * 64
    )
    assert forged.status == 401
    assert github_push(running.port, X_GitHub_Delivery="known-id").json()["outcome"] == "triggered"


def test_a_flood_of_distinct_deliveries_costs_one_run_per_interval(
    start_service: ServiceStarter,
) -> None:
    fake = FakeRun()
    running = start_service(fake, webhook_min_interval_seconds=1.5)
    running.wait_until_idle(1)
    began = time.monotonic()
    answers = []
    while time.monotonic() - began < 1.0:  # 1 s of pushes, each a new signed delivery
        answers.append(github_push(running.port).json()["run"])
        time.sleep(0.02)
    assert len(answers) > 10
    running.wait_until_idle(3, timeout=10)
    webhook_runs = [r for r in fake.requests if r.trigger == "webhook:github"]
    # The first at once, the second 1.5 s later (holding every delivery meanwhile): two runs,
    # not one per delivery.
    assert len(webhook_runs) == 2
    assert answers.count("coalesced") >= len(answers) - 3


def test_the_delivery_log_forgets_the_oldest_past_its_capacity() -> None:
    log = DeliveryLog(capacity=2)
    assert not log.replayed("github", "a")
    assert not log.replayed("github", "b")
    assert log.replayed("github", "a")
    assert not log.replayed("gitlab", "a")  # per source; pushes "b" out
    assert not log.replayed("github", "b")
