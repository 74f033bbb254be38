"""Plan files: ``plan --out FILE`` saves one, ``apply FILE`` loads it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from controller.errors import ConfigError, PlanError
from controller.model.plan_json import plan_from_json, plan_json_text
from controller.model.plans import Plan


def save_plan(plan: Plan, path: Path) -> None:
    try:
        with path.open("w", encoding="utf-8") as out:
            write_plan_json(plan, out)
    except OSError as exc:
        raise ConfigError(f"cannot write the plan to {path}: {exc.strerror}") from None


def write_plan_json(plan: Plan, out: TextIO) -> None:
    """The plan's JSON document, indented, and a newline, written as it is encoded: at
    10,000 models the document is tens of megabytes, never held as one string."""
    out.writelines(plan_json_text(plan))
    out.write("\n")


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
