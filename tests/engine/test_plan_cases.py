"""The planner's data-driven cases: each file under plancases/ is one plan, inputs to output.

A case is written in the terms a user and the API use, not in the engine's Python types,
so that it survives a restructure of the engine; only :func:`plan_inputs` (the adapter
below) maps it onto today's ``make_plan``. A case file holds:

- ``description``: what the case shows, in one sentence;
- ``repo``: the repository at the checked-out commit, path → text (manifests and source
  files), loaded through the real manifest code path (``load_desired_state``);
- ``live``: DataRobot as the API returns it, decoded by ``controller.remote.decoders``:
  ``models`` (list items of ``GET customModels/``, ``latestVersion`` embedded), ``jobs``
  (``GET customJobs/`` items), ``modelSharing`` / ``jobSharing`` (model ID / job ID → the
  entries of ``accessControl/`` / ``sharedRoles/``), ``account`` (``GET account/info/``);
- ``evidence``: what is known of each managed object's files, by key
  (``CustomModel/<name>``): ``{changed: [repo paths]}`` (git: paths changed since the
  recorded commit), ``{byContent: [repo paths]}`` (contents compared: these differ), or
  ``unknown``. An object not named has ``{changed: []}``: nothing changed since its commit;
- ``options``: ``path`` (``--path``), ``prune``, ``maxDeletions``, ``allowEmpty``,
  ``refreshMetadata`` (false on a pull request), ``declaredElsewhere`` (keys), ``namespace``,
  ``revision`` (the ``gitModelVersion`` of the checkout, API form);
- ``expect``: a subset of the plan's JSON form (``schemas/plan.schema.json``): ``summary``
  (required), ``actions`` (required; every action in order, each with at least ``kind``,
  ``key`` and ``reason``; the keys given are compared, lists element by element),
  ``warnings`` (each a substring of the warning at its place; none when left out),
  ``unchanged``; or ``error``: a text the refusal (``PlanError``) must contain;
- ``xfail``: the reason, for a case that records a known bug's current behaviour (strict:
  once the bug is fixed the case fails until its expectation and this key are updated).

Left out, the namespace is ``github.com/acme/models`` and the checkout is ``main`` at
``bbbb...`` (:data:`REVISION`). To add a case, write its inputs and the plan you expect;
a failing case lists where the plan differs and prints the plan made, in this format.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.engine.ownership import match
from controller.engine.plan import PlanInputs, make_plan
from controller.errors import PlanError
from controller.manifests import ManifestError, load_desired_state
from controller.model.desired import DesiredState, ResourceKey
from controller.model.diffs import ContentEvidence
from controller.model.live import LiveSnapshot
from controller.model.plan_json import plan_to_json
from controller.model.values import GitModelVersion
from controller.remote.decoders import (
    job_from_api,
    job_grant_from_api,
    model_from_api,
    model_grant_from_api,
)

CASES_DIR = Path(__file__).parent / "plancases"
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))
NAMESPACE = "github.com/acme/models"
REVISION = {
    "commitUrl": "https://github.com/acme/models/commit/" + "b" * 40,
    "mainBranchCommitSha": "b" * 40,
    "pullRequestCommitSha": None,
    "refName": "main",
}
CASE_KEYS = {"description", "repo", "live", "evidence", "options", "expect", "xfail"}


def _read(path: Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(case, dict), f"{path.name}: a case is a mapping"
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"{path.name}: unknown keys {sorted(unknown)}"
    return case


def _params() -> list[Any]:
    params = []
    for path in CASE_FILES:
        reason = _read(path).get("xfail")
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


# --- the adapter: case data → today's make_plan inputs ---------------------------------


def _key(text: str) -> ResourceKey:
    kind, _, name = text.partition("/")
    assert kind in ("CustomModel", "CustomJob"), f"not a key: {text!r}"
    assert name, f"not a key: {text!r}"
    return ResourceKey(kind, name)  # type: ignore[arg-type]


def _desired(repo: Mapping[str, str], root: Path, path: str) -> DesiredState:
    for rel, text in repo.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return load_desired_state(root, root / path)


def _live(live: Mapping[str, Any]) -> LiveSnapshot:
    account = live.get("account") or {}
    return LiveSnapshot(
        models=tuple(model_from_api(m) for m in live.get("models", [])),
        jobs=tuple(job_from_api(j) for j in live.get("jobs", [])),
        model_sharing={
            model_id: tuple(model_grant_from_api(e) for e in entries)
            for model_id, entries in live.get("modelSharing", {}).items()
        },
        job_sharing={
            job_id: tuple(job_grant_from_api(e) for e in entries)
            for job_id, entries in live.get("jobSharing", {}).items()
        },
        controller_user=account.get("username"),
        controller_user_id=account.get("uid") or account.get("id"),
    )


def _evidence(
    desired: DesiredState, given: Mapping[str, Any]
) -> tuple[dict[ResourceKey, ContentEvidence], dict[ResourceKey, ContentEvidence]]:
    sources = {m.key: m.version.source for m in desired.models if m.version is not None}
    sources |= {j.key: j.source for j in desired.jobs if j.source is not None}
    unknown = {_key(k) for k in given} - set(sources)
    assert not unknown, f"evidence for keys no manifest declares: {sorted(map(str, unknown))}"
    found: dict[ResourceKey, ContentEvidence] = {}
    for key, source in sources.items():
        entry = given.get(str(key), {"changed": []})
        if entry == "unknown":
            continue
        if "changed" in entry:
            found[key] = ContentEvidence(changed_repo_paths=frozenset(entry["changed"]))
        else:
            differs = set(entry["byContent"])
            by_path = {f.path: f.repo_path for f in source.files}
            found[key] = ContentEvidence(
                live_hashes={p: "live" if r in differs else "same" for p, r in by_path.items()},
                desired_hashes=dict.fromkeys(by_path, "same"),
            )
    models = {k: v for k, v in found.items() if k.kind == "CustomModel"}
    jobs = {k: v for k, v in found.items() if k.kind == "CustomJob"}
    return models, jobs


def plan_inputs(case: Mapping[str, Any], root: Path) -> PlanInputs:
    """The one place that knows how make_plan takes its inputs today."""
    options = case.get("options") or {}
    desired = _desired(case.get("repo") or {}, root, options.get("path", "."))
    models, jobs = _evidence(desired, case.get("evidence") or {})
    return PlanInputs(
        desired=desired,
        live=_live(case.get("live") or {}),
        namespace=options.get("namespace", NAMESPACE),
        revision=GitModelVersion.from_api(options.get("revision", REVISION)),
        model_evidence=models,
        job_evidence=jobs,
        refresh_metadata=options.get("refreshMetadata", True),
        prune=options.get("prune", False),
        max_deletions=options.get("maxDeletions", 5),
        allow_empty=options.get("allowEmpty", False),
        declared_elsewhere=frozenset(_key(k) for k in options.get("declaredElsewhere", [])),
    )


def planned(inputs: PlanInputs) -> dict[str, Any]:
    """The plan's JSON form, the manifests paired with live objects as the engine does."""
    return plan_to_json(make_plan(inputs, match(inputs.desired, inputs.live, inputs.namespace)))


