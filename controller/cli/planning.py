"""``dr-gitops plan`` and ``dr-gitops apply``."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from controller.cli.common import (
    Session,
    session,
    use_color,
)
from controller.cli.progress import BarReporter, reporter_for
from controller.cli.serving import apply_locking
from controller.engine.outcomes import ApplyResult, Outcome
from controller.engine.reconciling import Planned, relevant_dirty_paths
from controller.engine.render import render_markdown, render_result, render_text
from controller.errors import ConfigError, PlanError
from controller.model.plans import MARKDOWN_PART_BREAK, Plan, plan_from_json, plan_to_json


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
        _save(plan, args.out)
    if args.output == "json":
        print(json.dumps(plan_to_json(plan), indent=2))
    elif args.output == "markdown":
        print(f"\n{MARKDOWN_PART_BREAK}\n".join(render_markdown(plan)))
    else:
        print(render_text(plan, color=use_color()), end="")
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


def run_apply(args: argparse.Namespace) -> int:
    saved = _load(args.planfile) if args.planfile is not None else None
    approval = _Approval.for_command(args, saved)
    ref = args.ref or (saved.revision.main_branch_commit_sha if saved and saved.revision else None)
    with apply_locking(args) as locking:
        with session(args, ref=ref) as s:
            planned, plan = _plan_to_apply(args, s, saved)
            if plan.is_empty:
                return _apply_and_report(args, s, planned, plan, None)
            if not approval.granted(plan):
                return 1
            if locking.try_take(planned.namespace):
                with locking.held() as lost:
                    # Another controller may have applied between the plan and the lock.
                    planned, plan = _plan_to_apply(args, s, saved, before=plan)
                    if not approval.granted(plan):
                        return 1
                    return _apply_and_report(args, s, planned, plan, lost)
        # Another controller holds the namespace: wait for it without keeping the git
        # checkout open (the lock logs whom it waits for), then plan again: the holder may
        # have applied meanwhile.
        with locking.held() as lost, session(args, ref=ref) as s:
            print("Planned again now that the lock is held:", file=sys.stderr)
            planned, plan = _plan_to_apply(args, s, saved)
            if not plan.is_empty and not approval.granted(plan):
                return 1
            return _apply_and_report(args, s, planned, plan, lost)


class _Approval:
    """Asks a person at a terminal to approve the plan, as ``terraform apply`` does.

    It asks when stdin and stdout are terminals, unless ``--auto-approve`` or a saved plan
    (reviewed when it was made) is given; without a terminal (CI) it never asks. A plan
    already approved is not asked about again; one made anew that differs is.
    """

    def __init__(self, ask: bool) -> None:
        self._ask = ask
        self._approved: list[Any] | None = None

    @classmethod
    def for_command(cls, args: argparse.Namespace, saved: Plan | None) -> _Approval:
        terminal = sys.stdin.isatty() and sys.stdout.isatty()
        if not terminal or args.auto_approve or saved is not None:
            return cls(ask=False)
        if args.output != "text":
            raise ConfigError(
                f"apply --output {args.output} on a terminal needs --auto-approve: the plan "
                "is shown for approval as text"
            )
        return cls(ask=True)

    def granted(self, plan: Plan) -> bool:
        actions = plan_to_json(plan)["actions"]
        if not self._ask or actions == self._approved:
            return True
        print(
            f"\nDo you want to perform these actions in namespace {plan.namespace}?\n"
            "  dr-gitops will perform the actions described above.\n"
            "  Only 'yes' will be accepted to approve.\n"
        )
        try:
            answer = input("  Enter a value: ")
        except EOFError:
            answer = ""
        if answer.strip() != "yes":
            print("\nApply cancelled: nothing was changed.")
            return False
        self._approved = actions
        print()
        return True


def _plan_to_apply(
    args: argparse.Namespace, s: Session, saved: Plan | None, before: Plan | None = None
) -> tuple[Planned, Plan]:
    """Plan (again, under the lock, when ``before`` is the first plan: then it is shown only
    when it differs); refusals come before the lock, so they write nothing."""
    planned = s.engine.plan(s.source)
    plan = s.engine.check_saved(saved, planned) if saved is not None else planned.plan
    changed = before is None or plan_to_json(plan)["actions"] != plan_to_json(before)["actions"]
    if before is not None and changed:
        print("DataRobot changed before the lock was held; planned again:", file=sys.stderr)
    if args.output == "text" and changed:
        print(render_text(plan, color=use_color()), end="")
    if not plan.is_empty:
        s.engine.check_can_apply(planned)
    return planned, plan


def _apply_and_report(
    args: argparse.Namespace,
    s: Session,
    planned: Planned,
    plan: Plan,
    lost: threading.Event | None,
) -> int:
    """Apply ``plan`` (stopping between actions if the namespace lock is ``lost``)."""
    if plan.is_empty:
        if args.output == "json":
            print(json.dumps(_result_json(plan, None), indent=2))
        return 0
    reporter = reporter_for(len(plan.actions))
    stop = lost if lost is not None else threading.Event()
    interrupted: list[int] = []
    try:
        with _stopping_on_interrupt(stop, interrupted):
            result = s.engine.apply(planned, plan=plan, reporter=reporter, stop=stop)
    finally:
        if isinstance(reporter, BarReporter):
            reporter.close()
    if args.output == "json":
        print(json.dumps(_result_json(plan, result), indent=2))
    else:
        locations = planned.desired.locations()
        print(render_result(result, color=use_color(), locations=locations), end="")
    if interrupted:
        print("interrupted: no action started after Ctrl-C; run apply again", file=sys.stderr)
        return 130
    if lost is not None and lost.is_set():
        print("error: the namespace lock was lost while applying; run again", file=sys.stderr)
    return 0 if result.ok else 1


@contextlib.contextmanager
def _stopping_on_interrupt(stop: threading.Event, interrupted: list[int]) -> Iterator[None]:
    """While applying, a first Ctrl-C (SIGINT) lets the writes in flight finish and starts
    no new one, so that the result can still be shown; a second one quits at once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if interrupted:
            raise KeyboardInterrupt
        interrupted.append(signum)
        stop.set()
        print(
            "\nstopping: the writes in flight finish, no new one starts (Ctrl-C again to "
            "quit at once)",
            file=sys.stderr,
        )

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _save(plan: Plan, path: Path) -> None:
    try:
        path.write_text(json.dumps(plan_to_json(plan), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the plan to {path}: {exc.strerror}") from None


def _load(path: Path) -> Plan:
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


def _result_json(plan: Plan, result: ApplyResult | None) -> dict[str, Any]:
    results = [] if result is None else result.results
    return {
        "plan": plan_to_json(plan),
        "ok": result is None or result.ok,
        "results": [
            {
                "key": str(r.action.key),
                "kind": r.action.kind.value,
                "outcome": r.outcome.value,
                "objectId": r.object_id,
                "detail": r.detail,
                "message": r.message,
                "seconds": r.seconds,
            }
            for r in results
        ],
        "counts": {o.value: sum(r.outcome is o for r in results) for o in Outcome},
        "gates": [
            {
                "key": g.key,
                "versionId": g.version_id,
                "versionLabel": g.version_label,
                "passed": g.passed,
                "detail": g.detail,
            }
            for g in (result.gates if result is not None else ())
        ],
    }
