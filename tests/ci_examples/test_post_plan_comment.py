"""The plan comment poster (controller.post_plan_comment) keeps exactly one set of plan
comments on a pull/merge request.

Every test runs the script as CI would (a subprocess with the CI's environment) against a
fake GitHub or GitLab API on 127.0.0.1 that pages its lists two comments at a time.
"""

from __future__ import annotations

import re

import pytest

from tests.ci_examples.conftest import (
    EXAMPLES,
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    MODULE,
    Posted,
    ScriptRunner,
    load_script,
    plan_markdown,
)
from tests.ci_examples.fakeapis import FakeForge, FakeGitHub, FakeGitLab

MARKER = "<!-- dr-gitops-plan -->"


@pytest.fixture(params=["github", "gitlab"])
def forge(request: pytest.FixtureRequest) -> FakeForge:
    return request.getfixturevalue(request.param)


def run(post: ScriptRunner, fake: FakeForge, markdown: str, *args: str, **env: str) -> Posted:
    if isinstance(fake, FakeGitHub):
        return post.github(fake, markdown, "--author", "github-actions[bot]", *args, **env)
    assert isinstance(fake, FakeGitLab)
    return post.gitlab(fake, markdown, *args, **env)


def ours(fake: FakeForge) -> list[str]:
    return [c.body for c in fake.comments if c.body.startswith(MARKER)]


def writes(fake: FakeForge) -> list[str]:
    return [r.method for r in fake.writes()]


def test_the_first_run_creates_one_comment_per_part_in_order(post, forge):
    post.separate = True  # as CI runs it: its own process, only the CI's environment
    done = run(post, forge, plan_markdown(3))

    assert done.code == 0, done.stderr
    assert writes(forge) == ["POST", "POST", "POST"]
    bodies = ours(forge)
    assert [b.splitlines()[1] for b in bodies] == [
        f"### dr-gitops plan (part {i}/3) for `github.com/acme/ml-models` at `r1`"
        for i in (1, 2, 3)
    ]
    assert all("dr-gitops: part break" not in b for b in bodies)
    assert "3 created, 0 updated, 0 unchanged, 0 deleted" in done.stdout


def test_a_rerun_with_a_new_plan_updates_the_comments_in_place(post, forge):
    run(post, forge, plan_markdown(2, "r1"))
    ids = [c.id for c in forge.comments]
    forge.requests.clear()

    done = run(post, forge, plan_markdown(2, "r2"))

    assert done.code == 0, done.stderr
    assert writes(forge) == ["PATCH" if isinstance(forge, FakeGitHub) else "PUT"] * 2
    assert [c.id for c in forge.comments] == ids
    assert all("at `r2`" in b for b in ours(forge))


def test_a_rerun_with_the_same_plan_writes_nothing(post, forge):
    run(post, forge, plan_markdown(2))
    forge.requests.clear()

    done = run(post, forge, plan_markdown(2))

    assert done.code == 0, done.stderr
    assert writes(forge) == []
    assert "0 created, 0 updated, 2 unchanged, 0 deleted" in done.stdout


def test_fewer_parts_delete_the_surplus_comments(post, forge):
    run(post, forge, plan_markdown(3, "r1"))
    first = forge.comments[0].id

    done = run(post, forge, plan_markdown(1, "r2"))

    assert done.code == 0, done.stderr
    assert [c.id for c in forge.comments] == [first]
    assert ours(forge)[0].splitlines()[1].startswith("### dr-gitops plan for ")
    assert writes(forge).count("DELETE") == 2


def test_more_parts_create_the_extra_comments_after_the_existing_ones(post, forge):
    run(post, forge, plan_markdown(1, "r1"))
    forge.add("LGTM once the plan is green", author="alice")
    first = forge.comments[0].id

    done = run(post, forge, plan_markdown(3, "r2"))

    assert done.code == 0, done.stderr
    assert forge.comments[0].id == first
    assert "(part 1/3)" in forge.comments[0].body
    assert [b.splitlines()[1][:30] for b in ours(forge)[1:]] == [
        "### dr-gitops plan (part 2/3) ",
        "### dr-gitops plan (part 3/3) ",
    ]


def test_comments_without_the_marker_are_never_touched(post, forge):
    humans = [
        forge.add("Please also bump the memory", author="alice"),
        forge.add(f"> {MARKER}\n> quoted the bot's plan: looks fine", author="bob"),
        forge.add(f"What does {MARKER} mean?", author="carol"),
    ]
    before = [(c.id, c.body) for c in humans]

    for parts in (3, 1, 2):
        assert run(post, forge, plan_markdown(parts, f"r{parts}")).code == 0

    assert [(c.id, c.body) for c in forge.comments[:3]] == before
    touched = {r.path.rsplit("/", 1)[-1] for r in forge.writes() if r.method != "POST"}
    assert touched.isdisjoint({str(c.id) for c in humans})