def planned_json(case: Mapping[str, Any], root: Path) -> dict[str, Any]:
    return planned(plan_inputs(case, root))


# --- comparing -------------------------------------------------------------------------


def mismatches(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Where ``actual`` does not hold ``expected``: mapping keys given are compared, lists
    element by element (same length), anything else by equality."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where or '.'}: expected a mapping, got {actual!r}"]
        found = []
        for key, value in expected.items():
            if key not in actual:
                found.append(f"{where}.{key}: missing (expected {value!r})")
            else:
                found += mismatches(value, actual[key], f"{where}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list, got {actual!r}"]
        if len(expected) != len(actual):
            return [f"{where}: expected {len(expected)} entries, got {len(actual)}"]
        found = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found += mismatches(want, got, f"{where}[{index}]")
        return found
    if expected != actual:
        return [f"{where}: expected {expected!r}, got {actual!r}"]
    return []


def check(expect: Mapping[str, Any], plan: Mapping[str, Any]) -> list[str]:
    """Every way ``plan`` (the JSON form) misses ``expect``."""
    problems = mismatches(
        {k: v for k, v in expect.items() if k in ("summary", "actions", "unchanged")}, plan
    )
    warnings = list(expect.get("warnings", []))
    if len(warnings) != len(plan["warnings"]):
        problems.append(f".warnings: expected {len(warnings)}, got {len(plan['warnings'])}")
    else:
        problems += [
            f".warnings[{i}]: expected it to contain {want!r}, got {got!r}"
            for i, (want, got) in enumerate(zip(warnings, plan["warnings"], strict=True))
            if want not in got
        ]
    return problems


