"""``--target KIND/NAME``: a run limited to some objects.

An object's target covers all of it: the model or job, its newest version, runtime values
and sharing. The controller knows of no links between objects (one object's actions never
need another's), so nothing else is needed. The whole desired state is still
loaded and matched, so the objects left out are neither planned nor taken for orphans.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

from controller.errors import PlanError
from controller.model.desired import DesiredState, ResourceKey
from controller.model.plans import Plan


def targeted_keys(targets: tuple[str, ...], desired: DesiredState) -> frozenset[ResourceKey] | None:
    """The keys ``--target`` names (``None``: no targeting); raises ``PlanError`` for a
    target no manifest declares, naming the closest ones."""
    if not targets:
        return None
    declared = {str(k): k for k in desired.keys()}  # noqa: SIM118 (a DesiredState, not a dict)
    unknown = [t for t in targets if t not in declared]
    if unknown:
        hints = []
        for target in unknown:
            # Compared by name: every key of a kind shares the kind's long prefix.
            by_name: dict[str, list[str]] = {}
            for key in declared.values():
                by_name.setdefault(key.name, []).append(str(key))
            names = difflib.get_close_matches(target.partition("/")[2], list(by_name), n=3)
            close = sorted(k for n in names for k in by_name[n])
            hints.append(f"{target} (did you mean {', '.join(close)}?)" if close else target)
        where = f" under {desired.root}/" if desired.root else ""
        raise PlanError(
            f"--target names no manifest{where}: {'; '.join(hints)}. Give KIND/NAME of a "
            "declared manifest, e.g. CustomModel/<metadata.name>"
        )
    return frozenset(declared[t] for t in targets)


def limited_plan(plan: Plan, targets: frozenset[ResourceKey]) -> Plan:
    """``plan`` limited to the ``targets``: their actions, drift and basis, and a warning
    that other changes are left out."""
    actions = tuple(a for a in plan.actions if a.key in targets)
    touched = {a.key for a in actions}
    wanted = {str(k) for k in targets}
    warning = (
        f"the plan is limited to --target {', '.join(sorted(wanted))}: other changes the "
        "manifests call for are not shown. Plan without --target to see them all"
    )
    return replace(
        plan,
        actions=actions,
        drift=tuple(d for d in plan.drift if d.key in targets),
        basis=tuple(b for b in plan.basis if b.key in wanted),
        unchanged=len(targets - touched),
        warnings=(*plan.warnings, warning),
    )


def only(desired: DesiredState, keys: frozenset[ResourceKey]) -> DesiredState:
    """``desired`` with only the objects of ``keys``."""
    return replace(
        desired,
        models=tuple(m for m in desired.models if m.key in keys),
        jobs=tuple(j for j in desired.jobs if j.key in keys),
    )