def test_a_marked_comment_by_someone_else_is_not_ours(post, forge):
    impostor = forge.add(f"{MARKER}\n### dr-gitops plan: all good, merge!", author="mallory")

    done = run(post, forge, plan_markdown(1))

    assert done.code == 0, done.stderr
    assert forge.comments[0] == impostor
    assert impostor.body.endswith("merge!")
    assert writes(forge) == ["POST"]


def test_the_comment_list_is_followed_across_pages(post, forge):
    for i in range(5):
        forge.add(f"human comment {i}", author="alice")
    run(post, forge, plan_markdown(2, "r1"))
    forge.requests.clear()

    done = run(post, forge, plan_markdown(2, "r2"))

    assert done.code == 0, done.stderr
    listed = [r for r in forge.requests if r.method == "GET" and r.path != "/api/v4/user"]
    pages = [r.query.get("page", "1") for r in listed]
    assert pages == ["1", "2", "3", "4"]
    assert len(ours(forge)) == 2
    assert "POST" not in writes(forge)


def test_an_api_error_exits_non_zero_with_a_message_that_hides_the_token(post, forge):
    post.separate = True  # as CI runs it: its own process, only the CI's environment
    token = GITHUB_TOKEN if isinstance(forge, FakeGitHub) else GITLAB_TOKEN
    forge.fail("POST", 403, f"token {token} may not comment here")

    done = run(post, forge, plan_markdown(1))

    assert done.code == 1
    assert "answered 403" in done.stderr
    assert "***" in done.stderr
    assert token not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_a_wrong_token_is_reported_as_such_and_never_shown(post, forge):
    post.separate = True  # as CI runs it: its own process, only the CI's environment
    name = "GITHUB_TOKEN" if isinstance(forge, FakeGitHub) else "GITLAB_TOKEN"
    wrong = "glpat-definitelyNotTheToken42"

    done = run(post, forge, plan_markdown(1), **{name: wrong})

    assert done.code == 1
    assert "401" in done.stderr
    assert "wrong, expired or revoked" in done.stderr
    assert wrong not in done.stderr + done.stdout
    assert forge.comments == []


def test_a_missing_token_says_what_to_do(post, forge):
    name = "GITHUB_TOKEN" if isinstance(forge, FakeGitHub) else "GITLAB_TOKEN"

    done = run(post, forge, plan_markdown(1), **{name: ""})

    assert done.code == 1
    assert f"{name} is empty" in done.stderr
    assert forge.requests == []


def test_a_failed_plan_replaces_the_plan_with_one_notice(post, forge):
    run(post, forge, plan_markdown(2))

    done = run(post, forge, "", "--plan-exit-code", "1", CI_JOB_URL="https://ci.example/jobs/9")

    assert done.code == 0, done.stderr
    [notice] = ours(forge)
    assert "dr-gitops plan failed" in notice
    assert "exit code 1" in notice
    assert "[CI job log](https://ci.example/jobs/9)" in notice


def test_a_whole_plan_with_a_blocked_action_is_posted_though_plan_exited_one(post, forge):
    blocked = plan_markdown(1).replace("0 to delete.**", "0 to delete, 1 blocked.**")

    done = run(post, forge, blocked, "--plan-exit-code", "1")

    assert done.code == 0, done.stderr
    [comment] = ours(forge)
    assert "1 blocked" in comment
    assert "plan failed" not in comment


def test_changes_exit_code_two_posts_the_plan(post, forge):
    done = run(post, forge, plan_markdown(1), "--plan-exit-code", "2")

    assert done.code == 0, done.stderr
    assert "Plan: 1 to create" in ours(forge)[0]


def test_empty_input_is_an_error_and_touches_nothing(post, forge):
    run(post, forge, plan_markdown(2))
    forge.requests.clear()

    done = run(post, forge, "\n")

    assert done.code == 1
    assert "printed nothing" in done.stderr
    assert len(ours(forge)) == 2
    assert writes(forge) == []


def test_keys_keep_separate_sets_of_comments(post, forge):
    run(post, forge, plan_markdown(2), "--key", "models")
    run(post, forge, plan_markdown(1), "--key", "jobs")
    run(post, forge, plan_markdown(1), "--key", "models")

    keys = [c.body.splitlines()[1] for c in forge.comments]
    assert keys == ["<!-- dr-gitops-plan-key: models -->", "<!-- dr-gitops-plan-key: jobs -->"]


def test_a_next_page_link_to_another_host_is_refused(post, forge):
    for i in range(3):
        forge.add(f"human comment {i}", author="alice")
    forge.link_base = forge.base_url.replace("127.0.0.1", "localhost")

    done = run(post, forge, plan_markdown(1))

    assert done.code == 1
    assert "refusing to send the token there" in done.stderr
    assert writes(forge) == []


