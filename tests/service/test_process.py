"""``serve()`` as a real process (``python -m tests.service.fakeserve``): signals, logs,
and two processes contending for one namespace.

The tests wait on what the processes say (log events, exit codes, the run journal), never on
the wall clock: each wait has a generous timeout that only a hung process reaches, and a
lock TTL is short only in the test about the TTL, so a holder slowed down by a loaded
machine never loses its lease in the others.
"""

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
    served.wait_for("run_finished", 3)
    assert (
        github_push(port, body, X_Hub_Signature_256=github_signature(body, "x" * 20)).status == 401
    )
    gitlab = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": WEBHOOK_SECRET}
    assert request(port, "POST", "/webhooks/gitlab", body, gitlab).status == 200
    served.wait_for("run_finished", 4)
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
    # A TTL no heartbeat misses however loaded the machine: the waiter takes the lock when
    # the holder releases it on SIGTERM, never by taking over a slow holder's lease.
    args = ("--interval", "0.1", "--run-seconds", "0.1", "--journal", str(journal))
    args += ("--lock-ttl", "60")
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
    deadline = time.monotonic() + 120
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
    successor.wait_for("namespace_lock_taken_over", timeout=120)
    waited = time.monotonic() - began
    successor.wait_for("run_finished")
    # Not before the TTL (however fast the machine); how long after depends on its load,
    # so the upper bound is only the timeout above.
    assert waited >= ttl
    names = [e.get("event") for e in successor.events()]
    assert names.index("namespace_lock_waiting") < names.index("namespace_lock_stale")
    assert names.index("namespace_lock_stale") < names.index("namespace_lock_taken_over")
    assert names.index("namespace_lock_taken_over") < names.index("run_started")
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
    waiter.signal(signal.SIGTERM)
    assert waiter.finish() == 0
    # It did not wait for the lock: the holder still holds it (and keeps it for its TTL).
    assert holder.proc.poll() is None
    assert not holder.events("namespace_lock_released")
    assert not any(e.get("event") == "run_started" for e in waiter.events())
    holder.signal(signal.SIGTERM)
    assert holder.finish() == 0


def test_a_second_signal_stops_without_waiting_for_the_run(serve_process) -> None:  # type: ignore[no-untyped-def]
    served = serve_process("--run-seconds", "3600", "--grace", "3600")  # only SIGINT ends it
    served.wait_for("run_started")
    served.signal(signal.SIGTERM)
    served.wait_for("shutdown_requested")
    served.signal(signal.SIGINT)
    assert served.finish(timeout=120) == 1
    assert served.wait_for("shutdown_forced")["reason"] == "SIGINT"
    assert not served.events("run_finished")  # it stopped in the middle of the run
