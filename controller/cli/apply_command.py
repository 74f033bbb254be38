"""``dr-gitops apply``: the one reconcile of :mod:`controller.service.orchestrator`, with a
person's approval on a terminal, the plan and the result shown, and Ctrl-C handled."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

from controller import logs
from controller.cli.configuration import (
    api_settings,
    ci_context,
    engine_settings,
    environment,
    git_settings,
    lock_settings,
    register_secrets,
)
from controller.cli.planfiles import load_plan
from controller.cli.progress import BarReporter, reporter_for
from controller.cli.sessions import use_color
from controller.engine.outcomes import ApplyResult, Outcome, Reporter
from controller.engine.render import write_result, write_text
from controller.errors import ConfigError
from controller.model.plan_json import plan_to_json
from controller.model.plans import Plan
from controller.service.apply_lock import ApplyLocking
from controller.service.locks import LockWait
from controller.service.orchestrator import Moment, Orchestrator, Reconciled, open_session


def run_apply(args: argparse.Namespace) -> int:
    saved = load_plan(args.planfile) if args.planfile is not None else None
    approval = _Approval.for_command(args, saved)
    ref = args.ref or (saved.revision.main_branch_commit_sha if saved and saved.revision else None)
    env = environment()
    api = api_settings(args, env)
    git = git_settings(args, env, ref=ref)
    register_secrets(api.token, git.https_token)
    engine = engine_settings(args, env)
    ci = ci_context(env)
    stop = threading.Event()
    interrupted: list[int] = []
    with ApplyLocking(lock_settings(args, env), api, on_wait=_tell_people) as locking:
        done = Orchestrator(
            open_session=lambda: open_session(git, api, engine, environ=env, ci=ci),
            locking=locking,
            saved=saved,
            show=functools.partial(_show, args.output),
            approve=approval.granted,
            applying=functools.partial(_applying, interrupted=interrupted),
        ).reconcile(stop)
    return _report(args, done, interrupted, stop)


def _show(output: str, plan: Plan, moment: Moment) -> None:
    if moment == "changed-under-lock":
        print("DataRobot changed before the lock was held; planned again:", file=sys.stderr)
    elif moment == "planned-after-wait":
        print("Planned again now that the lock is held:", file=sys.stderr)
    if output == "text":
        write_text(plan, sys.stdout, color=use_color())


def _report(
    args: argparse.Namespace, done: Reconciled, interrupted: list[int], stop: threading.Event
) -> int:
    if done.declined:
        return 1
    result = done.result
    if result is None:
        if args.output == "json":
            print(json.dumps(_result_json(done.plan, None), indent=2))
        return 0
    if args.output == "json":
        print(json.dumps(_result_json(done.plan, result), indent=2))
    else:
        locations = done.planned.desired.locations()
        write_result(result, sys.stdout, color=use_color(), locations=locations)
    if interrupted:
        print("interrupted: no action started after Ctrl-C; run apply again", file=sys.stderr)
        return 130
    if stop.is_set():  # only a lost lock sets it, but for Ctrl-C
        print("error: the namespace lock was lost while applying; run again", file=sys.stderr)
    return 0 if result.ok else 1


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


def _tell_people(report: LockWait) -> None:
    """On a terminal, where info logs are not shown, say whom apply waits for. Otherwise the
    ``namespace_lock_waiting`` log line says it, and a plain line would repeat it (with
    ``--log-level info``) or break a JSON log."""
    if sys.stderr.isatty() and not logs.shows("info"):
        print(report.describe(), file=sys.stderr, flush=True)


@contextlib.contextmanager
def _applying(plan: Plan, stop: threading.Event, *, interrupted: list[int]) -> Iterator[Reporter]:
    """While applying, a progress bar on a terminal; and a first Ctrl-C (SIGINT) lets the
    writes in flight finish and starts no new one, so that the result can still be shown;
    a second one quits at once."""
    reporter = reporter_for(len(plan.actions))
    try:
        with _stopping_on_interrupt(stop, interrupted):
            yield reporter
    finally:
        if isinstance(reporter, BarReporter):
            reporter.close()


@contextlib.contextmanager
def _stopping_on_interrupt(stop: threading.Event, interrupted: list[int]) -> Iterator[None]:
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
