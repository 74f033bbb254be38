"""The plan basis is digested from canonical JSON written by hand for speed: its bytes must
be those ``json.dumps(value, sort_keys=True, default=shallow)`` writes, or every saved
plan would look stale after an upgrade."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from enum import IntEnum, StrEnum
from types import MappingProxyType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from controller.engine.ownership import match
from controller.engine.plan import plan_basis
from controller.engine.plan.canonical import canonical_json, shallow
from controller.model.live import (
    LiveGrant,
    LiveItem,
    LiveJob,
    LiveModel,
    LiveRuntimeParameter,
    LiveSnapshot,
)
from controller.model.values import Fields, GitModelVersion
from tests.engine import builders as b


def reference(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=shallow)


class Colour(StrEnum):
    RED = "red"


class Size(IntEnum):
    BIG = 7


@dataclasses.dataclass(frozen=True)
class Odd:
    zeta: object
    alpha: object = None


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # non-ASCII, surrogates, control characters
    st.sampled_from([Colour.RED, Size.BIG, -0.0, 1e-7, 1e22, 2**70, "\u2028", "é😀\x00"]),
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=5), children, max_size=4),
        st.dictionaries(st.text(max_size=5), children, max_size=4).map(Fields),
        st.dictionaries(st.integers(), children, max_size=3),  # keys that are not strings
        st.builds(Odd, children, children),
        st.builds(LiveItem, st.text(max_size=8), st.text(max_size=8), st.text(max_size=8)),
        st.builds(
            LiveRuntimeParameter, st.text(max_size=5), st.text(max_size=5), children, children
        ),
        st.dictionaries(st.text(max_size=3), children, max_size=2).map(MappingProxyType),
    )


values = st.recursive(scalars, _containers, max_leaves=20)


@settings(max_examples=400)
@given(values)
def test_canonical_json_writes_the_bytes_json_dumps_writes(value: object) -> None:
    assert canonical_json(value) == reference(value)


def test_canonical_json_of_our_live_objects() -> None:
    git = GitModelVersion("https://git.example/c/1", "a" * 40, None, "main")
    desired = b.desired_model("naïve", runtime={"THRESHOLD": 0.7, "NAME": "ünïcode"})
    model = b.live_model(desired, runtime={"THRESHOLD": 0.7, "NAME": "ünïcode"})
    model = dataclasses.replace(model, git=git, created="2026-12-07T10:00:00Z")
    for value in (model, model.latest_version, git, model.fields, (model, None)):
        assert canonical_json(value) == reference(value)


def test_copies_of_field_maps_stay_in_name_order() -> None:
    # Fields.replace and .without copy without sorting when they can: the canonical text
    # writes a Fields in its own order.
    fields = Fields(b=1, a=2, c=3)
    for copy, names in (
        (fields.replace(b=5), ["a", "b", "c"]),
        (fields.replace(aa=0, b=None), ["a", "aa", "b", "c"]),
        (fields.without("b"), ["a", "c"]),
    ):
        assert list(copy) == names
        assert canonical_json(copy) == reference(copy)
    assert fields.replace(b=5)["b"] == 5
    assert fields["b"] == 1
    assert fields.get("zz") is None
    assert fields.get("zz", 7) == 7
    assert fields.get("a") == 2


def test_canonical_json_of_fields_annotated_str_holding_other_values() -> None:
    # LiveItem's fields are all annotated str: they are tried as strings first.
    for item in (
        LiveItem("i", "a/b.py", "b.py"),
        LiveItem(Colour.RED, "é😀\x00", "\u2028"),
        LiveItem(7, None, "x"),  # type: ignore[arg-type]
        LiveItem(Size.BIG, 1.5, True),  # type: ignore[arg-type]
    ):
        assert canonical_json(item) == reference(item)
        assert canonical_json((item, item)) == reference((item, item))


# The basis as it was written before the canonical encoder: digests of json.dumps.
def _digest(value: object, size: int) -> str:
    return hashlib.sha256(reference(value).encode()).hexdigest()[:size]


def _old_model_entry(model: LiveModel, live: LiveSnapshot) -> tuple[str, tuple[Any, ...]]:
    parts: dict[str, object] = dict(model.fields.items())
    version = model.latest_version
    if version is not None:
        parts["files"] = version.items
        parts["runtimeParameters"] = version.runtime_parameters
        parts["version"] = dataclasses.replace(version, items=(), runtime_parameters=())
    parts["sharing"] = live.model_sharing.get(model.id, ())
    parts["other"] = dataclasses.replace(model, fields=Fields(), latest_version=None)
    facts = {"model": model, "sharing": live.model_sharing.get(model.id, ())}
    return _digest(facts, 16), tuple(sorted((k, _digest(v, 8)) for k, v in parts.items()))


def _old_job_entry(job: LiveJob, live: LiveSnapshot) -> tuple[str, tuple[Any, ...]]:
    parts: dict[str, object] = dict(job.fields.items())
    parts["files"] = job.items
    parts["entryPoint"] = job.entry_point
    parts["runtimeParameters"] = job.runtime_parameters
    parts["sharing"] = live.job_sharing.get(job.id, ())
    parts["other"] = job.created
    facts = {"job": job, "sharing": live.job_sharing.get(job.id, ())}
    return _digest(facts, 16), tuple(sorted((k, _digest(v, 8)) for k, v in parts.items()))


def test_the_basis_digests_are_those_of_json_dumps() -> None:
    models = [b.desired_model(f"model-{n}", runtime={"T": n / 3}) for n in range(4)]
    job = b.desired_job("retrain", runtime={"NAME": "é"})
    live_models = [
        b.live_model(m, model_id=f"m{n}", runtime={"T": n / 3}) for n, m in enumerate(models)
    ]
    live_models[1] = dataclasses.replace(live_models[1], latest_version=None)
    live_job = dataclasses.replace(b.live_job(job), created="2026-01-01", updated="x")
    grants = (LiveGrant("user", "bob@example.com", "USER", id="u1", can_share=True),)
    snapshot = LiveSnapshot(
        models=tuple(live_models),
        jobs=(live_job,),
        model_sharing={"m0": grants},
        job_sharing={"j1": grants},
    )
    state = b.state(*models, job)
    entries = plan_basis(snapshot, match(state, snapshot, b.NS), include_orphans=True)
    by_id: dict[str, Any] = {m.id: _old_model_entry(m, snapshot) for m in live_models}
    by_id[live_job.id] = _old_job_entry(live_job, snapshot)
    assert len(entries) == 5
    for entry in entries:
        assert (entry.digest, entry.parts) == by_id[entry.object_id], entry.key
