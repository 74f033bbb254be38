"""Operating serve: observe mode, suspend and resume, reconcile now (authenticated with a
bearer token from a file; refused without one), and the read token of the page and
``/status``. The service runs in-process with a fake run over real HTTP on 127.0.0.1; the
CLI's calls (`dr-gitops suspend` ...) are made against it too."""

from __future__ import annotations

import base64
import contextlib
import io
import time
from pathlib import Path
from typing import Any

import pytest

from controller.cli import main
from controller.service.operations import OperationsSettings
from tests.fixtures.service import FakeRun, ServiceStarter, request

CONTROL = "ctl-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
READ = "read-0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _basic(token: str, user: str = "ops") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode()}


def _gauge(service: Any, name: str, **labels: str) -> float:
    value = service.metrics.registry.get_sample_value(name, labels)
    return float(value or 0.0)


def _header(answer: Any, name: str) -> str:
    return next(v for k, v in answer.headers.items() if k.lower() == name)


def test_control_calls_are_refused_when_no_control_token_is_configured(
    start_service: ServiceStarter,
) -> None:
    run = FakeRun()
    served = start_service(run)
    run.wait_for(1, finished=True)
    served.wait_until_idle(1)
    for action in ("suspend", "resume", "reconcile"):
        answer = request(served.port, "POST", f"/control/{action}", b"", _bearer(CONTROL))
        assert answer.status == 403, (action, answer.body)
        assert b"--control-token-file" in answer.body
    time.sleep(0.3)
    assert len(run.requests) == 1  # the reconcile call started no run
    assert served.service.status()["suspended"] is False
    assert served.service.operations.dry_run() is False


@pytest.mark.parametrize(
    "headers",
    [
        {},
        _bearer("ctl-wrong-0000000000000000000000000"),
        _bearer(READ),  # the read token does not control
        _basic(CONTROL),  # control calls take a bearer token only
        {"Authorization": "Bearer"},
        {"Authorization": CONTROL},
    ],
    ids=["none", "wrong", "read-token", "basic", "empty-bearer", "no-scheme"],
)
def test_control_calls_without_the_token_answer_401_and_change_nothing(
    start_service: ServiceStarter, headers: dict[str, str]
) -> None:
    run = FakeRun()
    operations = OperationsSettings(control_token=CONTROL, read_token=READ)
    served = start_service(run, operations=operations)
    served.wait_until_idle(1)
    for action in ("suspend", "reconcile"):
        answer = request(served.port, "POST", f"/control/{action}", b"", headers)
        assert answer.status == 401, (action, answer.body)
        assert _header(answer, "www-authenticate").startswith("Bearer")
    time.sleep(0.3)
    assert len(run.requests) == 1
    assert served.service.operations.suspended is False
    refused = _gauge(
        served.service, "dr_gitops_control_requests_total", action="suspend", result="unauthorized"
    )
    assert refused == 1