def readable(plan: Mapping[str, Any]) -> str:
    """The plan as a case's ``expect`` would write it (the basis left out)."""
    shown = {
        "summary": plan["summary"],
        "warnings": plan["warnings"],
        "actions": [
            {k: v for k, v in a.items() if v not in ([], None, {})} for a in plan["actions"]
        ],
    }
    return yaml.safe_dump(
        shown, sort_keys=False, width=100, default_flow_style=None, allow_unicode=True
    )


# --- the tests -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What planning a case gave: a plan (JSON form), or a refusal's message."""

    plan: dict[str, Any] | None
    error: str | None


def _run(case: Mapping[str, Any], root: Path) -> Outcome:
    try:
        inputs = plan_inputs(case, root)
    except ManifestError as exc:  # the case itself is wrong, not the planner
        pytest.fail(f"the case's manifests are invalid:\n{exc}", pytrace=False)
    try:
        return Outcome(planned(inputs), None)
    except PlanError as exc:
        return Outcome(None, str(exc))


def _problems(expect: Mapping[str, Any], outcome: Outcome) -> list[str]:
    if "error" in expect:
        if outcome.error is None:
            return [f"expected a refusal containing {expect['error']!r}, got a plan"]
        return [] if expect["error"] in outcome.error else [f"refusal: {outcome.error}"]
    if outcome.plan is None:
        return [f"expected a plan, got a refusal: {outcome.error}"]
    return check(expect, outcome.plan)


@pytest.mark.parametrize("path", _params())
def test_plan_case(path: Path, tmp_path: Path) -> None:
    case = _read(path)
    outcome = _run(case, tmp_path)
    problems = _problems(case["expect"], outcome)
    if problems:
        got = readable(outcome.plan) if outcome.plan else f"error: {outcome.error}"
        pytest.fail(
            f"{path.name}: {case['description']}\n\n"
            + "\n".join(f"  {p}" for p in problems)
            + f"\n\nthe plan made:\n{got}",
            pytrace=False,
        )


def _mutations(expect: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Small wrong versions of an expectation, each of which the check must catch."""
    if "error" in expect:
        return [("error", {**expect, "error": expect["error"] + " (not said)"})]
    found = [("summary", {**expect, "summary": expect["summary"] + "!"})]
    found.append(("one action more", {**expect, "actions": [*expect["actions"], {"kind": "x"}]}))
    if expect["actions"]:
        wrong = copy.deepcopy(expect)
        wrong["actions"][0]["reason"] += " (not said)"
        found.append(("first reason", wrong))
        found.append(("one action less", {**expect, "actions": expect["actions"][1:]}))
    return found


@pytest.mark.parametrize(
    "path", [p for p in CASE_FILES if not _read(p).get("xfail")], ids=lambda p: p.stem
)
def test_a_wrong_expectation_fails_the_case(path: Path, tmp_path: Path) -> None:
    case = _read(path)
    outcome = _run(case, tmp_path)
    for what, wrong in _mutations(case["expect"]):
        assert _problems(wrong, outcome), f"{path.name}: a wrong {what} went unnoticed"


def test_the_cases_are_many_and_complete() -> None:
    assert len(CASE_FILES) >= 40
    for path in CASE_FILES:
        case = _read(path)
        assert case.get("description"), path.name
        expect = case["expect"]
        if "error" in expect:
            continue
        assert "summary" in expect, path.name
        assert "actions" in expect, path.name
        for action in expect["actions"]:
            assert {"kind", "key", "reason"} <= set(action), f"{path.name}: {action}"


def test_a_failing_case_says_where_and_shows_the_plan(tmp_path: Path) -> None:
    case = _read(CASES_DIR / "model-created-with-first-version.yaml")
    plan = planned_json(case, tmp_path)
    wrong = copy.deepcopy(case["expect"])
    wrong["actions"][1]["files"][0]["path"] = "other.py"
    assert check(wrong, plan) == [".actions[1].files[0].path: expected 'other.py', got 'custom.py'"]
    assert "kind: create-version" in readable(plan)
    assert json.dumps(plan)  # the JSON form, as `plan --output json` writes it
