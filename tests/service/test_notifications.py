"""Notifications of serve: which events are sent (once per repeated failure), their forms
for Slack, Teams and JSON webhooks, retries, and that a slow or failing receiver never
slows a run. Receivers are local HTTP servers on 127.0.0.1 that record what they get."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from controller.cli.notificationfile import load_notifications
from controller.errors import ConfigError
from controller.logs import redactor
from controller.service import NamespaceLock, RunOutcome, RunRequest, Service
from controller.service.engine_runs import EngineRunner
from controller.service.history import RunHistory
from controller.service.metrics import ServiceMetrics
from controller.service.notifications import (
    NotificationSettings,
    NotificationTarget,
)
from controller.service.notifier import Notifier
from controller.service.runner import Backoff, Runner
from controller.service.runs import ActionCounts
from controller.settings import EngineSettings
from tests.fixtures.service import FakeRun, service_settings
from tests.fixtures.workspace import Workspace
from tests.service.test_service import FlakyStore


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST; ``status`` is its answer, and
    while ``gate`` is clear it holds every answer (a slow receiver)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.attempts = 0
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Semaphore(0)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.attempts += 1
                receiver.arrived.release()
                receiver.gate.wait(30)
                if receiver.status < 300:
                    receiver.bodies.append(json.loads(body))
                    receiver.headers.append(dict(self.headers))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(status: int = 200) -> Receiver:
        made.append(Receiver(status))
        return made[-1]

    yield make
    for r in made:
        r.close()


def _wait(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _settings(*targets: NotificationTarget, **changes: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "targets": targets,
        "namespace": "test/notify",
        "retries": 2,
        "backoff_seconds": 0.01,
        "timeout_seconds": 5.0,
    }
    values.update(changes)
    return NotificationSettings(**values)


def _run_once(runner: Runner, history_size: Callable[[], int]) -> None:
    before = history_size()
    assert runner.request("schedule", queue_if_busy=True) in ("started", "queued")
    _wait(lambda: history_size() > before)


def _count(metrics: ServiceMetrics, target: str, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "dr_gitops_notifications_total", {"target": target, "result": result}
    )
    return value or 0.0


def test_a_bad_commit_a_fix_and_drift_notify_exactly_once_each_in_order(
    workspace: Workspace, receiver: Callable[..., Receiver], emulator_api: Any
) -> None:
    hook = receiver()
    metrics = ServiceMetrics()
    notifier = Notifier(_settings(NotificationTarget("audit", "webhook", hook.url)), metrics)
    notifier.start()
    engine = EngineRunner(workspace.git_settings(), workspace.api, EngineSettings(), {})
    history = RunHistory(50)
    runner = Runner(
        engine,
        history=history,
        metrics=metrics,
        backoff=Backoff(60, 1, 10),
        on_finished=lambda _delay: None,
        on_recorded=notifier.on_run,
    )
    runner.start()

    def run() -> None:
        _run_once(runner, lambda: len(history.recent()))

    workspace.add_model("scorer")
    workspace.commit("a model")
    run()  # applied
    workspace.edit_manifest("models/scorer.yaml", targetType="NotAType")
    workspace.commit("a typo")
    run()  # gate-failed
    run()  # the same failure again: not sent again
    workspace.edit_manifest("models/scorer.yaml", targetType="Regression", description="fixed")
    workspace.commit("the fix")
    run()  # recovered, applied
    (model,) = workspace.client.list_models()
    answer = emulator_api.patch(f"customModels/{model.id}/", json={"description": "by hand"})
    assert answer.status_code == 200, answer.text
    run()  # drift corrected
    runner.close()
    notifier.close(timeout=10)

    assert [b["event"] for b in hook.bodies] == [
        "applied",
        "gate-failed",
        "recovered",
        "applied",
        "drift-corrected",
    ]
    applied, gate, recovered, fixed, drift = hook.bodies
    assert applied["lines"] == ["CustomModel/scorer: model created; version 1.0 created"]
    assert "spec.targetType: 'NotAType' is not allowed" in gate["lines"][0]
    assert recovered["title"].endswith("after 2 failed runs")
    assert fixed["lines"] == ["CustomModel/scorer: model updated"]
    assert fixed["revision"] == workspace.repo.head()
    assert drift["lines"] == ["CustomModel/scorer: model updated"]
    assert drift["revision"] == fixed["revision"]
    assert applied["namespace"] == "test/notify"
    assert _count(metrics, "audit", "sent") == 5


def _scripted(outcomes: list[RunOutcome]) -> Callable[[RunRequest], RunOutcome]:
    queue = list(outcomes)

    def run(_request: RunRequest) -> RunOutcome:
        return queue.pop(0)

    return run


FAILED = RunOutcome("failed", "a" * 40, counts=ActionCounts(failed=1), errors=("boom",))
APPLIED = RunOutcome(
    "success", "a" * 40, counts=ActionCounts(created=1), changes=("CustomModel/x: model created",)
)


def test_a_failure_repeated_is_sent_again_after_the_quiet_period(
    receiver: Callable[..., Receiver],
) -> None:
    hook = receiver()
    clock = [1000.0]
    notifier = Notifier(
        _settings(NotificationTarget("hook", "webhook", hook.url), quiet_period_seconds=600),
        ServiceMetrics(),
        wall=lambda: clock[0],
    )
    notifier.start()
    history = RunHistory(50)
    runner = Runner(
        _scripted([FAILED, FAILED, FAILED]),
        history=history,
        metrics=ServiceMetrics(),
        backoff=Backoff(60, 1, 10),
        on_finished=lambda _delay: None,
        on_recorded=notifier.on_run,
        wall=lambda: clock[0],
        monotonic=lambda: clock[0],
    )
    runner.start()
    for step in (0, 300, 400):  # at 1000, 1300 (suppressed), 1700 (quiet period over)
        clock[0] += step
        _run_once(runner, lambda: len(history.recent()))
    notifier.close(timeout=10)
    assert [b["event"] for b in hook.bodies] == ["failed", "failed"]


def test_slack_and_teams_get_their_own_forms_and_only_the_events_they_chose(
    receiver: Callable[..., Receiver],
) -> None:
    slack, teams = receiver(), receiver()
    notifier = Notifier(
        _settings(
            NotificationTarget("slack", "slack", slack.url),
            NotificationTarget("teams", "teams", teams.url, events=frozenset({"failed"})),
        ),
        ServiceMetrics(),
    )
    notifier.start()
    history = RunHistory(50)
    runner = _runner_with(history, _scripted([APPLIED, FAILED]), notifier)
    _run_once(runner, lambda: len(history.recent()))
    _run_once(runner, lambda: len(history.recent()))
    notifier.close(timeout=10)
    assert [b["text"].splitlines()[0] for b in slack.bodies] == [
        f"*Applied {'a' * 12}: 1 object(s) changed* (dr-gitops test/notify)",
        f"*Run failed at {'a' * 12}* (dr-gitops test/notify)",
    ]
    assert "• CustomModel/x: model created" in slack.bodies[0]["text"]
    (card,) = teams.bodies
    assert card["type"] == "message"
    content = card["attachments"][0]["content"]
    assert card["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert content["type"] == "AdaptiveCard"
    assert [b["text"] for b in content["body"]][::2] == [f"Run failed at {'a' * 12}", "- boom"]


def _runner_with(
    history: RunHistory, run: Callable[[RunRequest], RunOutcome], notifier: Notifier
) -> Runner:
    runner = Runner(
        run,
        history=history,
        metrics=ServiceMetrics(),
        backoff=Backoff(60, 1, 10),
        on_finished=lambda _delay: None,
        on_recorded=notifier.on_run,
    )
    runner.start()
    return runner


def test_a_receiver_answering_500_is_retried_then_logged_and_counted(
    receiver: Callable[..., Receiver],
) -> None:
    broken, good = receiver(500), receiver()
    metrics = ServiceMetrics()
    notifier = Notifier(
        _settings(
            NotificationTarget("broken", "webhook", broken.url),
            NotificationTarget("good", "webhook", good.url),
            retries=2,
        ),
        metrics,
    )
    notifier.start()
    history = RunHistory(50)
    runner = _runner_with(history, _scripted([APPLIED]), notifier)
    with capture_logs() as logs:
        _run_once(runner, lambda: len(history.recent()))
        notifier.close(timeout=10)
    assert broken.attempts == 3  # the first POST and two retries
    (failure,) = [e for e in logs if e["event"] == "notification_failed"]
    assert failure["target"] == "broken"
    assert failure["error"] == "HTTP 500"
    assert broken.url not in str(logs)  # a webhook URL is a credential
    assert _count(metrics, "broken", "failed") == 1
    assert _count(metrics, "broken", "sent") == 0
    assert _count(metrics, "good", "sent") == 1
    assert [b["event"] for b in good.bodies] == ["applied"]


def test_a_slow_receiver_never_slows_runs_and_a_full_queue_drops(
    receiver: Callable[..., Receiver],
) -> None:
    slow = receiver()
    slow.gate.clear()  # holds every answer until released
    metrics = ServiceMetrics()
    notifier = Notifier(
        _settings(NotificationTarget("slow", "webhook", slow.url), queue_size=1), metrics
    )
    notifier.start()
    history = RunHistory(50)
    runner = _runner_with(history, _scripted([APPLIED] * 4), notifier)
    _run_once(runner, lambda: len(history.recent()))
    assert slow.arrived.acquire(timeout=10)  # the sender is stuck on the first one
    for _ in range(3):  # these runs finish while the receiver still holds the first POST
        _run_once(runner, lambda: len(history.recent()))
    assert len(history.recent()) == 4
    assert slow.bodies == []
    slow.gate.set()
    notifier.close(timeout=10)
    # One in flight, one queued, two dropped (the queue holds one): counted, not waited for.
    assert len(slow.bodies) == 2
    assert _count(metrics, "slow", "dropped") == 2


def test_a_lost_lock_is_sent_before_the_service_exits(
    receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    hook = receiver()
    metrics = ServiceMetrics()
    notifier = Notifier(_settings(NotificationTarget("hook", "webhook", hook.url)), metrics)
    notifier.start()
    store = FlakyStore(tmp_path, "ns")
    lock = NamespaceLock(store, namespace="ns", ttl_seconds=0.6)
    service = Service(service_settings(), FakeRun(), lock=lock, metrics=metrics, notifier=notifier)
    exit_codes: list[int] = []
    thread = threading.Thread(target=lambda: exit_codes.append(service.run_until_stopped()))
    thread.start()
    _wait(lambda: len(service.history.recent()) == 1)
    store.down = True  # longer than the TTL: the lock is lost, the service exits 1
    thread.join(15)
    assert exit_codes == [1]
    (body,) = hook.bodies  # sent before the exit; the successful run changed nothing
    assert body["event"] == "lock-lost"
    assert body["namespace"] == "test/notify"
    assert _count(metrics, "hook", "sent") == 1


# --- the --notifications file ----------------------------------------------------------


def test_the_file_resolves_secrets_from_the_environment_and_files(tmp_path: Path) -> None:
    (tmp_path / "teams-url").write_text("https://teams.example.invalid/hook/s3cr3t-teams\n")
    (tmp_path / "token").write_text("Bearer t0ken-for-audit\n")
    config = tmp_path / "notifications.yaml"
    config.write_text(
        "quietPeriod: 900\n"
        "targets:\n"
        "  - {name: ml, type: slack, url: {env: SLACK_URL}, events: [failed, recovered]}\n"
        "  - {name: ops, type: teams, url: {file: teams-url}}\n"
        "  - name: audit\n"
        "    type: webhook\n"
        "    url: https://audit.example.invalid/hook\n"
        "    headers: {Authorization: {file: token}}\n"
    )
    settings = load_notifications(
        config, {"SLACK_URL": "https://hooks.slack.invalid/T0/B0/s3cr3t-slack"}, "ns"
    )
    slack, teams, audit = settings.targets
    assert settings.quiet_period_seconds == 900
    assert slack.url == "https://hooks.slack.invalid/T0/B0/s3cr3t-slack"
    assert slack.events == {"failed", "recovered"}
    assert teams.url == "https://teams.example.invalid/hook/s3cr3t-teams"
    assert audit.headers == (("Authorization", "Bearer t0ken-for-audit"),)
    assert "s3cr3t" not in repr(settings)
    for secret in ("s3cr3t-slack", "s3cr3t-teams", "t0ken-for-audit"):
        assert secret not in redactor.scrub(
            f"a log line with {slack.url} {teams.url} {audit.headers}"
        )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("targets: []\n", "targets: give a list"),
        ("targets:\n  - {name: a, type: email, url: https://x.invalid}\n", "targets[0].type"),
        ("targets:\n  - {name: a, type: slack, url: {env: NOPE}}\n", "NOPE is not set"),
        (
            "targets:\n  - {name: a, type: slack, url: https://x.invalid, events: [typo]}\n",
            "targets[0].events: unknown event 'typo'",
        ),
        ("targets:\n  - {name: a, type: slack, url: ftp://s3cr3t}\n", "(value not shown)"),
        (
            "quietPeriod: -1\ntargets:\n  - {name: a, type: slack, url: https://x.invalid}\n",
            "quietPeriod",
        ),
        ("target: []\n", "target: unknown key"),
    ],
)
def test_a_bad_file_names_the_file_and_the_field(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "notifications.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_notifications(config, {}, "ns")
    assert str(config) in str(caught.value)
    assert expected in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_a_blocked_action_is_sent_as_blocked_not_as_a_failure_too(
    receiver: Callable[..., Receiver],
) -> None:
    hook = receiver()
    blocked = RunOutcome(
        "failed",
        "b" * 40,
        counts=ActionCounts(failed=1),
        errors=("CustomJob/nightly: jobType cannot change",),
        blocked=("CustomJob/nightly: jobType cannot change",),
    )
    notifier = Notifier(
        _settings(NotificationTarget("hook", "webhook", hook.url)), ServiceMetrics()
    )
    notifier.start()
    history = RunHistory(50)
    runner = _runner_with(history, _scripted([blocked, blocked, APPLIED]), notifier)
    for _ in range(3):
        _run_once(runner, lambda: len(history.recent()))
    notifier.close(timeout=10)
    assert [(b["event"], b["lines"]) for b in hook.bodies] == [
        ("blocked", ["CustomJob/nightly: jobType cannot change"]),
        ("recovered", []),
        ("applied", ["CustomModel/x: model created"]),
    ]


def test_serve_refuses_a_bad_notifications_file_before_starting(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.add_model("scorer")
    workspace.commit()
    config = tmp_path / "notifications.yaml"
    config.write_text("targets:\n  - {name: a, type: pager, url: https://x.invalid}\n")
    result = workspace.cli(
        "serve", "--repo", str(workspace.repo.path), "--listen", "127.0.0.1:0",
        "--notifications", str(config),
    )  # fmt: skip
    assert result.code == 1
    assert f"{config}: targets[0].type: one of slack, teams, webhook" in result.err
    assert "Traceback" not in result.err
    assert workspace.stats()["total"] == 0
