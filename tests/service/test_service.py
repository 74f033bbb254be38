"""The service in-process, over real HTTP on 127.0.0.1, with a fake run function."""

from __future__ import annotations

import io
import socket
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from controller.errors import ConfigError, LockError
from controller.service import FileLeaseStore, NamespaceLock, RunOutcome, RunRequest, Service
from controller.service.endpoints import EndpointConfig, ServiceApp
from controller.service.leases import LeaseRecord, LeaseStoreUnavailable
from controller.service.metrics import ServiceMetrics
from tests.fixtures.service import (
    WEBHOOK_SECRET,
    FakeRun,
    RunningService,
    ServiceStarter,
    github_push,
    github_signature,
    push_payload,
    request,
    service_settings,
)


def nothing_triggered(running: RunningService, fake: FakeRun, runs: int) -> bool:
    """True when no run was asked for: a trigger is admitted before the response is sent,
    so right after it a triggered run is pending, in progress, or already recorded."""
    runner = running.service.runner
    return runner.pending is None and runner.current is None and len(fake.requests) == runs


def started(start_service: ServiceStarter, fake: FakeRun, **changes: object) -> RunningService:
    running = start_service(fake, **changes)
    running.wait_until_idle(1)
    return running


def metric_samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = request(port, "GET", "/metrics").body.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_the_service_runs_once_at_start(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    started(start_service, fake)
    assert fake.requests[0].trigger == "startup"


def test_a_signed_github_push_leads_to_a_run_within_seconds(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    running = started(start_service, fake)
    sent = time.monotonic()
    answer = github_push(running.port)
    assert answer.status == 200
    assert answer.json()["outcome"] == "triggered"
    fake.wait_for(2, timeout=5)
    assert fake.requests[1].trigger == "webhook:github"
    assert time.monotonic() - sent < 5


def test_a_bad_signature_is_refused_and_triggers_nothing(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    running = started(start_service, fake)
    body = push_payload()
    answer = github_push(running.port, body, X_Hub_Signature_256=github_signature(body, "nope"))
    assert answer.status == 401
    assert nothing_triggered(running, fake, runs=1)
    unsigned = request(running.port, "POST", "/webhooks/github", body, {"X-GitHub-Event": "push"})
    assert unsigned.status == 401
    assert nothing_triggered(running, fake, runs=1)


def test_an_event_other_than_push_is_accepted_and_ignored(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    running = started(start_service, fake)
    answer = github_push(running.port, b'{"action": "opened"}', X_GitHub_Event="pull_request")
    assert answer.status == 202
    assert "pull_request" in answer.json()["reason"]
    assert nothing_triggered(running, fake, runs=1)
    other_branch = github_push(running.port, push_payload(ref="refs/heads/dev"))
    assert other_branch.status == 202
    assert nothing_triggered(running, fake, runs=1)


def test_a_malformed_signed_payload_is_a_bad_request(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    running = started(start_service, fake)
    assert github_push(running.port, b"{nope").status == 400
    assert nothing_triggered(running, fake, runs=1)


def test_an_oversize_body_is_refused_before_it_is_read(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    running = started(start_service, fake, webhook_max_body_bytes=1024)
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as conn:
        conn.sendall(
            b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"
            b"Content-Length: 104857600\r\n\r\n" + b"x" * 100
        )
        # Only 100 of the announced 100 MiB were sent, yet the answer comes at once.
        assert conn.recv(64).startswith(b"HTTP/1.1 413")
    assert nothing_triggered(running, fake, runs=1)


def test_a_body_without_length_is_cut_off_at_the_limit() -> None:
    app = ServiceApp(
        EndpointConfig(
            webhook_secret=WEBHOOK_SECRET, tracked_ref="refs/heads/main", max_body_bytes=10
        ),
        metrics=ServiceMetrics(),
        request_run=lambda _trigger, _revision: "started",
        readiness=lambda: (True, {}),
        status=dict,
    )
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/webhooks/github",
        "wsgi.input": io.BytesIO(b"y" * 1000),
    }
    app(environ, lambda status, _headers: statuses.append(status))  # type: ignore[arg-type,return-value]
    assert statuses == ["413 Content Too Large"]


def test_gitlab_pushes_need_the_right_token(start_service: ServiceStarter) -> None:
    fake = FakeRun()
    running = started(start_service, fake)
    headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong-token"}
    wrong = request(running.port, "POST", "/webhooks/gitlab", push_payload(), headers)
    assert wrong.status == 401
    assert nothing_triggered(running, fake, runs=1)
    headers["X-Gitlab-Token"] = WEBHOOK_SECRET
    right = request(running.port, "POST", "/webhooks/gitlab", push_payload(), headers)
    assert right.status == 200
    fake.wait_for(2)
    assert fake.requests[1].trigger == "webhook:gitlab"


def test_without_a_secret_webhook_routes_say_they_are_disabled(
    start_service: ServiceStarter,
) -> None:
    fake = FakeRun()
    running = started(start_service, fake, webhook_secret=None)
    answer = github_push(running.port)
    assert answer.status == 404
    assert "no webhook secret is configured" in answer.json()["error"]
    assert nothing_triggered(running, fake, runs=1)


def test_routes_and_methods_are_checked(start_service: ServiceStarter) -> None:
    running = started(start_service, FakeRun())
    assert request(running.port, "GET", "/webhooks/github").status == 405
    assert request(running.port, "POST", "/status", b"{}").status == 405
    assert request(running.port, "GET", "/nope").status == 404
    assert request(running.port, "GET", "/healthz").json() == {"status": "alive"}


def test_metrics_parse_and_move_with_runs(start_service: ServiceStarter) -> None:
    fake = FakeRun(fail_first=1)
    running = start_service(fake)
    running.wait_until_idle(2)  # the failed start-up run, then the retry after backoff
    before = metric_samples(running.port)
    assert (
        before[("dr_gitops_reconcile_runs_total", (("result", "failed"), ("trigger", "startup")))]
        == 1
    )
    assert (
        before[("dr_gitops_reconcile_runs_total", (("result", "success"), ("trigger", "schedule")))]
        == 1
    )
    assert before[("dr_gitops_last_success_timestamp_seconds", ())] > 0
    assert before[("dr_gitops_consecutive_failures", ())] == 0
    assert before[("dr_gitops_reconcile_duration_seconds_count", (("result", "success"),))] == 1
    assert (
        before[("dr_gitops_managed_resources", (("kind", "CustomModel"), ("state", "in-sync")))]
        == 3
    )
    api = (
        "dr_gitops_api_requests_total",
        (("method", "GET"), ("route", "/api/v2/customModels/"), ("status", "200")),
    )
    assert before[api] == 2

    github_push(running.port)
    running.wait_until_idle(3)
    after = metric_samples(running.port)
    webhook = (
        "dr_gitops_reconcile_runs_total",
        (("result", "success"), ("trigger", "webhook:github")),
    )
    assert after[webhook] == 1
    assert after[api] == 3
    assert after[("dr_gitops_actions_total", (("action", "versions"),))] == 4
    triggered = ("dr_gitops_webhooks_total", (("outcome", "triggered"), ("source", "github")))
    assert after[triggered] == 1
    # The third run applied writes at the revision of the last success: drift was healed.
    assert after[("dr_gitops_drift_corrections_total", ())] == 3


def test_status_records_the_runs_newest_first(start_service: ServiceStarter) -> None:
    fake = FakeRun(fail_first=1)
    running = start_service(fake)
    running.wait_until_idle(2)
    status = request(running.port, "GET", "/status").json()
    runs = status["runs"]
    assert [r["result"] for r in runs] == ["success", "failed"]
    assert [r["trigger"] for r in runs] == ["schedule", "startup"]
    assert runs[1]["errors"] == ["fake failure 1"]
    assert runs[0]["counts"]["versions"] == 2
    assert runs[0]["revision"] == fake.revision
    assert {r["runId"] for r in runs} == {r.run_id for r in fake.requests}
    assert runs[0]["durationSeconds"] >= 0
    assert status["lastSuccess"]["runId"] == runs[0]["runId"]
    assert status["nextRunAt"] is not None
    assert status["trackedRef"] == "refs/heads/main"


def test_failures_back_off_and_recover(start_service: ServiceStarter) -> None:
    fake = FakeRun(fail_first=4)
    running = start_service(fake, backoff_initial_seconds=0.05, backoff_max_seconds=0.15)
    running.wait_until_idle(5)
    gaps = [fake.started_at[i + 1] - fake.finished[i] for i in range(4)]
    # Delays of 0.05, 0.1, then the 0.15 cap; measured, so allow scheduling slack above.
    for gap, expected in zip(gaps, [0.05, 0.1, 0.15, 0.15], strict=True):
        assert expected * 0.9 <= gap < expected + 0.5
    status = request(running.port, "GET", "/status").json()
    assert status["consecutiveFailures"] == 0
    assert [r["result"] for r in status["runs"]] == ["success"] + ["failed"] * 4
    assert request(running.port, "GET", "/readyz").status == 200
    time.sleep(0.4)  # longer than any backoff: a recovered service waits for the interval
    assert len(fake.requests) == 5


def test_readiness_needs_a_recent_successful_run(start_service: ServiceStarter) -> None:
    failing = FakeRun(fail_first=10_000)
    running = start_service(failing)
    running.wait_until_idle(1)
    answer = request(running.port, "GET", "/readyz")
    assert answer.status == 503
    assert "no successful run yet" in answer.json()["reason"]

    fake = FakeRun()
    running = started(start_service, fake, readiness_window_seconds=0.3)
    assert request(running.port, "GET", "/readyz").status == 200
    time.sleep(0.4)
    late = request(running.port, "GET", "/readyz")
    assert late.status == 503
    assert "readiness window" in late.json()["reason"]


def test_stopping_lets_the_run_in_progress_finish(start_service: ServiceStarter) -> None:
    fake = FakeRun(seconds=0.5)
    running = start_service(fake)
    fake.wait_for(1)
    assert running.stop() == 0
    assert len(fake.finished) == 1
    assert not fake.requests[0].stop_requested  # within the grace: not cut short


def test_a_run_near_the_end_of_the_grace_is_asked_to_start_no_new_action(
    start_service: ServiceStarter, tmp_path: Path
) -> None:
    store = FileLeaseStore(tmp_path, "ns")
    lock = NamespaceLock(store, namespace="ns", ttl_seconds=5)
    asked: list[float] = []

    def run(request: RunRequest) -> RunOutcome:
        request.stop.wait(10)  # an apply with many actions left: stops when told
        asked.append(time.monotonic())
        return RunOutcome("failed", errors=("stopped",))

    running = start_service(run, lock=lock, shutdown_grace_seconds=1.0)
    deadline = time.monotonic() + 5
    while running.service.runner.current is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stopping = time.monotonic()
    assert running.stop() == 0
    (when,) = asked
    assert 0.8 <= when - stopping < 1.0  # asked in the last fifth of the grace, ended in it
    assert store.read() is None  # nothing in flight any more: released


def test_a_run_outliving_the_grace_period_exits_1_and_keeps_the_lock(
    start_service: ServiceStarter, tmp_path: Path
) -> None:
    store = FileLeaseStore(tmp_path, "ns")
    fake = FakeRun(seconds=1.0)
    lock = NamespaceLock(store, namespace="ns", ttl_seconds=5)
    running = start_service(fake, lock=lock, shutdown_grace_seconds=0.1)
    fake.wait_for(1)
    assert running.stop() == 1
    assert store.read() is not None  # left to expire: the run may still be writing
    assert running.service.runner.join(5)  # let the abandoned run end inside this test


def test_a_waiting_instance_is_alive_but_not_ready(
    start_service: ServiceStarter, tmp_path: Path
) -> None:
    holder = NamespaceLock(FileLeaseStore(tmp_path, "ns"), namespace="ns", ttl_seconds=60)
    holder.acquire(wait=False)
    fake = FakeRun()
    lock = NamespaceLock(
        FileLeaseStore(tmp_path, "ns"), namespace="ns", ttl_seconds=60, poll_seconds=0.02
    )
    running = start_service(fake, lock=lock)
    deadline = time.monotonic() + 5
    while "held by" not in request(running.port, "GET", "/readyz").json()["reason"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    ready = request(running.port, "GET", "/readyz")
    assert ready.status == 503
    assert str(holder.holder) in ready.json()["reason"]
    assert request(running.port, "GET", "/healthz").status == 200
    assert fake.requests == []
    holder.release()
    fake.wait_for(1)
    assert running.stop() == 0


def test_losing_the_lock_stops_the_service_with_exit_1(
    start_service: ServiceStarter, tmp_path: Path
) -> None:
    store = FileLeaseStore(tmp_path, "ns")
    fake = FakeRun()
    lock = NamespaceLock(store, namespace="ns", ttl_seconds=0.3)
    running = start_service(fake, lock=lock)
    running.wait_until_idle(1)
    found = store.read()
    assert found is not None
    store.delete(found[1])  # as if another controller had taken it over
    running.thread.join(5)
    assert running.exit_code == 1
    assert running.service.runner.stop_event.is_set()


class FlakyStore(FileLeaseStore):
    """A lease store that cannot be reached while ``down`` (a DataRobot outage)."""

    down = False

    def refresh(self, record: LeaseRecord, token: str) -> bool:
        if self.down:
            raise LeaseStoreUnavailable("503 Service Unavailable")
        return super().refresh(record, token)


def test_an_outage_of_the_lock_store_suspends_applying_then_resumes(
    start_service: ServiceStarter, tmp_path: Path
) -> None:
    store = FlakyStore(tmp_path, "ns")
    fake = FakeRun()
    lock = NamespaceLock(store, namespace="ns", ttl_seconds=6)  # suspends at 3-4 s
    running = start_service(fake, lock=lock)
    running.wait_until_idle(1)

    store.down = True
    deadline = time.monotonic() + 10
    while "suspended" not in request(running.port, "GET", "/readyz").json()["reason"]:
        assert time.monotonic() < deadline, "the service did not suspend"
        time.sleep(0.05)
    assert request(running.port, "GET", "/readyz").status == 503
    assert request(running.port, "GET", "/healthz").status == 200
    assert github_push(running.port).json()["outcome"] == "triggered"  # it waits
    time.sleep(0.3)
    assert len(fake.requests) == 1, "nothing may run while the lock is unconfirmed"
    assert running.thread.is_alive(), "an outage is no reason to exit"

    store.down = False  # within the TTL: the lease is still ours, the next heartbeat says so
    fake.wait_for(2, timeout=5)
    running.wait_until_idle(2)
    assert request(running.port, "GET", "/readyz").status == 200
    assert not running.service.runner.stop_event.is_set()
    assert running.stop() == 0


def test_a_port_in_use_is_a_clear_configuration_error(start_service: ServiceStarter) -> None:
    running = started(start_service, FakeRun())
    with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{running.port}"):
        Service(service_settings(listen_port=running.port), FakeRun())


def test_an_unusable_lock_directory_is_a_clear_lock_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    lock = NamespaceLock(FileLeaseStore(blocker / "locks", "ns"), namespace="ns")
    service = Service(service_settings(), FakeRun(), lock=lock)
    with pytest.raises(LockError, match="cannot use the namespace lock store"):
        service.run_until_stopped()


def test_an_outage_longer_than_the_ttl_ends_in_a_lost_lock(
    start_service: ServiceStarter, tmp_path: Path
) -> None:
    store = FlakyStore(tmp_path, "ns")
    fake = FakeRun()
    lock = NamespaceLock(store, namespace="ns", ttl_seconds=0.6)
    running = start_service(fake, lock=lock)
    running.wait_until_idle(1)
    store.down = True  # longer than the TTL: a contender may be taking the lease over
    running.thread.join(5)
    assert running.exit_code == 1
    assert running.service.runner.stop_event.is_set()
    assert len(fake.requests) == 1
