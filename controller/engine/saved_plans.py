"""A saved plan (``plan --out FILE``, then ``apply --plan FILE``): is it still the plan to apply.

A saved plan is never applied as it stands: the plan made now from the same commit is, once it
is found to be the saved one. This module compares the two (namespace, commit, the basis of
what DataRobot held, and the actions) and says in words what differs; a saved plan thus can
never make dr-gitops do what the manifests at that commit do not ask for. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from controller.errors import PlanError
from controller.model.plan_json import first_difference
from controller.model.plans import BasisEntry, Plan
from controller.model.values import GitModelVersion, valid_ref_name


def plan_to_apply(saved: Plan, fresh: Plan, sha: str) -> Plan:
    """The plan to apply for ``saved``: ``fresh`` (made now from commit ``sha``), if it is the
    saved plan, with the saved plan's ``gitModelVersion``; raises ``PlanError`` naming what
    changed otherwise (see :meth:`controller.engine.reconciling.Engine.check_saved`)."""
    pull_request = saved.revision.pull_request_commit_sha if saved.revision else None
    if pull_request:
        raise PlanError(
            f"the plan was made in a pull request (its commit {pull_request[:12]}): "
            "applying it would give DataRobot the pull request's files before they are "
            "merged. Merge it, then plan and apply on the main branch"
        )
    if saved.namespace != fresh.namespace:
        raise PlanError(
            f"the plan is for namespace {saved.namespace!r} but this repository is "
            f"{fresh.namespace!r}; use the same --namespace, or make a new plan"
        )
    if saved.revision and saved.revision.main_branch_commit_sha != sha:
        raise PlanError(
            f"the plan was made at commit {saved.revision.main_branch_commit_sha[:12]} but "
            f"{sha[:12]} is checked out; check out that commit "
            "(--ref) or make a new plan"
        )
    changes = stale_entries(saved.basis, fresh.basis)
    if changes:
        listed = "; ".join(changes[:10]) + (
            f"; and {len(changes) - 10} more" if len(changes) > 10 else ""
        )
        raise PlanError(
            f"stale plan: DataRobot changed since the plan was made ({listed}). "
            "Run `dr-gitops plan` again and review the new plan"
        )
    different = first_difference(saved, fresh)
    if different:
        raise PlanError(
            f"the saved plan is not the plan the manifests at this commit make now "
            f"({different}): the file was edited, made by another dr-gitops version, or "
            "made with other options (--path, --target, --prune, --max-deletions, "
            "--allow-empty: "
            "give apply the ones plan had). Run `dr-gitops plan --out FILE` again and "
            "review the new plan"
        )
    return replace(fresh, revision=_saved_revision(saved, fresh))


def _saved_revision(saved: Plan, fresh: Plan) -> GitModelVersion | None:
    """The ``gitModelVersion`` to record for a saved plan: its ref name (the branch the
    reviewer saw, not the ``HEAD`` of the SHA checked out again), checked as a git ref name;
    the rest as a fresh plan makes it. The SHA was compared already, and the commit link is
    rebuilt, so a file edited by hand cannot put a link of its own into DataRobot."""
    if saved.revision is None or fresh.revision is None:
        return fresh.revision
    ref = saved.revision.ref_name
    if not valid_ref_name(ref):
        raise PlanError(
            f"the saved plan's revision.refName {ref!r} is not a git ref name: the file was "
            "edited. Run `dr-gitops plan --out FILE` again and review the new plan"
        )
    return replace(fresh.revision, ref_name=ref)


def stale_entries(saved: tuple[BasisEntry, ...], now: tuple[BasisEntry, ...]) -> list[str]:
    """What differs between two bases, in words."""
    before = {(b.key, b.object_id): b for b in saved}
    after = {(b.key, b.object_id): b for b in now}
    changes = []
    for ident, entry in sorted(before.items()):
        current = after.get(ident)
        if current is None:
            changes.append(f"{entry.key} ({entry.summary}) is gone")
        elif current.digest != entry.digest:
            changes.append(f"{entry.key} changed{_changed_parts(entry, current)}")
    changes += [
        f"{e.key} appeared ({e.summary})"
        for ident, e in sorted(after.items())
        if ident not in before
    ]
    return changes


def _changed_parts(before: BasisEntry, after: BasisEntry) -> str:
    """``" its description and sharing (job 'x')"``: the parts that differ when both
    entries name them (a plan saved by an older dr-gitops does not), with the summaries."""
    old, new = dict(before.parts), dict(after.parts)
    names = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
    what = ""
    if old and new and names:
        listed = [n if n != "other" else "other details" for n in names]
        joined = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        what = f" its {joined}"
    if before.summary == after.summary:
        return f"{what} ({before.summary})" if what else f" ({before.summary})"
    return f"{what}: was {before.summary}, now {after.summary}"
