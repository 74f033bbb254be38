"""gitModelVersion rules: plain git, commit URL templates, and CI edge cases."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from controller.errors import ConfigError
from controller.settings import GitSettings
from controller.sources import (
    Checkout,
    CiFacts,
    git_model_version,
    load_github_event,
    open_source,
    read_ci,
)
from tests.fixtures.gitrepos import GitRepo, RemoteRepo
from tests.sources.conftest import MakeSettings
from tests.sources.test_ci_cases import checkout_from

HEAD = "1111111111111111111111111111111111111111"
BASE = "2222222222222222222222222222222222222222"
PR_HEAD = "3333333333333333333333333333333333333333"
OTHER = "4444444444444444444444444444444444444444"


def _checkout(
    tmp_path: Path, *, sha: str = HEAD, parents: tuple[str, ...] = (BASE,), **raw: object
) -> Checkout:
    values: dict[str, object] = {
        "sha": sha,
        "parents": list(parents),
        "refName": "main",
        "remoteUrl": None,
    }
    values.update(raw)
    return checkout_from(values, tmp_path)


def _github(event_name: str, sha: str, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_SHA": sha,
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REF_NAME": "17/merge" if event_name.startswith("pull") else "main",
        **extra,
    }


def _pull_request(head: str = PR_HEAD, base: str = BASE) -> dict[str, object]:
    return {"pull_request": {"head": {"sha": head}, "base": {"sha": base}}}


def test_plain_git_stamps_the_checked_out_commit_and_branch(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path, remoteUrl="git@github.com:acme/models.git")
    stamp = git_model_version(checkout, None)
    assert stamp.to_api() == {
        "commitUrl": f"https://github.com/acme/models/commit/{HEAD}",
        "mainBranchCommitSha": HEAD,
        "pullRequestCommitSha": None,
        "refName": "main",
    }


def test_a_detached_checkout_is_stamped_head(tmp_path: Path) -> None:
    stamp = git_model_version(_checkout(tmp_path, refName=None), None)
    assert stamp.ref_name == "HEAD"


def test_without_a_remote_the_commit_url_is_a_file_uri(tmp_path: Path) -> None:
    stamp = git_model_version(_checkout(tmp_path), None)
    assert stamp.commit_url == f"file://localhost{tmp_path.resolve()}#{HEAD}"
    file_remote = _checkout(tmp_path, remoteUrl="file:///srv/git/models.git")
    assert (
        git_model_version(file_remote, None).commit_url
        == f"file://localhost/srv/git/models.git#{HEAD}"
    )


def test_a_commit_url_template_wins_and_fills_every_placeholder(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path, remoteUrl="ssh://git@git.acme.corp:2222/ml/models.git")
    template = "{web_url}/commits/{sha}?short={short_sha}&ref={ref}&host={host}&path={path}"
    stamp = git_model_version(checkout, None, commit_url_template=template)
    assert stamp.commit_url == (
        f"https://git.acme.corp/ml/models/commits/{HEAD}?short={HEAD[:12]}"
        "&ref=main&host=git.acme.corp&path=ml/models"
    )
    ci = read_ci(_github("push", HEAD))
    with_ci = git_model_version(checkout, ci, commit_url_template="https://x.example/{sha}")
    assert with_ci.commit_url == f"https://x.example/{HEAD}"


@pytest.mark.parametrize(
    "template", ["https://x/{commit}", "https://x/{ref}", "/relative/{sha}", "https://x/{sha"]
)
def test_bad_commit_url_templates_are_refused_when_settings_are_made(template: str) -> None:
    with pytest.raises(ConfigError, match="commit URL template"):
        GitSettings(commit_url_template=template)


def test_a_template_needing_a_web_url_without_a_remote_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no remote"):
        git_model_version(_checkout(tmp_path), None, commit_url_template="{web_url}/c/{sha}")


def test_ci_facts_about_another_commit_are_not_used(tmp_path: Path) -> None:
    # e.g. `--ref v1.0` in a push pipeline: the stamp must name what was uploaded.
    checkout = _checkout(tmp_path, refName="v1.0")
    stamp = git_model_version(checkout, read_ci(_github("push", OTHER)))
    assert stamp.main_branch_commit_sha == HEAD
    assert stamp.ref_name == "v1.0"
    assert stamp.commit_url == f"https://github.com/acme/models/commit/{HEAD}"


def test_a_pull_request_merge_commit_s_first_parent_beats_a_stale_payload(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path, parents=(BASE, PR_HEAD))
    facts = read_ci(_github("pull_request", HEAD), _pull_request(base=OTHER))
    stamp = git_model_version(checkout, facts)
    assert (stamp.main_branch_commit_sha, stamp.pull_request_commit_sha) == (BASE, PR_HEAD)
    assert stamp.ref_name == "17/merge"
    assert stamp.commit_url == f"https://github.com/acme/models/commit/{PR_HEAD}"


def test_a_pull_request_without_its_payload_uses_the_merge_parents(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path, parents=(BASE, PR_HEAD))
    stamp = git_model_version(checkout, read_ci(_github("pull_request", HEAD)))
    assert (stamp.main_branch_commit_sha, stamp.pull_request_commit_sha) == (BASE, PR_HEAD)


def test_a_job_that_checked_out_the_pull_request_head_uses_the_payload_base(
    tmp_path: Path,
) -> None:
    checkout = _checkout(tmp_path, sha=PR_HEAD, parents=(OTHER,))
    facts = read_ci(_github("pull_request", HEAD), _pull_request())
    stamp = git_model_version(checkout, facts)
    assert (stamp.main_branch_commit_sha, stamp.pull_request_commit_sha) == (BASE, PR_HEAD)


def test_pull_request_target_runs_on_the_base_branch(tmp_path: Path) -> None:
    checkout = _checkout(tmp_path, sha=BASE, parents=(OTHER,))
    env = _github("pull_request_target", BASE, GITHUB_REF_NAME="main")
    stamp = git_model_version(checkout, read_ci(env, _pull_request()))
    assert (stamp.main_branch_commit_sha, stamp.pull_request_commit_sha) == (BASE, PR_HEAD)
    assert stamp.ref_name == "main"


def test_github_enterprise_links_use_the_server_url(tmp_path: Path) -> None:
    env = _github("push", HEAD, GITHUB_SERVER_URL="https://github.acme.corp/")
    stamp = git_model_version(_checkout(tmp_path), read_ci(env))
    assert stamp.commit_url == f"https://github.acme.corp/acme/models/commit/{HEAD}"


def test_gitlab_external_pull_requests_use_the_external_shas(tmp_path: Path) -> None:
    env = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": PR_HEAD,
        "CI_COMMIT_REF_NAME": "feature",
        "CI_PROJECT_URL": "https://gitlab.com/acme/models",
        "CI_PIPELINE_SOURCE": "external_pull_request_event",
        "CI_EXTERNAL_PULL_REQUEST_IID": "5",
        "CI_EXTERNAL_PULL_REQUEST_SOURCE_BRANCH_SHA": PR_HEAD,
        "CI_EXTERNAL_PULL_REQUEST_TARGET_BRANCH_SHA": BASE,
    }
    stamp = git_model_version(_checkout(tmp_path, sha=PR_HEAD), read_ci(env))
    assert (stamp.main_branch_commit_sha, stamp.pull_request_commit_sha) == (BASE, PR_HEAD)
    assert stamp.commit_url == f"https://gitlab.com/acme/models/-/commit/{PR_HEAD}"


def test_outside_ci_there_are_no_ci_facts(tmp_path: Path) -> None:
    assert read_ci({}) is None
    assert read_ci({"GITHUB_ACTIONS": "true"}) is None
    assert read_ci({"GITLAB_CI": "false", "CI_COMMIT_SHA": HEAD}) is None
    assert load_github_event({"GITHUB_ACTIONS": "true"}) is None
    broken = tmp_path / "event.json"
    broken.write_text("{not json")
    assert load_github_event({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(broken)}) is None


def test_ci_facts_are_plain_values() -> None:
    facts = read_ci(_github("push", HEAD))
    assert isinstance(facts, CiFacts)
    assert facts == replace(facts)
    assert facts.web_url == "https://github.com/acme/models"


def test_a_pull_request_checkout_like_actions_checkout_is_stamped_from_a_shallow_clone(
    remote_repo: RemoteRepo, git_settings: MakeSettings, tmp_path: Path
) -> None:
    work = remote_repo.work
    work.commit("base", {"m/a.py": "1"})
    work.git("checkout", "-q", "-b", "feature/tune")
    head = work.commit("tune", {"m/a.py": "2"})
    work.git("checkout", "-q", "main")
    main_tip = work.commit("main moves on", {"m/b.py": "1"})
    work.git("checkout", "-q", "--detach", "main")
    work.git("merge", "-q", "--no-ff", "-m", f"Merge {head} into {main_tip}", "feature/tune")
    merge = work.head()
    remote_repo.push("main", "feature/tune", f"{merge}:refs/pull/17/merge")
    # What actions/checkout does for a pull_request event with the default fetch-depth: 1.
    ci = GitRepo(tmp_path / "runner" / "ml-models")
    ci.git("remote", "add", "origin", remote_repo.url)
    ci.git("fetch", "-q", "--depth=1", "origin", "+refs/pull/17/merge:refs/remotes/pull/17/merge")
    ci.git("checkout", "-q", "--detach", "refs/remotes/pull/17/merge")
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(_pull_request(head=head, base=main_tip)))
    env = {
        **_github("pull_request", merge),
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REF": "refs/pull/17/merge",
    }
    with open_source(git_settings(ci.path), environ=os.environ) as source:
        assert source.checkout.shallow
        stamp = source.git_model_version(read_ci(env, load_github_event(env)))
    assert stamp.to_api() == {
        "commitUrl": f"https://github.com/acme/models/commit/{head}",
        "mainBranchCommitSha": main_tip,
        "pullRequestCommitSha": head,
        "refName": "17/merge",
    }
