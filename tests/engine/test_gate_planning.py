"""Planning gates is pure: the newest version's build and tests decide (versiongates' table)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from controller.engine.plan.versiongates import gate_actions, gate_passed
from controller.model.gates import BuildMode, LiveGates, LiveTest, TestSpec, VersionGates
from controller.model.live import LiveSnapshot
from controller.model.plans import ActionKind, FileChange, FileChangeKind
from controller.model.values import Fields
from tests.engine.builders import desired_model, live_model

DATASET = "6600000000000000000000d1"
SPEC = TestSpec(dataset_id=DATASET)


def _gated(mode: BuildMode = BuildMode.AUTO, spec: TestSpec | None = SPEC, **kw: object):
    model = desired_model(**kw)  # type: ignore[arg-type]
    assert model.version is not None
    return replace(model, version=replace(model.version, gates=VersionGates(mode, spec)))


def _test(
    status: str, *, version: str = "v1", checks: dict | None = None, **kw: object
) -> LiveTest:
    default = dict.fromkeys(("errorCheck", "longRunningService"), ("succeeded", ""))
    default |= {"nullValueImputation": ("skipped", ""), "sideEffects": ("skipped", "")}
    return LiveTest(
        "t1", version, status, dataset_id=DATASET, checks={**default, **(checks or {})}, **kw
    )  # type: ignore[arg-type]


def _plan(model, build: str | None, *tests: LiveTest):
    live = live_model(model)
    snapshot = LiveSnapshot(models=(live,), model_gates={"m1": LiveGates("v1", build, tests)})
    return gate_actions(model, live, None, snapshot)


def test_a_new_version_with_requirements_is_built_then_tested() -> None:
    model = _gated()
    version_action = type(
        "A", (), {"files": (FileChange("requirements.txt", FileChangeKind.MODIFY),)}
    )
    build, test = gate_actions(model, None, version_action(), LiveSnapshot())  # type: ignore[arg-type]
    assert (build.kind, test.kind) == (ActionKind.BUILD_DEPENDENCIES, ActionKind.TEST_VERSION)
    assert build.reason == "requirements.txt changed"
    assert build.params.version_id is None  # type: ignore[attr-defined]
    assert test.params.summary == (  # type: ignore[attr-defined]
        f"dataset {DATASET}: checks errorCheck=fail, longRunningService=fail"
    )


def test_without_requirements_auto_builds_nothing_and_never_never_builds() -> None:
    without = _gated(paths=("custom.py",))
    assert [a.kind for a in _plan(without, None)] == [ActionKind.TEST_VERSION]
    never = _gated(BuildMode.NEVER)
    assert [a.kind for a in _plan(never, None, _test("succeeded"))] == []


def test_a_passed_test_of_the_newest_version_plans_nothing() -> None:
    assert _plan(_gated(), "success", _test("succeeded")) == []
    assert _plan(_gated(), "success", _test("warning")) == []


@pytest.mark.parametrize(
    ("build", "tests", "kinds", "reason"),
    [
        (
            None,
            (),
            ["build-dependencies", "test-version"],
            "version 1.0 has no dependency build yet",
        ),
        (
            "processing",
            (),
            ["build-dependencies", "test-version"],
            "a dependency build of version 1.0 is running",
        ),
        (
            "success",
            (),
            ["test-version"],
            "version 1.0 has no test for the current test configuration",
        ),
        ("success", ("in_progress",), ["test-version"], "a test of version 1.0 is running (t1)"),
        ("success", ("canceled",), ["test-version"], "the last test of version 1.0 ended canceled"),
        ("failed", (), ["blocked"], "gate failed: the dependency build of version 1.0 failed"),
        ("success", ("failed",), ["blocked"], "gate failed: test t1 of version 1.0"),
    ],
)
def test_the_newest_versions_gates_decide_what_is_planned(
    build: str | None, tests: tuple[str, ...], kinds: list[str], reason: str
) -> None:
    actions = _plan(_gated(), build, *(_test(s) for s in tests))
    assert [a.kind.value for a in actions] == kinds
    assert actions[0].reason.startswith(reason) or actions[-1].reason.startswith(reason)


def test_a_failed_check_is_named_in_the_blocked_gate() -> None:
    failed = _test("failed", checks={"errorCheck": ("failed", "predictions failed")})
    (blocked,) = _plan(_gated(), "success", failed)
    assert "check errorCheck failed: predictions failed" in blocked.reason
    assert blocked.params.gate == "test"  # type: ignore[attr-defined]


def test_a_failed_test_that_does_not_block_plans_nothing() -> None:
    relaxed = replace(SPEC, blocking=False)
    assert _plan(_gated(spec=relaxed), "success", _test("failed")) == []


def test_a_changed_configuration_tests_the_existing_version_again() -> None:
    stricter = replace(SPEC, checks=Fields({**SPEC.checks, "sideEffects": "fail"}))
    (action,) = _plan(_gated(spec=stricter), "success", _test("succeeded"))
    assert action.kind is ActionKind.TEST_VERSION
    assert action.reason == "the test configuration changed since version 1.0 was tested"
    other_dataset = replace(SPEC, dataset_id="6600000000000000000000d2")
    (action,) = _plan(_gated(spec=other_dataset), "success", _test("succeeded"))
    assert action.kind is ActionKind.TEST_VERSION


def test_a_warning_does_not_pass_a_check_now_set_to_fail() -> None:
    spec = replace(SPEC, checks=Fields({**SPEC.checks, "sideEffects": "fail"}))
    warned = _test("warning", checks={"sideEffects": ("warning", "rows differ")})
    (blocked,) = _plan(_gated(spec=spec), "success", warned)
    assert blocked.kind is ActionKind.BLOCKED


def test_tests_of_older_versions_do_not_count() -> None:
    (action,) = _plan(_gated(), "success", _test("succeeded", version="v0"))
    assert action.reason == "version 1.0 has no test for the current test configuration"


def test_gate_passed_names_the_newest_version_only_once_its_gates_passed() -> None:
    model = _gated()
    live = live_model(model)

    def passed(build: str | None, *tests: LiveTest) -> str | None:
        gates = {"m1": LiveGates("v1", build, tests)}
        return gate_passed(model, live, LiveSnapshot(models=(live,), model_gates=gates))

    assert passed("success", _test("succeeded")) == "v1"
    assert passed("success", _test("in_progress")) is None
    assert passed("success", _test("failed")) is None
    assert passed("failed") is None
    assert passed(None) is None
    ungated = desired_model()
    assert gate_passed(ungated, live_model(ungated), LiveSnapshot()) == "v1"
