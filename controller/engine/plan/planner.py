"""The planner: one pure function from values to a plan.

The order is deterministic: models by key (each: the model, then its version, then its
sharing), then jobs by key (each: the job, then its sharing), then deletions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from controller.engine.ownership import Matches, MatchResult
from controller.engine.plan.basis import plan_basis
from controller.engine.plan.customjobs import create_job, update_job
from controller.engine.plan.custommodels import create_model, update_model
from controller.engine.plan.deletions import orphans_warning, plan_deletions
from controller.engine.plan.inputs import PlanInputs
from controller.model.desired import DesiredJob, DesiredModel
from controller.model.live import LiveJob, LiveModel
from controller.model.plans import Action, ActionKind, Plan

D = TypeVar("D", DesiredModel, DesiredJob)
L = TypeVar("L", LiveModel, LiveJob)


def make_plan(inputs: PlanInputs, matched: MatchResult) -> Plan:
    """The plan that makes the live state equal the desired state, for manifests paired
    with live objects once, by :func:`controller.engine.ownership.match`."""
    actions: list[Action] = []
    unchanged = 0
    for model in sorted(inputs.desired.models, key=lambda m: m.key):
        planned = _planned(model, matched.models, inputs, create_model, update_model)
        actions.extend(planned)
        unchanged += not planned
    for job in sorted(inputs.desired.jobs, key=lambda j: j.key):
        planned = _planned(job, matched.jobs, inputs, create_job, update_job)
        actions.extend(planned)
        unchanged += not planned
    warnings = matched.warnings
    if inputs.prune:
        actions.extend(plan_deletions(matched, inputs))
    else:
        warnings += orphans_warning(matched, inputs.desired.root)
    return Plan(
        namespace=inputs.namespace,
        revision=inputs.revision,
        actions=tuple(actions),
        basis=plan_basis(inputs.live, matched, include_orphans=inputs.prune),
        warnings=warnings,
        unchanged=unchanged,
    )


def _planned(
    res: D,
    matches: Matches[L],
    inputs: PlanInputs,
    create: Callable[[D, PlanInputs], list[Action]],
    update: Callable[[D, L, bool, PlanInputs], list[Action]],
) -> list[Action]:
    """The actions of one manifest: blocked when several objects claim it, else a creation
    or an update of the object it is paired with."""
    if res.key in matches.conflicts:
        return [Action(ActionKind.BLOCKED, res.key, matches.conflicts[res.key])]
    live = matches.live_for(res.key)
    if live is None:
        return create(res, inputs)
    return update(res, live, res.key in matches.adopted, inputs)
