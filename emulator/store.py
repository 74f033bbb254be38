"""The emulator's state: a small in-memory document store guarded by one lock.

Every collection holds plain JSON-like documents (like DataRobot's own database), so a
dump of the store is the state file and the ``/__emulator__/state`` answer. Keys that
start with ``_`` are internal (access lists, content hashes, ordering) and never reach an
API response. File contents live once in ``blobs`` keyed by their SHA-256.

All reads and writes happen under :attr:`Store.lock` (re-entrant); route handlers take it
for the whole request, so each request sees and leaves a consistent state.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

from emulator.seeding import Seed

STATE_FORMAT = 1
_COLLECTIONS = (
    "registeredModels",
    "packages",
    "challengers",
    "models",
    "versions",
    "jobs",
    "runs",
    "tests",
    "statuses",
    "deployments",
    "images",
    "builds",
    "conversions",
    "featureImpacts",
)


def iso(timestamp: float) -> str:
    """DataRobot's timestamp form: ISO-8601 UTC with microseconds and a ``Z``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Store:
    """Collections of documents, the seed they start from, and id/clock helpers."""

    def __init__(self, seed: Seed, token: str) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.token = token
        self._random = os.urandom(5).hex()
        self._counter = itertools.count(1)
        self.changes = 0
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seed: no models, jobs or anything made through the API."""
        with self.lock:
            seed = self.seed
            self.users = {u["id"]: copy.deepcopy(u) for u in seed.users}
            self.groups = {g["id"]: copy.deepcopy(g) for g in seed.groups}
            self.organizations = {o["id"]: copy.deepcopy(o) for o in seed.organizations}
            self.environments = {e["id"]: copy.deepcopy(e) for e in seed.environments}
            self.environment_versions = {
                v["id"]: dict(v, environmentId=e["id"])
                for e in self.environments.values()
                for v in e["versions"]
            }
            self.datasets = {d["id"]: copy.deepcopy(d) for d in seed.datasets}
            self.dataset_versions = {
                v["id"]: dict(v, datasetId=d["id"])
                for d in self.datasets.values()
                for v in d["versions"]
            }
            self.prediction_environments = {
                e["id"]: copy.deepcopy(e) for e in seed.prediction_environments
            }
            self.registeredModels: dict[str, dict[str, Any]] = {}
            self.packages: dict[str, dict[str, Any]] = {}  # model packages (registered versions)
            self.challengers: dict[str, dict[str, Any]] = {}
            self.repositories = {r["id"]: copy.deepcopy(r) for r in seed.repositories}
            self.tokens = {self.token: seed.token_owner}
            for user in self.users.values():
                for token in user.get("apiTokens", []):
                    self.tokens[str(token)] = user["id"]
            self.models: dict[str, dict[str, Any]] = {}
            self.versions: dict[str, dict[str, Any]] = {}
            self.jobs: dict[str, dict[str, Any]] = {}
            self.runs: dict[str, dict[str, Any]] = {}
            self.tests: dict[str, dict[str, Any]] = {}
            self.statuses: dict[str, dict[str, Any]] = {}
            self.deployments: dict[str, dict[str, Any]] = {}
            self.images: dict[str, dict[str, Any]] = {}
            self.builds: dict[str, dict[str, Any]] = {}  # keyed by custom model version id
            self.conversions: dict[str, dict[str, Any]] = {}
            self.featureImpacts: dict[str, dict[str, Any]] = {}  # keyed by version id
            self.blobs: dict[str, bytes] = {}
            self.user_provided_ids: dict[str, str] = {}
            self.cache: dict[str, Any] = {}
            self.list_cache: dict[tuple[Any, ...], tuple[int, list[dict[str, Any]]]] = {}
            self._seq = 0
            self.changed()

    def changed(self, *ids: str) -> None:
        """Record a write: drop cached renderings of ``ids`` and bump the change counter."""
        for object_id in ids:
            self.cache.pop(object_id, None)
        self.changes += 1

    def cached_list(self, key: tuple[Any, ...]) -> list[dict[str, Any]] | None:
        """A filtered, sorted list computed since the last write (``None``: compute it)."""
        hit = self.list_cache.get(key)
        return hit[1] if hit is not None and hit[0] == self.changes else None

    def cache_list(self, key: tuple[Any, ...], items: list[dict[str, Any]]) -> None:
        if len(self.list_cache) > 64:
            self.list_cache.clear()
        self.list_cache[key] = (self.changes, items)

    # -- ids, clock, blobs --------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh 24-hex id shaped like DataRobot's (timestamp, random, counter)."""
        return (
            f"{int(time.time()) & 0xFFFFFFFF:08x}{self._random}{next(self._counter) & 0xFFFFFF:06x}"
        )

    def stamp(self) -> tuple[str, int]:
        """The current time as a DataRobot timestamp, and a strictly increasing sequence."""
        self._seq += 1
        return iso(time.time()), self._seq

    def put_blob(self, content: bytes) -> str:
        """Store file content once; return its SHA-256."""
        digest = hashlib.sha256(content).hexdigest()
        self.blobs.setdefault(digest, content)
        return digest

    # -- identities ---------------------------------------------------------------------

    def user_for_token(self, token: str) -> dict[str, Any] | None:
        user_id = self.tokens.get(token)
        return self.users.get(user_id) if user_id else None

    def user_by_name(self, username: str) -> dict[str, Any] | None:
        return next((u for u in self.users.values() if u["username"] == username), None)

    def user_groups(self, user_id: str) -> set[str]:
        return {g["id"] for g in self.groups.values() if user_id in g["members"]}

    # -- persistence --------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """The whole state as JSON-ready data (the state file and ``/__emulator__/state``)."""
        with self.lock:
            state: dict[str, Any] = {"format": STATE_FORMAT, "seq": self._seq}
            for name in _COLLECTIONS:
                state[name] = list(getattr(self, name).values())
            state["blobs"] = {k: base64.b64encode(v).decode("ascii") for k, v in self.blobs.items()}
            state["seed"] = {
                "source": self.seed.source,
                "users": list(self.users.values()),
                "groups": list(self.groups.values()),
                "organizations": list(self.organizations.values()),
                "executionEnvironments": list(self.environments.values()),
                "datasets": list(self.datasets.values()),
                "remoteRepositories": list(self.repositories.values()),
                "predictionEnvironments": list(self.prediction_environments.values()),
            }
            return copy.deepcopy(state)

    def load(self, state: dict[str, Any]) -> None:
        """Replace the made-through-the-API collections with a dump's (the seed stays)."""
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"unsupported state format {state.get('format')!r}")
        with self.lock:
            self.reset()
            for name in _COLLECTIONS:
                setattr(self, name, {doc["id"]: doc for doc in copy.deepcopy(state.get(name, []))})
            self.blobs = {k: base64.b64decode(v) for k, v in state.get("blobs", {}).items()}
            self._seq = int(state.get("seq", 0))
            self.user_provided_ids = {
                m["userProvidedId"]: m["id"]
                for m in self.models.values()
                if m.get("userProvidedId")
            }
            self.changed()