def test_github_refuses_a_part_over_the_comment_size_limit(post, github):
    huge = plan_markdown(1) + "x" * 70_000

    done = post.github(github, huge)

    assert done.code == 1
    assert "over GitHub's limit of 65,536" in done.stderr
    assert github.requests == []


def test_github_takes_the_pull_request_number_from_the_event_or_the_flag(post, github):
    post.github(github, plan_markdown(1))
    post.github(github, plan_markdown(1), "--number", "23")

    listed = {r.path for r in github.requests if r.method == "GET" and r.path != "/user"}
    assert listed == {
        "/repos/acme/ml-models/issues/17/comments",
        "/repos/acme/ml-models/issues/23/comments",
    }


def test_github_sends_the_token_as_a_bearer_header_only(post, github):
    post.github(github, plan_markdown(1))

    for request in github.requests:
        assert request.headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
        assert GITHUB_TOKEN not in request.path + str(request.query)


def test_github_matches_by_marker_alone_when_the_author_is_unknown(post, github):
    # The Actions token cannot read /user: without --author, the marker decides.
    post.github(github, plan_markdown(2, "r1"))
    github.requests.clear()

    done = post.github(github, plan_markdown(2, "r2"))

    assert done.code == 0, done.stderr
    assert [r.method for r in github.writes()] == ["PATCH", "PATCH"]


def test_github_outside_a_pull_request_says_so(post, github, tmp_path):
    (tmp_path / "push.json").write_text('{"ref": "refs/heads/main"}')

    done = post.github(github, plan_markdown(1), GITHUB_EVENT_PATH=str(tmp_path / "push.json"))

    assert done.code == 1
    assert "no pull request in this run" in done.stderr


def test_gitlab_ignores_system_notes_and_lists_oldest_first(post, gitlab):
    gitlab.add(f"{MARKER}\nadded 1 commit", author="project_42_bot", system=True)

    done = post.gitlab(gitlab, plan_markdown(1))

    assert done.code == 0, done.stderr
    assert gitlab.comments[0].body.endswith("added 1 commit")
    listed = [r.query for r in gitlab.requests if r.method == "GET" and r.path.endswith("/notes")]
    assert all(q["sort"] == "asc" and q["order_by"] == "created_at" for q in listed)


def test_gitlab_uses_the_private_token_header_and_explains_a_403(post, gitlab):
    gitlab.fail("POST", 403, "403 Forbidden")

    done = post.gitlab(gitlab, plan_markdown(1))

    assert done.code == 1
    assert "`api` scope" in done.stderr
    assert "CI_JOB_TOKEN cannot write notes" in done.stderr
    assert all(r.headers.get("private-token") == GITLAB_TOKEN for r in gitlab.requests)


def test_gitlab_outside_a_merge_request_pipeline_says_so(post, gitlab):
    done = post.gitlab(gitlab, plan_markdown(1), CI_MERGE_REQUEST_IID="")

    assert done.code == 1
    assert "merge_request_event" in done.stderr


def test_the_readme_documents_every_flag_the_script_takes():
    readme = (EXAMPLES / "README.md").read_text()
    usage = readme.split(f"```\npython -P -m {MODULE}", 1)[1].split("```", 1)[0]
    documented = set(re.findall(r"--[a-z-]+", usage))
    flags = {
        flag
        for action in load_script().build_parser()._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    }
    assert documented == flags


def test_the_markers_match_what_dr_gitops_prints():
    from controller.model.plans import MARKDOWN_MARKER, MARKDOWN_PART_BREAK

    script = load_script()
    assert script.MARKER == MARKDOWN_MARKER
    assert script.PART_BREAK == MARKDOWN_PART_BREAK


def test_a_long_rendered_plan_splits_back_into_the_parts_dr_gitops_made():
    from controller.engine.plan import PlanInputs
    from controller.engine.render import render_markdown
    from controller.model.live import LiveSnapshot
    from controller.model.plans import MARKDOWN_PART_BREAK
    from tests.engine import builders as b

    models = [b.desired_model(f"model-{i}") for i in range(60)]
    plan = b.plan(PlanInputs(b.state(*models), LiveSnapshot(), b.NS, b.revision()))
    parts = render_markdown(plan, limit=8000)
    printed = f"\n{MARKDOWN_PART_BREAK}\n".join(parts) + "\n"

    split = load_script().split_parts(printed)

    assert len(parts) > 2
    assert split == [part.rstrip("\n") + "\n" for part in parts]


def test_a_rate_limit_is_reported_as_one_not_as_missing_permissions(post, github):
    github.fail("POST", 403, "You have exceeded a secondary rate limit")

    done = post.github(github, plan_markdown(1))

    assert done.code == 1
    assert "rate limited: re-run the job later" in done.stderr
    assert "pull-requests: write" not in done.stderr
