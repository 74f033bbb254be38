"""A captured, signed delivery sent again triggers nothing, whatever its delivery ID; a
flood of distinct deliveries costs one run per --webhook-min-interval (issue 15)."""

from __future__ import annotations

import time

from controller.service.webhooks import DeliveryLog
from tests.fixtures.service import (
    WEBHOOK_SECRET,
    FakeRun,
    ServiceStarter,
    github_push,
    github_signature,
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
    # A new push is a new delivery.
    assert github_push(running.port).json()["outcome"] == "triggered"


def test_a_replayed_github_body_is_a_replay_with_a_new_delivery_id_or_none(
    start_service: ServiceStarter,
) -> None:
    # The signature covers the body, not X-GitHub-Delivery: changing or dropping that
    # header must not make a captured delivery new.
    fake = FakeRun()
    running = start_service(fake, webhook_min_interval_seconds=0.0)
    running.wait_until_idle(1)
    body = push_payload()
    assert github_push(running.port, body).json()["outcome"] == "triggered"
    running.wait_until_idle(2)
    new_id = github_push(running.port, body, X_GitHub_Delivery="a-fresh-id")
    assert (new_id.status, new_id.json()["outcome"]) == (200, "replayed")
    headerless = request(
        running.port,
        "POST",
        "/webhooks/github",
        body,
        {
            "Content-Type": "application/json",
            "X-GitHub-Event": "push",
            "X-Hub-Signature-256": github_signature(body),
        },
    )
    assert (headerless.status, headerless.json()["outcome"]) == (200, "replayed")
    assert "this delivery" in headerless.json()["reason"]
    time.sleep(0.3)
    assert len(fake.requests) == 2


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
    renamed = {**headers, "X-Gitlab-Event-UUID": "another-uuid"}
    again = request(running.port, "POST", "/webhooks/gitlab", body, renamed)
    assert (again.status, again.json()["outcome"]) == (200, "replayed")
    del renamed["X-Gitlab-Event-UUID"]
    again = request(running.port, "POST", "/webhooks/gitlab", body, renamed)
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
    log = DeliveryLog(capacity=2)  # deliveries, of two keys each
    assert not log.replayed("github", "body:a", "id:1")
    assert not log.replayed("github", "body:b", "id:2")
    assert log.replayed("github", "body:a", "id:9")  # the same body under a new ID
    assert log.replayed("github", "body:c", "id:2")  # a new body under a known ID
    assert not log.replayed("gitlab", "body:a")  # per source
    assert not log.replayed("github", "body:b")  # the oldest, pushed out
