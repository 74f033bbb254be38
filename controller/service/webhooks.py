"""Deciding what a webhook delivery means: authentic or not, and whether it asks for a run.

Pure functions of (headers, body, secret, tracked ref); the HTTP layer reads the request
(bounded) and answers with the verdict. Authentication always comes first, before the body
is parsed, and compares in constant time.

- GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the
  secret>``; ``X-GitHub-Event`` ``ping`` answers 200, ``push`` to the tracked ref triggers.
  JSON and form-encoded (``payload=``) deliveries are both accepted.
- GitLab: ``X-Gitlab-Token: <the secret>``; ``X-Gitlab-Event`` ``Push Hook`` (or ``Tag
  Push Hook``) to the tracked ref triggers.

Headers are passed with lower-case names.

A signed delivery can be captured and sent again: :class:`DeliveryLog` remembers recent
authentic deliveries so that a replay is answered without a run. Each is remembered by the
SHA-256 of its body and by its ID (``X-GitHub-Delivery``, ``X-Gitlab-Event-UUID``) when it
has one; either seen before makes it a replay. The ID alone is not enough: GitHub's
signature covers the body, not that header, so a captured delivery sent again with a new
ID, or none, is still the same signed body (:func:`replay_keys`). GitLab's token is not a
signature at all: whoever captured a delivery holds the token and can send a body of their
own, so for GitLab only a delivery sent again verbatim (same body, or same UUID) is caught.
The log lives in memory (a restart forgets it; runs are idempotent, so a replay after a
restart costs one run, and runs are spaced anyway).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

_DELETED = "0" * 40


@dataclass(frozen=True)
class WebhookVerdict:
    """How to answer a delivery. ``outcome`` is the metrics label."""

    status: int
    outcome: str  # triggered | ignored | ping | replayed | unauthorized | malformed
    reason: str
    trigger: bool = False
    revision: str | None = None

    def to_json(self) -> dict[str, object]:
        body: dict[str, object] = {"outcome": self.outcome, "reason": self.reason}
        if self.revision:
            body["revision"] = self.revision
        return body


class DeliveryLog:
    """The keys (:func:`replay_keys`) of the last ``capacity`` authentic deliveries per
    source (thread-safe)."""

    def __init__(self, capacity: int = 10_000) -> None:
        # A delivery has at most two keys (body digest and ID).
        self._capacity = 2 * capacity
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._mutex = threading.Lock()

    def replayed(self, source: str, *keys: str) -> bool:
        """Record the delivery known by ``keys``; True when any of them had been recorded
        before."""
        with self._mutex:
            seen = False
            for key in ((source, k) for k in keys):
                seen = seen or key in self._seen
                self._seen[key] = None
                self._seen.move_to_end(key)
            while len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
            return seen


def replay_keys(headers: Mapping[str, str], body: bytes) -> tuple[str, ...]:
    """What identifies a delivery for replay protection: the digest of its body (what the
    signature covers), and its ID when the sender gave one."""
    keys = ["body:" + hashlib.sha256(body).hexdigest()]
    delivery = delivery_id(headers)
    if delivery is not None:
        keys.append("id:" + delivery)
    return tuple(keys)


def delivery_id(headers: Mapping[str, str]) -> str | None:
    """The delivery's ID, if the sender gave one (GitHub always does; GitLab 15.x+)."""
    value = headers.get("x-github-delivery") or headers.get("x-gitlab-event-uuid")
    return value.strip()[:200] if value and value.strip() else None


def replay_verdict(delivery: str | None) -> WebhookVerdict:
    shown = f"delivery {delivery!r}" if delivery else "this delivery"
    return WebhookVerdict(
        200,
        "replayed",
        f"{shown} (its ID or the same body) was already received; a replayed delivery does "
        "not trigger a run",
    )


def _unauthorized(reason: str) -> WebhookVerdict:
    return WebhookVerdict(401, "unauthorized", reason)


def _ignored(reason: str) -> WebhookVerdict:
    return WebhookVerdict(202, "ignored", reason)


def _malformed(reason: str) -> WebhookVerdict:
    return WebhookVerdict(400, "malformed", reason)


def github_verdict(
    headers: Mapping[str, str], body: bytes, *, secret: str, tracked_ref: str
) -> WebhookVerdict:
    """Judge a GitHub delivery; see the module docstring."""
    signature = headers.get("x-hub-signature-256", "")
    if not signature:
        return _unauthorized("missing X-Hub-Signature-256 header")
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(signature.strip().encode(), expected.encode()):
        return _unauthorized("the X-Hub-Signature-256 signature does not match")
    event = headers.get("x-github-event", "")
    if event == "ping":
        return WebhookVerdict(200, "ping", "pong")
    if event != "push":
        return _ignored(f"event {event!r} does not trigger a run (only push does)")
    payload = _github_payload(headers.get("content-type", ""), body)
    if payload is None:
        return _malformed("the push payload is not a JSON object")
    return _push_verdict(payload, tracked_ref)


def gitlab_verdict(
    headers: Mapping[str, str], body: bytes, *, secret: str, tracked_ref: str
) -> WebhookVerdict:
    """Judge a GitLab delivery; see the module docstring."""
    token = headers.get("x-gitlab-token", "")
    if not token:
        return _unauthorized("missing X-Gitlab-Token header")
    if not hmac.compare_digest(token.encode(), secret.encode()):
        return _unauthorized("the X-Gitlab-Token does not match")
    event = headers.get("x-gitlab-event", "")
    if event not in ("Push Hook", "Tag Push Hook"):
        return _ignored(f"event {event!r} does not trigger a run (only Push Hook does)")
    payload = _json_object(body)
    if payload is None:
        return _malformed("the push payload is not a JSON object")
    return _push_verdict(payload, tracked_ref)


def _push_verdict(payload: Mapping[str, Any], tracked_ref: str) -> WebhookVerdict:
    ref = payload.get("ref")
    if not isinstance(ref, str):
        return _malformed("the push payload has no 'ref'")
    if ref != tracked_ref:
        return _ignored(f"push to {ref!r}; this controller tracks {tracked_ref!r}")
    after = payload.get("after")
    if after == _DELETED or payload.get("deleted") is True:
        return _ignored(f"{ref!r} was deleted")
    revision = after if isinstance(after, str) else None
    return WebhookVerdict(200, "triggered", f"push to {ref!r}", trigger=True, revision=revision)


def _github_payload(content_type: str, body: bytes) -> Mapping[str, Any] | None:
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return None
        values = form.get("payload")
        return _json_object(values[0].encode()) if values else None
    return _json_object(body)


def _json_object(body: bytes) -> Mapping[str, Any] | None:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
