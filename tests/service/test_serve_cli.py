"""``dr-gitops serve`` from flags to ``serve()``: the tracked ref, secrets, the lock."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller import logs
from controller.cli import main
from controller.cli.serve_command import tracked_ref
from controller.service.datarobot_leases import DataRobotLeaseStore
from controller.settings import ServiceSettings
from controller.sources import Checkout, CommitInfo, RefKind
from tests.fixtures.gitrepos import GitRepo, RemoteRepo
from tests.fixtures.service import WEBHOOK_SECRET

API_TOKEN = "drtoken-serve-cli-5c0f7a1e9b2d4c6e8f0a"
GIT_TOKEN = "ghp_servecli0123456789abcdefABCDEF0123"


def checkout(kind: RefKind, name: str | None) -> Checkout:
    commit = CommitInfo("a" * 40, (), "a", "a@example.com", datetime.now(UTC), "s")
    return Checkout(Path("/r"), Path("/r"), commit, name, kind, None, working_tree=False)


@pytest.mark.parametrize(
    ("kind", "name", "flag", "tracked"),
    [
        ("branch", "trunk", None, "trunk"),
        ("branch", "main", "main", "main"),
        ("tag", "v1.2", "v1.2", "refs/tags/v1.2"),
        ("commit", None, "a" * 40, "a" * 40),
        ("detached", None, None, "main"),
    ],
)
def test_the_tracked_ref_is_what_was_checked_out(
    kind: RefKind, name: str | None, flag: str | None, tracked: str
) -> None:
    assert tracked_ref(checkout(kind, name), flag) == tracked


@pytest.fixture
def served_settings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[ServiceSettings, Any]]:
    """Stand in for ``serve()``: record what it would have been called with."""
    calls: list[tuple[ServiceSettings, Any]] = []

    def fake_serve(
        settings: ServiceSettings,
        run: Any,
        *,
        lock: Any,
        metrics: Any,
        notifier: Any = None,
        operations: Any = None,
    ) -> int:
        calls.append((settings, lock))
        return 0

    monkeypatch.setattr("controller.cli.serve_command.serve", fake_serve)
    monkeypatch.setenv("DATAROBOT_ENDPOINT", "http://127.0.0.1:9/api/v2")
    monkeypatch.setenv("DATAROBOT_API_TOKEN", API_TOKEN)
    monkeypatch.setenv("DR_GITOPS_GIT_TOKEN", GIT_TOKEN)
    monkeypatch.setenv("DR_GITOPS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("DR_GITOPS_NAMESPACE", "team/models")
    return calls


def serve(*args: str) -> int:
    with contextlib.redirect_stderr(io.StringIO()):
        return main(["serve", "--listen", "127.0.0.1:0", *args])


def test_serve_keeps_the_api_token_and_git_token_out_of_logs(
    git_repo: GitRepo, served_settings: list[Any], tmp_path: Path
) -> None:
    git_repo.commit("first")
    assert serve("--repo", str(git_repo.path), "--cache-dir", str(tmp_path / "c")) == 0
    scrubbed = logs.redactor.scrub(f"token {API_TOKEN}, git {GIT_TOKEN}, hook {WEBHOOK_SECRET}")
    assert API_TOKEN not in scrubbed
    assert GIT_TOKEN not in scrubbed
    assert WEBHOOK_SECRET not in scrubbed


def test_serve_tracks_the_default_branch_of_a_url_without_ref(
    tmp_path: Path, served_settings: list[Any]
) -> None:
    remote = RemoteRepo(tmp_path / "remote", branch="trunk")
    remote.work.commit("first")
    remote.push()
    assert serve("--repo", remote.url, "--cache-dir", str(tmp_path / "c")) == 0
    ((settings, lock),) = served_settings
    assert settings.tracked_ref == "refs/heads/trunk"
    assert isinstance(lock.store, DataRobotLeaseStore)  # the default lock
    assert lock.namespace == "team/models"


def test_serve_passes_the_lock_flags_on(
    git_repo: GitRepo, served_settings: list[Any], tmp_path: Path
) -> None:
    git_repo.commit("first")
    repo, cache = str(git_repo.path), str(tmp_path / "c")
    flags = ("--lock", "file", "--lock-dir", str(tmp_path / "l"), "--lock-ttl", "9")
    assert serve("--repo", repo, "--cache-dir", cache, *flags, "--lock-timeout", "4") == 0
    assert serve("--repo", repo, "--cache-dir", cache, "--lock", "none", "--no-wait") == 0
    (first, lock), (second, no_lock) = served_settings
    assert (first.lock_wait, first.lock_wait_timeout_seconds, lock.ttl_seconds) == (True, 4, 9)
    assert lock.store.directory == tmp_path / "l"
    assert (second.lock_wait, no_lock) == (False, None)


def test_the_locks_client_gives_up_within_a_tenth_of_the_ttl() -> None:
    from controller.service.apply_lock import lock_api
    from controller.settings import ApiSettings

    api = ApiSettings(endpoint="http://127.0.0.1:1/api/v2", token="lock-budget-token-1")
    quick = lock_api(api, 60.0)
    # A heartbeat failing in an outage returns in time for the service to suspend before
    # 2/3 of the TTL, well before a contender may take the lease over.
    assert (quick.max_retry_time, quick.read_timeout, quick.connect_timeout) == (6.0, 6.0, 6.0)
    assert lock_api(api, 3600.0).max_retry_time == api.max_retry_time
    assert quick.token == api.token
