"""Plan files: ``plan --out FILE`` saves one, ``apply FILE`` loads it."""

from __future__ import annotations

import json
from pathlib import Path

from controller.errors import ConfigError, PlanError
from controller.model.plan_json import plan_from_json, plan_to_json
from controller.model.plans import Plan


def save_plan(plan: Plan, path: Path) -> None:
    try:
        path.write_text(json.dumps(plan_to_json(plan), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the plan to {path}: {exc.strerror}") from None


def load_plan(path: Path) -> Plan:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the plan {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise PlanError(f"{path} is not a plan saved by `dr-gitops plan --out` ({exc})") from None
    try:
        return plan_from_json(doc)
    except ValueError as exc:
        raise PlanError(f"{path}: {exc}; make it again with `dr-gitops plan --out`") from None
