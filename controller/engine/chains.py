"""The chains an apply runs, and what each action carries.

A plan's actions are grouped into chains, one per manifest (a model, then its version,
then its sharing, in plan order); each deletion is a chain of its own, run after the
others. A chain records what its earlier actions learnt (the object's ID) and the result
of each action. The readers below take from an action what a write sends: its typed
parameters, its runtime values, the items it deletes, and the number of the version it
starts from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from controller.engine.outcomes import ActionResult
from controller.errors import PlanError
from controller.model.params import ActionParams, ParameterValue
from controller.model.plans import Action, FileChangeKind
from controller.model.values import Json

P = TypeVar("P", bound=ActionParams)


@dataclass
class Chain:
    """The actions of one manifest, and what earlier ones learnt (the object's ID)."""

    actions: list[Action]
    object_id: str | None = None
    results: list[ActionResult] = field(default_factory=list)


def action_params(action: Action, kind: type[P]) -> P:
    """The action's parameters, of the type its kind carries (``PARAMS_BY_KIND``)."""
    if not isinstance(action.params, kind):  # never from a plan: actions check their params
        raise PlanError(f"{action.key}: a {action.kind.value} action without its parameters")
    return action.params


def runtime_values(values: tuple[ParameterValue, ...]) -> list[dict[str, Json]] | None:
    """The ``runtimeParameterValues`` list to send, if there are any."""
    return [v.to_api() for v in values] or None


def version_number(label: str | None) -> tuple[int, int]:
    """``(major, minor)`` of a label like ``"1.2"``; ``(-1, -1)`` when there is none."""
    major, _, minor = str(label or "").partition(".")
    try:
        return int(major), int(minor or 0)
    except ValueError:
        return (-1, -1)


def deleted_items(action: Action) -> list[str]:
    """The IDs of the items whose files the action deletes."""
    return [f.item_id for f in action.files if f.change is FileChangeKind.DELETE and f.item_id]


def plan_chains(actions: Sequence[Action]) -> tuple[list[Chain], list[Chain]]:
    """A plan's chains, one per object in plan order, and its deletions, each a chain."""
    by_key: dict[object, Chain] = {}
    deletions: list[Chain] = []
    for action in actions:
        if action.kind.is_deletion:
            deletions.append(Chain([action]))
        else:
            by_key.setdefault(action.key, Chain([])).actions.append(action)
    return list(by_key.values()), deletions
