"""``dr-gitops plan``: plan, show the plan, and (with ``--out``) save it for ``apply``."""

from __future__ import annotations

import argparse
import sys

from controller.cli.planfiles import save_plan, write_plan_json
from controller.cli.sessions import session, use_color
from controller.engine.reconciling import relevant_dirty_paths
from controller.engine.render import markdown_parts, write_text
from controller.errors import PlanError
from controller.model.plans import MARKDOWN_PART_BREAK


def run_plan(args: argparse.Namespace) -> int:
    with session(args) as s:
        planned = s.engine.plan(s.source)
    plan = planned.plan
    if args.out is not None:
        dirty = relevant_dirty_paths(planned)
        if dirty:
            raise PlanError(
                f"refusing to save a plan of uncommitted changes ({', '.join(dirty[:5])}): "
                "`apply FILE` applies the plan's commit, which does not hold them. Commit "
                "them first"
            )
        save_plan(plan, args.out)
    if args.output == "json":
        write_plan_json(plan, sys.stdout)
    elif args.output == "markdown":
        for index, part in enumerate(markdown_parts(plan)):
            # Part by part: the same text as the parts joined by the break, never built whole.
            sys.stdout.write(f"\n{MARKDOWN_PART_BREAK}\n{part}" if index else part)
        sys.stdout.write("\n")
    else:
        write_text(plan, sys.stdout, color=use_color())
        if args.out is not None:
            print(f"Saved the plan to {args.out}; apply it with `dr-gitops apply {args.out}`.")
    if plan.blocked:
        # A pull request whose plan apply would refuse must not pass its check.
        keys = ", ".join(str(a.key) for a in plan.blocked)
        print(
            f"error: {len(plan.blocked)} blocked (apply would fail on {keys}): "
            "the plan says why and what to do",
            file=sys.stderr,
        )
        return 1
    if args.detailed_exitcode and not plan.is_empty:
        return 2
    return 0
