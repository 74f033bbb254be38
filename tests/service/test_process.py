"""``serve()`` as a real process (``python -m tests.service.fakeserve``): signals, logs,
and two processes contending for one namespace."""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.served import ProcessStarter, ServedProcess
from tests.fixtures.service import (
    API_TOKEN,
    WEBHOOK_SECRET,
    github_push,
    github_signature,
    push_payload,
    request,
)


@pytest.fixture
def serve_process(served_process: ProcessStarter) -> Callable[..., ServedProcess]:
    """``python -m tests.service.fakeserve ARGS`` with a token and a webhook secret."""
    env = dict(os.environ, DATAROBOT_API_TOKEN=API_TOKEN, DR_GITOPS_WEBHOOK_SECRET=WEBHOOK_SECRET)

    def start(*args: str) -> ServedProcess:
        return served_process("tests.service.fakeserve", *args, env=env)

    return start


def test_a_served_process_answers_webhooks_and_keeps_secrets_out_of_logs(serve_process) -> None:  # type: ignore[no-untyped-def]
    served = serve_process("--fail-first", "1")  # the failure message carries the API token
    port = served.port
    served.wait_for("run_finished", 2)  # failed at start-up, then recovered
    body = push_payload()
    assert github_push(port, body).status == 200
    served.wait_for("run_finished", 3, timeout=5)
    assert (
        github_push(port, body, X_Hub_Signature_256=github_signature(body, "x" * 20)).status == 401
    )
    gitlab = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": WEBHOOK_SECRET}
    assert request(port, "POST", "/webhooks/gitlab", body, gitlab).status == 200
    served.wait_for("run_finished", 4, timeout=5)
    pages = [request(port, "GET", path).body.decode() for path in ("/status", "/metrics")]
    served.signal(signal.SIGTERM)
    assert served.finish() == 0

    triggers = [e["trigger"] for e in served.events() if e.get("event") == "run_finished"]
    assert triggers == ["startup", "schedule", "webhook:github", "webhook:gitlab"]
    runs = [e for e in served.events() if e.get("event") == "run_finished"]
    assert all(e["run_id"] and e["revision"] for e in runs)  # bound to every run's events
    everything = served.output() + "".join(pages)
    assert "[REDACTED]" in everything  # the leak was there to be caught
    assert API_TOKEN not in everything
    assert WEBHOOK_SECRET not in everything


def test_sigterm_during_a_run_exits_0_only_after_the_run_finished(  # type: ignore[no-untyped-def]
    serve_process, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    served = serve_process("--run-seconds", "1.5", "--journal", str(journal))
    served.wait_for("run_started")
    served.signal(signal.SIGTERM)
    assert served.finish() == 0
    (line,) = journal.read_text().splitlines()
    assert served.exited_at is not None
    assert json.loads(line)["end"] < served.exited_at
    names = [e.get("event") for e in served.events()]
    assert names.index("run_finished") < names.index("shutdown_complete")


def test_two_instances_on_one_namespace_never_run_at_once(  # type: ignore[no-untyped-def]
    serve_process, tmp_path: Path
) -> None:
    journal, locks = tmp_path / "journal.jsonl", tmp_path / "locks"
    args = ("--interval", "0.1", "--run-seconds", "0.1", "--journal", str(journal))
    first = serve_process(*args, "--lock-dir", str(locks))
    second = serve_process(*args, "--lock-dir", str(locks))
    holder = first if _acquired_first(first, second) else second
    waiter = second if holder is first else first
    holder.wait_for("run_finished", 3)
    waiter.wait_for("namespace_lock_waiting")
    holder.signal(signal.SIGTERM)
    assert holder.finish() == 0
    waiter.wait_for("run_finished", 3)
    waiter.signal(signal.SIGTERM)
    assert waiter.finish() == 0

    assert not (tmp_path / "OVERLAP").exists()
    runs = sorted(
        (json.loads(line) for line in journal.read_text().splitlines()), key=lambda r: r["start"]
    )
    assert {r["pid"] for r in runs} == {first.proc.pid, second.proc.pid}
    for before, after in itertools.pairwise(runs):
        assert before["end"] <= after["start"]


def _acquired_first(first: ServedProcess, second: ServedProcess) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for process in (first, second):
            if any(e.get("event") == "namespace_lock_acquired" for e in process.events()):
                return process is first
        time.sleep(0.02)
    pytest.fail("neither instance took the lock")


def test_the_lock_of_a_killed_instance_is_taken_over_after_the_ttl(  # type: ignore[no-untyped-def]
    serve_process, tmp_path: Path
) -> None:
    locks, ttl = str(tmp_path / "locks"), 1.0
    crashed = serve_process("--lock-dir", locks, "--lock-ttl", str(ttl))
    crashed.wait_for("run_finished")
    crashed.proc.kill()
    crashed.finish()
    began = time.monotonic()
    successor = serve_process("--lock-dir", locks, "--lock-ttl", str(ttl))
    successor.wait_for("namespace_lock_taken_over", timeout=10)
    waited = time.monotonic() - began
    successor.wait_for("run_finished")
    assert ttl <= waited < ttl + 5
    stale = successor.wait_for("namespace_lock_stale")
    assert str(crashed.proc.pid) in stale["holder"]
    successor.signal(signal.SIGTERM)
    assert successor.finish() == 0


def test_no_wait_exits_1_naming_the_holder(serve_process, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    locks = str(tmp_path / "locks")
    holder = serve_process("--lock-dir", locks, "--lock-ttl", "30")
    holder.wait_for("namespace_lock_acquired")
    refused = serve_process("--lock-dir", locks, "--no-wait")
    assert refused.finish() == 1
    message = refused.output()
    assert f"pid {holder.proc.pid}" in message
    assert "since" in message
    assert "--no-wait" in message
    holder.signal(signal.SIGINT)
    assert holder.finish() == 0


def test_sigterm_while_waiting_for_the_lock_exits_0_at_once(serve_process, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    locks = str(tmp_path / "locks")
    holder = serve_process("--lock-dir", locks, "--lock-ttl", "30")
    holder.wait_for("namespace_lock_acquired")
    waiter = serve_process("--lock-dir", locks, "--lock-ttl", "30")
    waiter.wait_for("namespace_lock_waiting")
    sent = time.monotonic()
    waiter.signal(signal.SIGTERM)
    assert waiter.finish() == 0
    assert time.monotonic() - sent < 3
    assert not any(e.get("event") == "run_started" for e in waiter.events())
    holder.signal(signal.SIGTERM)
    assert holder.finish() == 0


def test_a_second_signal_stops_without_waiting_for_the_run(serve_process) -> None:  # type: ignore[no-untyped-def]
    served = serve_process("--run-seconds", "30")
    served.wait_for("run_started")
    served.signal(signal.SIGTERM)
    served.wait_for("shutdown_requested")
    sent = time.monotonic()
    served.signal(signal.SIGINT)
    assert served.finish() == 1
    assert time.monotonic() - sent < 3
    assert served.wait_for("shutdown_forced")["reason"] == "SIGINT"