def test_suspended_runs_plan_and_apply_nothing_until_resumed_with_a_run_at_once(
    start_service: ServiceStarter,
) -> None:
    run = FakeRun()
    served = start_service(run, operations=OperationsSettings(control_token=CONTROL))
    served.wait_until_idle(1)
    assert run.requests[0].dry_run is False
    assert _gauge(served.service, "dr_gitops_mode", mode="apply") == 1

    answer = request(served.port, "POST", "/control/suspend", b"", _bearer(CONTROL))
    assert answer.status == 200, answer.body
    assert answer.json()["suspended"] is True
    assert answer.json()["changed"] is True
    again = request(served.port, "POST", "/control/suspend", b"", _bearer(CONTROL)).json()
    assert again["changed"] is False
    status = served.service.status()
    assert status["suspended"] is True
    assert status["suspendedSince"]
    assert _gauge(served.service, "dr_gitops_mode", mode="suspended") == 1
    assert _gauge(served.service, "dr_gitops_mode", mode="apply") == 0

    # Reconcile now while suspended: a run at once, planning only.
    answer = request(served.port, "POST", "/control/reconcile", b"", _bearer(CONTROL))
    assert answer.status == 200
    assert answer.json()["run"] in ("started", "queued")
    run.wait_for(2, finished=True)
    assert (run.requests[1].trigger, run.requests[1].dry_run) == ("reconcile-now", True)

    answer = request(served.port, "POST", "/control/resume", b"", _bearer(CONTROL))
    assert answer.status == 200
    assert answer.json()["changed"] is True
    run.wait_for(3, finished=True)
    assert (run.requests[2].trigger, run.requests[2].dry_run) == ("resume", False)
    assert served.service.status()["suspended"] is False
    assert _gauge(served.service, "dr_gitops_mode", mode="apply") == 1
    nothing = request(served.port, "POST", "/control/resume", b"", _bearer(CONTROL)).json()
    assert nothing["changed"] is False
    time.sleep(0.3)
    assert len(run.requests) == 3  # resuming when not suspended starts no run


def test_reconcile_now_is_coalesced_with_a_run_in_progress(
    start_service: ServiceStarter,
) -> None:
    run = FakeRun(seconds=0.6)
    served = start_service(run, operations=OperationsSettings(control_token=CONTROL))
    run.wait_for(1)  # the start-up run is in progress
    answers = [
        request(served.port, "POST", "/control/reconcile", b"", _bearer(CONTROL)).json()["run"]
        for _ in range(4)
    ]
    assert answers == ["queued", "coalesced", "coalesced", "coalesced"]
    served.wait_until_idle(2, timeout=10)
    time.sleep(0.3)
    assert [r.trigger for r in run.requests] == ["startup", "reconcile-now"]


def test_observe_mode_makes_every_run_a_dry_run(start_service: ServiceStarter) -> None:
    run = FakeRun()
    served = start_service(run, operations=OperationsSettings(mode="observe"))
    served.wait_until_idle(1)
    assert run.requests[0].dry_run is True
    assert served.service.status()["mode"] == "observe"
    assert _gauge(served.service, "dr_gitops_mode", mode="observe") == 1


def test_the_read_token_protects_the_page_and_status_but_not_the_probes(
    start_service: ServiceStarter,
) -> None:
    served = start_service(
        FakeRun(), operations=OperationsSettings(read_token=READ, control_token=CONTROL)
    )
    served.wait_until_idle(1)
    run_id = served.service.history.recent()[0].run_id
    for path in ("/", "/status", f"/runs/{run_id}"):
        for headers in ({}, _bearer("read-wrong-000000000000000000000000"), _basic("nope")):
            answer = request(served.port, "GET", path, headers=headers)
            assert answer.status == 401, (path, headers)
            assert _header(answer, "www-authenticate").startswith("Basic")
        for headers in (_bearer(READ), _basic(READ), _basic(READ, user=""), _bearer(CONTROL)):
            assert request(served.port, "GET", path, headers=headers).status == 200, path
    for path in ("/healthz", "/metrics"):
        assert request(served.port, "GET", path).status == 200


