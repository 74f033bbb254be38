"""Sharing: the grant changes that make an object's sharing the declared list (pure).

A declared ``sharing`` list is authoritative; the controller's own user is never touched
unless declared, and no change may leave an object without a user as OWNER, nor take
OWNER away from the controller.
"""

from __future__ import annotations

from controller.engine.plan.inputs import PlanInputs
from controller.model.desired import DesiredJob, DesiredModel
from controller.model.diffs import grant_changes
from controller.model.live import LiveGrant, LiveJob, LiveModel, LiveSnapshot
from controller.model.plans import Action, ActionKind, GrantChange


def plan_sharing(
    kind: ActionKind,
    res: DesiredModel | DesiredJob,
    live: LiveModel | LiveJob,
    current: tuple[LiveGrant, ...],
    inputs: PlanInputs,
) -> list[Action]:
    """The sharing action of an existing object, if its sharing differs."""
    assert res.sharing is not None
    changes = grant_changes(res.sharing, current, protected=_protected(inputs.live))
    if not changes:
        return []
    blocked = _sharing_blocker(changes, current, inputs.live.controller_user)
    if blocked:
        return [Action(ActionKind.BLOCKED, res.key, blocked, live.id, live.name, sharing=changes)]
    reason = "sharing differs from the declared list"
    return [Action(kind, res.key, reason, live.id, live.name, sharing=changes)]


def _share_created(
    kind: ActionKind, res: DesiredModel | DesiredJob, inputs: PlanInputs, noun: str
) -> Action | None:
    """The sharing of an object this plan creates (its creator starts as OWNER), or
    ``None`` when nothing is to change. A ``blocked`` action means nothing may be made:
    the object could not be shared as declared."""
    assert res.sharing is not None
    creator = _creator_grants(inputs.live)
    sharing = grant_changes(res.sharing, creator, protected=_protected(inputs.live))
    blocked = _sharing_blocker(sharing, creator, inputs.live.controller_user)
    if blocked:
        return Action(ActionKind.BLOCKED, res.key, blocked, sharing=sharing)
    if sharing:
        return Action(kind, res.key, f"share the new {noun}", sharing=sharing)
    return None


def with_created_sharing(
    actions: list[Action], kind: ActionKind, res: DesiredModel | DesiredJob, inputs: PlanInputs,
    noun: str,
) -> list[Action]:  # fmt: skip
    """A creation's ``actions`` followed by its sharing; only the blocking action when it
    could not be shared as declared (then nothing is made)."""
    if res.sharing is None:
        return actions
    sharing = _share_created(kind, res, inputs, noun)
    if sharing is None:
        return actions
    if sharing.kind is ActionKind.BLOCKED:
        return [sharing]
    return [*actions, sharing]


def _protected(live: LiveSnapshot) -> tuple[str, ...]:
    return tuple(n for n in (live.controller_user, live.controller_user_id) if n)


def _creator_grants(live: LiveSnapshot) -> tuple[LiveGrant, ...]:
    """What a new object's sharing holds: its creator (the token's user) as OWNER (with its
    ID, so that a declaration of that user by ID is recognised as the controller's)."""
    if not live.controller_user:
        return ()
    return (
        LiveGrant("user", live.controller_user, "OWNER", live.controller_user_id, can_share=True),
    )


def _sharing_blocker(
    changes: tuple[GrantChange, ...], current: tuple[LiveGrant, ...], controller: str | None
) -> str | None:
    """Why these sharing changes must not be applied, if they must not."""
    after = {(g.recipient_type, g.name.lower()): g.role.upper() for g in current}
    for change in changes:
        key = (change.recipient_type, change.recipient.lower())
        if change.new_role is None:
            after.pop(key, None)
        else:
            after[key] = change.new_role
    if "OWNER" not in [role for (kind, _), role in after.items() if kind == "user"]:
        return (
            "the declared sharing would leave no user with role OWNER, which DataRobot "
            "refuses (a group or an organization is not enough); declare at least one user "
            "with role OWNER"
        )
    if controller and after.get(("user", controller.lower()), "OWNER") != "OWNER":
        return (
            f"the declared sharing would take OWNER away from {controller}, the user dr-gitops "
            "runs as, and it could no longer manage this object; declare it as OWNER, or leave "
            "it out (it is then kept as it is)"
        )
    return None
