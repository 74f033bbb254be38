"""What the service logs: run context bound to every event, and never a secret."""

from __future__ import annotations

import json

import structlog
from structlog.testing import capture_logs

from tests.fixtures.service import (
    WEBHOOK_SECRET,
    FakeRun,
    ServiceStarter,
    github_push,
    github_signature,
    push_payload,
    request,
)


def test_the_webhook_secret_is_never_logged_even_before_redaction(
    start_service: ServiceStarter,
) -> None:
    fake = FakeRun()
    with capture_logs() as events:
        running = start_service(fake)
        fake.wait_for(1, finished=True)
        body = push_payload()
        github_push(running.port, body)
        github_push(running.port, body, X_Hub_Signature_256=github_signature(body, "wrong-secret"))
        # Deliveries that arrive while a run is pending join it: let the first one finish.
        fake.wait_for(2, finished=True)
        gitlab = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": WEBHOOK_SECRET}
        request(running.port, "POST", "/webhooks/gitlab", body, gitlab)
        fake.wait_for(3, finished=True)
        assert running.stop() == 0
    # capture_logs sees events before the redaction processor: nothing to redact at all.
    text = json.dumps(events, default=str)
    assert WEBHOOK_SECRET not in text
    assert github_signature(body) not in text
    received = [e for e in events if e["event"] == "webhook_received"]
    assert [e["outcome"] for e in received] == ["triggered", "unauthorized", "triggered"]


def test_every_run_event_carries_the_run_id_and_revision(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as events:
        running = start_service(fake)
        fake.wait_for(1, finished=True)
        assert running.stop() == 0
    (finished,) = [e for e in events if e["event"] == "run_finished"]
    assert finished["run_id"] == fake.requests[0].run_id
    assert finished["revision"] == fake.revision
    assert finished["trigger"] == "startup"


def test_library_logs_are_json_lines_too_and_redacted() -> None:
    import io
    import logging

    from controller import logs

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    try:
        logs.configure(level="info", json=True, stream=out, secrets=["lib-secret-4711"])
        logging.getLogger("apscheduler.scheduler").warning("job skipped; token lib-secret-4711")
        try:
            raise ValueError("bad")
        except ValueError:
            logging.getLogger("waitress").exception("request failed")
        logs.get_logger("ours").warning("our_event", detail="x")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        structlog.reset_defaults()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]  # every line is JSON
    assert [(e["event"], e.get("logger")) for e in lines] == [
        ("job skipped; token [REDACTED]", "apscheduler.scheduler"),
        ("request failed", "waitress"),
        ("our_event", None),
    ]
    assert "ValueError: bad" in lines[1]["exception"]
    assert all(e["level"] and e["timestamp"] for e in lines)
