"""The lock object's display name has one rule (controller.model.identity): the lease store
writes it, and matching reads a shortened namespace back from it."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from controller.engine.ownership import held_elsewhere, match_jobs, match_models
from controller.model.identity import (
    LOCK_NAME_PREFIX,
    lock_model_name,
    lock_upid,
    model_upid,
    upid_prefix,
)
from controller.model.live import LiveSnapshot
from controller.service.datarobot_leases import DataRobotLeaseStore
from tests.engine import builders as b

ROOT = Path(__file__).resolve().parents[2]
LONG = "git.example.com/" + "very-long-group/" * 5 + "models"


def _held_elsewhere(*extra: Any) -> dict[str, tuple[str, ...]]:
    theirs = replace(b.live_model(b.desired_model()), user_provided_id=model_upid(LONG, "fraud"))
    live = LiveSnapshot(models=(theirs, *extra))
    state = b.state(b.desired_model())
    models = match_models(state, live, b.NS)
    return held_elsewhere(state, live, b.NS, models, match_jobs(state, live, b.NS))


def test_a_shortened_namespace_is_named_in_full_from_the_lock_the_store_names() -> None:
    assert "~" in upid_prefix(LONG)
    store = DataRobotLeaseStore(cast(Any, None), LONG)  # the name needs no client
    assert store.name == lock_model_name(LONG) == LOCK_NAME_PREFIX + LONG
    lock = replace(
        b.live_model(b.desired_model(), model_id="m-lock"),
        user_provided_id=store.user_provided_id,
    )
    lock = replace(lock, fields=lock.fields.replace(name=store.name))
    assert store.user_provided_id == lock_upid(LONG)
    assert list(_held_elsewhere(lock)) == [LONG]
    assert list(_held_elsewhere()) == [upid_prefix(LONG).rstrip("/")]  # no lock: shortened


def test_only_model_identity_spells_the_lock_name() -> None:
    spelled = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "controller").rglob("*.py"))
        if re.search(r"""["']dr-gitops lock: ["'{]""", path.read_text(encoding="utf-8"))
    ]
    assert spelled == ["controller/model/identity.py"]