def test_without_a_read_token_the_page_and_status_are_open(start_service: ServiceStarter) -> None:
    served = start_service(FakeRun())
    served.wait_until_idle(1)
    page = request(served.port, "GET", "/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert request(served.port, "GET", "/status").status == 200
    assert request(served.port, "GET", "/runs/no-such-run").status == 404
    assert request(served.port, "POST", "/").status == 405


def _cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue()


def test_the_cli_suspends_resumes_and_reconciles_with_the_token_file(
    start_service: ServiceStarter, tmp_path: Path
) -> None:
    run = FakeRun()
    served = start_service(run, operations=OperationsSettings(control_token=CONTROL))
    served.wait_until_idle(1)
    token = tmp_path / "control-token"
    token.write_text(CONTROL + "\n")
    url = f"http://127.0.0.1:{served.port}"

    code, said = _cli("suspend", "--service", url, "--token-file", str(token))
    assert (code, served.service.operations.suspended) == (0, True), said
    assert said.startswith("suspended")
    code, said = _cli("reconcile", "--service", url, "--token-file", str(token))
    assert code == 0
    assert "reconcile requested" in said
    run.wait_for(2, finished=True)
    assert run.requests[1].dry_run is True
    code, said = _cli("resume", "--service", url, "--token-file", str(token))
    assert (code, served.service.operations.suspended) == (0, False), said
    run.wait_for(3, finished=True)
    assert CONTROL not in said


def test_the_cli_says_why_a_call_was_refused_without_showing_the_token(
    start_service: ServiceStarter, tmp_path: Path
) -> None:
    served = start_service(FakeRun(), operations=OperationsSettings(control_token=CONTROL))
    served.wait_until_idle(1)
    wrong = tmp_path / "wrong"
    wrong.write_text("ctl-not-the-right-one-0000000000000\n")
    url = f"http://127.0.0.1:{served.port}"
    code, said = _cli("suspend", "--service", url, "--token-file", str(wrong))
    assert code == 1
    assert "HTTP 401" in said
    assert "not the service's control token" in said
    assert "ctl-not-the-right-one" not in said
    assert served.service.operations.suspended is False
    code, said = _cli("suspend", "--service", url, "--token-file", str(tmp_path / "absent"))
    assert code == 1
    assert "cannot read the control token file" in said
    short = tmp_path / "short"
    short.write_text("abc\n")
    code, said = _cli("suspend", "--service", url, "--token-file", str(short))
    assert code == 1
    assert "at least 16 characters" in said
    code, said = _cli("suspend", "--service", "http://127.0.0.1:9", "--token-file", str(wrong))
    assert code == 1
    assert "cannot reach the service" in said


def test_serve_reads_the_mode_and_the_token_files_into_its_settings(
    git_repo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[OperationsSettings] = []

    def fake_serve(*_args: Any, operations: OperationsSettings, **_kwargs: Any) -> int:
        seen.append(operations)
        return 0

    monkeypatch.setattr("controller.cli.serve_command.serve", fake_serve)
    monkeypatch.setenv("DATAROBOT_ENDPOINT", "https://dr.example.com/api/v2")
    monkeypatch.setenv("DATAROBOT_API_TOKEN", "drtoken-00000000000000000000000000")
    monkeypatch.setenv("DR_GITOPS_NAMESPACE", "team/models")
    git_repo.commit("first")
    (tmp_path / "read").write_text(READ + "\n")
    monkeypatch.setenv("DR_GITOPS_CONTROL_TOKEN_FILE", str(tmp_path / "control"))
    (tmp_path / "control").write_text(CONTROL + "\n")
    args = ["serve", "--listen", "127.0.0.1:0", "--repo", str(git_repo.path), "--lock", "none"]
    args += ["--cache-dir", str(tmp_path / "c"), "--mode", "observe"]
    code, said = _cli(*args, "--read-token-file", str(tmp_path / "read"))
    assert code == 0, said
    (settings,) = seen
    assert (settings.mode, settings.read_token, settings.control_token) == (
        "observe",
        READ,
        CONTROL,
    )
    assert settings.web_url == "https://dr.example.com"
    assert settings.namespace == "team/models"
    shown = dict(settings.shown)
    assert shown["Mode"] == "observe"
    assert shown["Read token"] == "required"
    assert READ not in repr(settings)
    assert CONTROL not in repr(settings)
    assert CONTROL not in str(settings.shown)

    (tmp_path / "short").write_text("abc")
    code, said = _cli(*args, "--read-token-file", str(tmp_path / "short"))
    assert code == 1
    assert "read token in" in said
    assert "at least 16 characters" in said
