"""Webhook verdicts: authentication first, then the event, then the ref."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from controller.service.webhooks import github_verdict, gitlab_verdict
from tests.fixtures.service import REVISION, WEBHOOK_SECRET, github_signature, push_payload

MAIN = "refs/heads/main"


def github(body: bytes, event: str = "push", **extra: str) -> dict[str, str]:
    headers = {"x-github-event": event, "x-hub-signature-256": github_signature(body)}
    headers.update(extra)
    return headers


def judge_github(body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return github_verdict(headers, body, secret=WEBHOOK_SECRET, tracked_ref=MAIN)


def test_a_signed_push_to_the_tracked_ref_triggers_a_run() -> None:
    body = push_payload()
    verdict = judge_github(body, github(body))
    assert (verdict.status, verdict.outcome, verdict.trigger) == (200, "triggered", True)
    assert verdict.revision == REVISION


def test_a_signature_made_with_another_secret_is_unauthorized() -> None:
    body = push_payload()
    headers = github(body, **{"x-hub-signature-256": github_signature(body, "other-secret")})
    verdict = judge_github(body, headers)
    assert (verdict.status, verdict.trigger) == (401, False)


def test_a_body_changed_after_signing_is_unauthorized() -> None:
    body = push_payload()
    verdict = judge_github(body + b" ", github(body))
    assert verdict.status == 401


@pytest.mark.parametrize("signature", ["", "sha1=abc", "sha256=", "sha256=zz"])
def test_missing_or_malformed_signatures_are_unauthorized(signature: str) -> None:
    body = push_payload()
    verdict = judge_github(body, github(body, **{"x-hub-signature-256": signature}))
    assert verdict.status == 401


def test_authentication_comes_before_parsing() -> None:
    verdict = judge_github(b"{not json", {"x-github-event": "push"})
    assert verdict.status == 401


def test_ping_answers_pong() -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    verdict = judge_github(body, github(body, event="ping"))
    assert (verdict.status, verdict.outcome, verdict.trigger) == (200, "ping", False)


def test_other_events_are_ignored_with_a_reason() -> None:
    body = b"{}"
    verdict = judge_github(body, github(body, event="pull_request"))
    assert (verdict.status, verdict.trigger) == (202, False)
    assert "pull_request" in verdict.reason


def test_a_push_to_another_branch_is_ignored() -> None:
    body = push_payload(ref="refs/heads/feature")
    verdict = judge_github(body, github(body))
    assert (verdict.status, verdict.trigger) == (202, False)
    assert "refs/heads/feature" in verdict.reason


def test_deleting_the_tracked_branch_is_ignored() -> None:
    body = push_payload(after="0" * 40)
    verdict = judge_github(body, github(body))
    assert (verdict.status, verdict.trigger) == (202, False)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"push"', b"\xff\xfe", b'{"after": 1}'])
def test_a_signed_but_malformed_push_is_a_bad_request(body: bytes) -> None:
    verdict = judge_github(body, github(body))
    assert (verdict.status, verdict.trigger) == (400, False)


def test_form_encoded_github_deliveries_are_understood() -> None:
    body = urlencode({"payload": push_payload().decode()}).encode()
    headers = github(body, **{"content-type": "application/x-www-form-urlencoded"})
    assert judge_github(body, headers).trigger


def gitlab(body: bytes, token: str = WEBHOOK_SECRET, event: str = "Push Hook"):  # type: ignore[no-untyped-def]
    headers = {"x-gitlab-token": token, "x-gitlab-event": event}
    return gitlab_verdict(headers, body, secret=WEBHOOK_SECRET, tracked_ref=MAIN)


def test_a_gitlab_push_with_the_right_token_triggers_a_run() -> None:
    verdict = gitlab(push_payload())
    assert (verdict.status, verdict.trigger, verdict.revision) == (200, True, REVISION)


@pytest.mark.parametrize("token", ["", "wrong", WEBHOOK_SECRET[:-1], WEBHOOK_SECRET + "x"])
def test_a_gitlab_delivery_with_a_wrong_token_is_unauthorized(token: str) -> None:
    assert gitlab(push_payload(), token=token).status == 401


def test_gitlab_events_other_than_push_are_ignored() -> None:
    verdict = gitlab(
        json.dumps({"object_kind": "merge_request"}).encode(), event="Merge Request Hook"
    )
    assert (verdict.status, verdict.trigger) == (202, False)


def test_a_gitlab_tag_push_triggers_only_when_the_tag_is_tracked() -> None:
    body = push_payload(ref="refs/tags/v1")
    assert not gitlab(body, event="Tag Push Hook").trigger
    headers = {"x-gitlab-token": WEBHOOK_SECRET, "x-gitlab-event": "Tag Push Hook"}
    verdict = gitlab_verdict(headers, body, secret=WEBHOOK_SECRET, tracked_ref="refs/tags/v1")
    assert verdict.trigger
