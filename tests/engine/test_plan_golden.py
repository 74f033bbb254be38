"""`plan --output json` stays byte-identical: the golden plans of bench/plan_golden.py.

The example repository and a small bench repository go through the script's three phases
(first plan, plan after apply, plan after a change with --prune) against the emulator over
HTTP, and every printed plan must equal the committed one in bench/golden/. After a change
that is meant to alter plans, record them anew with
``.venv/bin/python bench/plan_golden.py --write`` and review the diff of bench/golden/.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from bench.plan_golden import (
    EXAMPLE_REPOSITORY,
    GOLDEN,
    PHASES,
    bench_repository,
    differences,
    plans,
)

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "plan.schema.json").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def example_plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return plans(EXAMPLE_REPOSITORY, tmp_path_factory.mktemp("golden-example"))


def test_the_example_repository_plans_exactly_as_recorded(
    example_plans: dict[str, bytes],
) -> None:
    assert differences("example", example_plans, GOLDEN) == []


def test_a_small_bench_repository_plans_exactly_as_recorded(tmp_path: Path) -> None:
    repository = bench_repository(5, 3)
    found = plans(repository, tmp_path)
    assert differences(repository.name, found, GOLDEN) == []


def test_the_golden_plans_are_valid_plans_that_cover_each_phase(
    example_plans: dict[str, bytes],
) -> None:
    kinds = []
    for phase in PHASES:
        plan = json.loads(example_plans[phase])
        jsonschema.validate(plan, SCHEMA)
        kinds.append(sorted({a["kind"] for a in plan["actions"]}))
    assert kinds == [
        [
            "build-dependencies",
            "create-job",
            "create-model",
            "create-version",
            "test-version",
            "update-job-sharing",
            "update-model-sharing",
        ],
        [],
        ["build-dependencies", "create-version", "delete-job", "test-version", "update-job"],
    ]


def test_one_byte_changed_is_reported_with_a_diff(example_plans: dict[str, bytes]) -> None:
    changed = dict(example_plans)
    changed["2-after-apply"] = changed["2-after-apply"].replace(
        b'"unchanged": 5', b'"unchanged": 6'
    )
    problems = differences("example", changed, GOLDEN)
    assert "  2-after-apply: differs" in problems
    assert '    -  "unchanged": 5,' in problems
    assert '    +  "unchanged": 6,' in problems
    assert not any("1-first-plan" in p for p in problems)
