"""The planning core: from values (desired state, live snapshot, the pairing of the two,
content evidence) to a plan. Pure: it does no I/O and logs nothing (an import contract in
pyproject.toml holds it to that).

Modules, one concern each:

- ``planner``: :func:`make_plan`, the order of the plan;
- ``inputs``: :class:`PlanInputs` and the facts every module asks of them;
- ``custommodels``, ``modelversions``, ``customjobs``: what each declared object needs;
- ``access``: sharing, of existing objects and of the ones a plan creates;
- ``deletions``: pruning; ``basis``: the digests a saved plan is checked against;
- delivery, added to the plan of models and jobs by :func:`add_delivery`:
  ``deliveries`` (:class:`DeliveryInputs`, a deployment's ``userProvidedId``),
  ``registrations`` (registered versions), ``promotions`` (deployments),
  ``retirements`` (deployments whose manifest is gone). What reads DataRobot for them is
  :mod:`controller.engine.rollouts`; what applies them, :mod:`controller.engine.deployer`.

The manifests are paired with live objects once, by
:func:`controller.engine.ownership.match`, and that :class:`MatchResult` is handed in.

Adding an action kind (a dependency build, a model test, a registration...):

1. a member of ``ActionKind`` (its summary group beside it, its symbol in
   ``controller.engine.render``, its headline in ``controller.engine.descriptions``) and a
   frozen parameter class in :mod:`controller.model.params` (delivery kinds:
   :mod:`controller.model.deliveryparams`) (with ``to_json``/``from_json``,
   and ``masked`` when it holds values a plan must not show), listed in ``PARAMS_BY_KIND``;
   its JSON goes into ``schemas/plan.schema.json``;
2. one planner module here that returns the kind's actions, called from the module of the
   object it belongs to (or from ``planner`` for a kind of its own);
3. one handler in the applier (``controller.engine.applier``), listed in its handler table.
"""

from controller.engine.plan.basis import plan_basis
from controller.engine.plan.inputs import PlanInputs, foreign_creator
from controller.engine.plan.planner import make_plan
from controller.engine.plan.promotions import add_delivery

__all__ = ["PlanInputs", "add_delivery", "foreign_creator", "make_plan", "plan_basis"]
