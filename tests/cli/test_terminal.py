"""Terminal manners: apply asks before it writes, and keeps its logs to what people need."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import structlog

from controller import logs
from controller.service import FileLeaseStore, Holder, NamespaceLock
from tests.cli.terminal import Terminal, on_terminal
from tests.fixtures.workspace import NAMESPACE, Workspace


@pytest.fixture
def one_model(workspace: Workspace) -> Workspace:
    workspace.add_model("scorer")
    workspace.commit("add scorer")
    return workspace


def _models(workspace: Workspace) -> list[str]:
    return [m.name for m in workspace.client.list_models() if "lock" not in m.name]


def test_apply_on_a_terminal_shows_the_plan_and_writes_nothing_unless_told_yes(
    one_model: Workspace,
) -> None:
    terminal = on_terminal(one_model, "apply", "--repo", str(one_model.repo.path))
    shown = terminal.read_until("Enter a value:")
    assert "+ CustomModel/scorer  create model 'Scorer'" in shown
    assert "Only 'yes' will be accepted" in shown
    terminal.type("no")
    assert terminal.finish() == 1
    assert "Apply cancelled: nothing was changed." in terminal.output
    assert one_model.writes() == 0


def test_apply_on_a_terminal_applies_after_yes_without_info_logs(one_model: Workspace) -> None:
    terminal = on_terminal(one_model, "apply", "--repo", str(one_model.repo.path))
    terminal.read_until("Enter a value:")
    terminal.type("yes")
    assert terminal.finish() == 0
    assert "Apply complete: 2 done" in terminal.output
    assert _models(one_model) == ["Scorer"]
    # On a terminal only warnings and errors join the output: no step-by-step info lines.
    for event in ("git_source_opened", "snapshot_read", "plan_made", '"level"'):
        assert event not in terminal.output


def test_auto_approve_on_a_terminal_applies_without_asking(one_model: Workspace) -> None:
    terminal = on_terminal(one_model, "apply", "--repo", str(one_model.repo.path), "--auto-approve")
    assert terminal.finish() == 0
    assert "Enter a value" not in terminal.output
    assert _models(one_model) == ["Scorer"]


def test_log_level_still_wins_on_a_terminal(one_model: Workspace) -> None:
    terminal = on_terminal(
        one_model, "plan", "--repo", str(one_model.repo.path), "--log-level", "info"
    )
    assert terminal.finish() == 0
    assert "info: plan_made: namespace=test/workspace" in terminal.output


def test_without_a_terminal_apply_never_asks(one_model: Workspace) -> None:
    applied = one_model.cli("apply", "--repo", str(one_model.repo.path))
    assert applied.code == 0, applied.err
    assert "Enter a value" not in applied.out
    assert _models(one_model) == ["Scorer"]


@pytest.mark.parametrize(
    ("command", "level", "log_format", "tty", "expected"),
    [
        ("apply", None, None, True, ("warning", None)),
        ("apply", None, None, False, ("info", None)),
        ("apply", "debug", None, True, ("debug", None)),
        ("plan", None, None, True, ("warning", None)),
        ("serve", None, None, True, ("info", True)),
        ("serve", None, "console", True, ("info", False)),
        ("serve", "warning", None, False, ("warning", True)),
    ],
)
def test_each_command_logs_at_a_level_and_format_fit_for_where_it_runs(
    command: str,
    level: str | None,
    log_format: str | None,
    tty: bool,
    expected: tuple[str, bool | None],
) -> None:
    choice = logs.choose_logging(command, level=level, log_format=log_format, tty=tty)
    assert (choice.level, choice.json) == expected


def test_logs_for_people_are_one_short_line_per_event() -> None:
    out = io.StringIO()
    logs.configure(level="info", json=False, stream=out)
    structlog.get_logger("t").warning("api_request_retried", method="GET", attempt=2)
    assert out.getvalue() == "warning: api_request_retried: method=GET, attempt=2\n"


def _held_by_serve(locks: Path) -> NamespaceLock:
    serving = NamespaceLock(
        FileLeaseStore(locks, NAMESPACE),
        namespace=NAMESPACE,
        ttl_seconds=600,
        holder=Holder("serve-host", 42, "serve"),
    )
    serving.acquire(wait=False)
    return serving


def _apply_waiting(workspace: Workspace, locks: Path, *flags: str) -> Terminal:
    return on_terminal(
        workspace,
        *flags,
        "apply",
        "--repo",
        str(workspace.repo.path),
        "--auto-approve",
        *("--lock", "file", "--lock-dir", str(locks), "--lock-timeout", "2"),
    )


def test_apply_on_a_terminal_says_whom_it_waits_for_and_for_how_long(
    one_model: Workspace, tmp_path: Path
) -> None:
    locks = tmp_path / "locks"
    serving = _held_by_serve(locks)
    terminal = _apply_waiting(one_model, locks)
    assert terminal.finish() == 1
    assert (
        "waiting for the lock on namespace 'test/workspace', held by serve-host pid 42 "
        "(instance serve) since " in terminal.output
    )
    assert ": waited 0 s, will wait 2 s more before giving up" in terminal.output
    assert "Timed out waiting for it" in terminal.output
    serving.release()


def test_with_info_logs_on_a_terminal_the_wait_is_said_once(
    one_model: Workspace, tmp_path: Path
) -> None:
    """The log line says whom apply waits for; no plain line repeats it."""
    locks = tmp_path / "locks"
    serving = _held_by_serve(locks)
    terminal = _apply_waiting(one_model, locks, "--log-level", "info")
    assert terminal.finish() == 1
    assert terminal.output.count("namespace_lock_waiting") == 1, terminal.output
    assert "waiting for the lock on namespace" not in terminal.output
    assert "Timed out waiting for it" in terminal.output
    serving.release()
