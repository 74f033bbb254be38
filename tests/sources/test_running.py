"""The git runner: counting processes and scrubbing secrets from failures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controller.errors import SourceError
from controller.sources.gitrunner import GitResult, GitRunner


def test_every_process_is_counted_by_subcommand(tmp_path: Path) -> None:
    runner = GitRunner(os.environ)
    runner.run("init", "-q", str(tmp_path / "r"))
    runner.run("-C", str(tmp_path / "r"), "rev-parse", "--git-dir")
    runner.run("-c", "core.bare=false", "--version")
    assert runner.calls == 3
    assert runner.commands == {"init": 1, "rev-parse": 1, "git": 1}


def test_failures_name_the_operation_and_hide_known_secrets() -> None:
    runner = GitRunner(os.environ, secrets=["tok-ABCDEF-123"])
    failed = GitResult(
        128,
        b"",
        "remote: denied for tok-ABCDEF-123\nfatal: unable to access "
        "'https://bot:other-secret@host/r.git/': 403",
    )
    message = runner.failure(failed, "fetching r", "check the token")
    assert message.startswith("fetching r failed: ")
    assert message.endswith(". Check the token")
    assert "tok-ABCDEF-123" not in message
    assert "other-secret" not in message
    assert "https://host/r.git/" in message


def test_a_failing_command_raises_source_error_with_the_ref(tmp_path: Path) -> None:
    runner = GitRunner(os.environ)
    with pytest.raises(SourceError, match="git rev-parse failed: ") as caught:
        runner.run("-C", str(tmp_path), "rev-parse", "--verify", "nope", ref="nope")
    assert caught.value.ref == "nope"


def test_a_missing_git_binary_is_explained() -> None:
    runner = GitRunner(os.environ, executable="/nonexistent/git")
    with pytest.raises(SourceError, match="git is not installed"):
        runner.run("--version")


def test_failures_keep_git_s_advice_after_its_verdict() -> None:
    runner = GitRunner(os.environ)
    stderr = (
        "remote: Enumerating objects: 5, done.\n"
        "fatal: detected dubious ownership in repository at '/work/repo'\n"
        "To add an exception for this directory, call:\n"
        "\n"
        "\tgit config --global --add safe.directory /work/repo\n"
    )
    message = runner.failure(GitResult(128, b"", stderr), "reading the repository")
    assert "Enumerating" not in message
    assert "dubious ownership" in message
    assert "safe.directory /work/repo" in message
