"""gitModelVersion from recorded CI environments (tests/sources/data/<case>/)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from controller.sources import (
    Checkout,
    CommitInfo,
    git_model_version,
    load_github_event,
    read_ci,
)

DATA = Path(__file__).parent / "data"
CASES = sorted(p.name for p in DATA.iterdir() if p.is_dir())


def _load(case: str, name: str) -> Any:
    return json.loads((DATA / case / name).read_text(encoding="utf-8"))


def checkout_from(raw: dict[str, Any], root: Path) -> Checkout:
    commit = CommitInfo(
        sha=raw["sha"],
        parents=tuple(raw["parents"]),
        author_name="Mona Lisa",
        author_email="mona@acme.example",
        authored_at=datetime(2024, 5, 14, tzinfo=UTC),
        subject="recorded",
    )
    return Checkout(
        root=root,
        toplevel=root,
        commit=commit,
        ref_name=raw["refName"],
        ref_kind="branch" if raw["refName"] else "detached",
        remote_url=raw["remoteUrl"],
        working_tree=True,
    )


def test_every_recorded_case_is_run() -> None:
    assert set(CASES) >= {
        "github-push",
        "github-pull-request",
        "gitlab-branch-pipeline",
        "gitlab-merge-request-pipeline",
        "gitlab-merged-results-pipeline",
    }


@pytest.mark.parametrize("case", CASES)
def test_recorded_ci_environments_give_the_expected_git_model_version(
    case: str, tmp_path: Path
) -> None:
    env = _load(case, "env.json")
    if (DATA / case / "event.json").exists():
        env["GITHUB_EVENT_PATH"] = str(DATA / case / "event.json")
    event = load_github_event(env)
    facts = read_ci(env, event)
    assert facts is not None
    stamp = git_model_version(checkout_from(_load(case, "checkout.json"), tmp_path), facts)
    assert stamp.to_api() == _load(case, "expected.json")["gitModelVersion"]
