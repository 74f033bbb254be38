"""The command line's shape: every command, its flags and its help (argparse only).

Kept apart from what the commands do so that ``dr-gitops --help``, ``--version`` and
``validate`` start fast: a command's module (and the engine, the DataRobot client, the
service...) is imported only when that command runs.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from controller.cli.options import (
    add_api_options,
    add_engine_options,
    add_lock_options,
    add_prune_options,
    add_source_options,
    add_target_options,
)
from controller.model.plans import MARKDOWN_PART_BREAK

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Command: TypeAlias = Callable[[argparse.Namespace], int]


def _command(module: str, name: str) -> Command:
    """The function ``module.name``, imported when the command runs."""

    def run(args: argparse.Namespace) -> int:
        function: Command = getattr(importlib.import_module(module), name)
        return function(args)

    return run


def register_validate(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "validate",
        help="check manifests and their source folders, without contacting DataRobot",
        description=(
            "Check every manifest under PATH: YAML, the JSON Schemas, rules between fields, "
            "source folders, entry points and runtime parameters. Lists every problem as "
            "`file:line: document N: field: message (what to do)`; exits 1 when any is an "
            "error. Files are named relative to the git repository holding PATH."
        ),
    )
    parser.add_argument(
        "path", nargs="?", default=".", metavar="PATH", help="folder to check (default: .)"
    )
    parser.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text for people, json (a list of problems) for machines (default: text)",
    )
    parser.set_defaults(run=_command("controller.cli.validate_command", "run_validate"))


def register_plan_and_apply(sub: Subparsers) -> None:
    plan = sub.add_parser(
        "plan",
        help="show what apply would change in DataRobot (writes nothing)",
        description=(
            "Compare the manifests with DataRobot and print the actions that would make them "
            "equal: models, versions, jobs, runtime values and sharing, with field- and "
            "file-level differences. Writes nothing to DataRobot."
        ),
    )
    add_source_options(plan)
    add_api_options(plan)
    add_engine_options(plan, applies=False)
    add_prune_options(plan)
    add_target_options(plan)
    out = plan.add_argument_group("output")
    out.add_argument(
        "--output",
        choices=["text", "json", "markdown"],
        default="text",
        help="text (like terraform plan), json (schemas/plan.schema.json) or markdown (a PR "
        "comment; long plans are split into parts separated by a line "
        f"'{MARKDOWN_PART_BREAK}') (default: text)",
    )
    out.add_argument(
        "--out", type=Path, metavar="FILE", help="also save the plan as JSON for `apply FILE`"
    )
    out.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when there are changes, 0 when there are none, 1 on errors (a plan "
        "with a blocked action exits 1 with or without this flag)",
    )
    plan.set_defaults(run=_command("controller.cli.plan_command", "run_plan"))

    apply = sub.add_parser(
        "apply",
        help="make DataRobot equal to the manifests",
        description=(
            "Plan, then apply the plan: create and update models, versions and jobs, set "
            "runtime values and sharing, and (with --prune) delete owned objects whose "
            "manifests are gone. With PLANFILE, apply exactly a plan saved by `plan --out`, "
            "refusing it when DataRobot changed since or when the file is not the plan the "
            "manifests at its commit make. When there is something to apply, it "
            "holds the namespace lock (the same as `serve`) while applying."
        ),
    )
    apply.add_argument(
        "planfile", nargs="?", type=Path, metavar="PLANFILE", help="a plan saved by `plan --out`"
    )
    add_source_options(apply)
    add_api_options(apply)
    add_engine_options(apply)
    add_prune_options(apply)
    add_target_options(apply)
    apply.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text or json (default: text); on a terminal, json needs --auto-approve (the "
        "plan is shown for approval as text)",
    )
    apply.add_argument(
        "--auto-approve",
        action="store_true",
        help="apply without asking: on a terminal, apply shows the plan and asks for 'yes' "
        "first (without a terminal, as in CI, or with PLANFILE it never asks)",
    )
    # A CI job should not hang for ever behind a running service: give up after 15 minutes.
    add_lock_options(apply, timeout=900.0)
    apply.set_defaults(run=_command("controller.cli.apply_command", "run_apply"))


def register_serve(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "serve",
        help="keep DataRobot equal to a branch: poll, take webhooks, heal drift",
        description=(
            "Run as a service: reconcile on an interval (and at once on a GitHub or GitLab "
            "push webhook), fetching git first each time, and serve /healthz, /readyz, "
            "/metrics, /status and /webhooks/{github,gitlab} on --listen. Only one "
            "controller applies to a namespace at a time (see --lock). SIGTERM lets a running "
            "apply finish, then exits 0."
        ),
    )
    add_source_options(parser, repo_required=True)
    add_api_options(parser)
    add_engine_options(parser)
    group = parser.add_argument_group("service")
    group.add_argument("--interval", type=float, default=300.0, metavar="SECONDS",
                       help="seconds between runs (default: 300)")  # fmt: skip
    group.add_argument("--jitter", type=float, default=30.0, metavar="SECONDS",
                       help="random delay added to each interval (default: 30)")  # fmt: skip
    group.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                       help="where the HTTP endpoints listen (default: 127.0.0.1:8080)")  # fmt: skip
    group.add_argument(
        "--webhook-secret-file",
        type=Path,
        metavar="FILE",
        help="shared secret of the webhooks (else $DR_GITOPS_WEBHOOK_SECRET_FILE or "
        "$DR_GITOPS_WEBHOOK_SECRET; without one, webhook routes are disabled)",
    )
    group.add_argument("--probe-listen", metavar="HOST:PORT",
                       help="also serve /healthz, /readyz and /metrics on a listener of their "
                       "own, which a flood of --listen cannot starve (default: off)")  # fmt: skip
    group.add_argument("--connection-limit", type=int, default=200, metavar="N",
                       help="connections --listen serves at once; more wait (default: 200)")  # fmt: skip
    group.add_argument("--channel-timeout", type=int, default=15, metavar="SECONDS",
                       help="drop a connection of --listen idle this long (default: 15)")  # fmt: skip
    group.add_argument("--webhook-min-interval", type=float, default=10.0, metavar="SECONDS",
                       help="webhook-triggered runs start at least this far apart; deliveries "
                       "meanwhile wait in one pending run (default: 10)")  # fmt: skip
    group.add_argument(
        "--notifications",
        type=Path,
        metavar="FILE",
        help="send notifications (applied changes, failures, blocked actions, drift "
        "corrected, failed gates, a lost lock, recovery) to Slack, Microsoft Teams or JSON "
        "webhooks as FILE says (see docs/service.md); default: none",
    )
    group.add_argument(
        "--mode",
        choices=["apply", "observe"],
        default="apply",
        help="apply: make DataRobot equal to the manifests; observe: plan on every trigger "
        "and report what differs (status page, /status, metrics, notifications), applying "
        "nothing (default: apply)",
    )
    group.add_argument(
        "--read-token-file",
        type=Path,
        metavar="FILE",
        help="the status page (GET /, /runs/ID) and /status then need this token, as a bearer "
        "token or a browser's basic-auth password (else $DR_GITOPS_READ_TOKEN_FILE; default: "
        "open to whoever reaches --listen)",
    )
    group.add_argument(
        "--control-token-file",
        type=Path,
        metavar="FILE",
        help="enables `dr-gitops suspend`, `resume` and `reconcile` (POST /control/...) for "
        "callers with this bearer token (else $DR_GITOPS_CONTROL_TOKEN_FILE; default: off, "
        "the calls are refused)",
    )
    group.add_argument("--shutdown-grace", type=float, default=240.0, metavar="SECONDS",
                       help="how long SIGTERM waits for a running apply (default: 240)")  # fmt: skip
    group.add_argument("--readiness-window", type=float, default=None, metavar="SECONDS",
                       help="/readyz fails when no run succeeded this recently (default: 3 intervals)")  # fmt: skip
    group.add_argument(
        "--prune",
        action="store_true",
        help="delete owned objects whose manifests are gone (with --path, never what the "
        "rest of the repository declares)",
    )
    group.add_argument("--max-deletions", type=int, default=5, metavar="N",
                       help="refuse to prune more than N objects in one run (default: 5)")  # fmt: skip
    group.add_argument("--allow-empty", action="store_true",
                       help="allow pruning when the manifests declare nothing")  # fmt: skip
    group.add_argument("--allow-deployment-deletion", action="store_true",
                       help="with --prune, also delete owned deployments whose manifests are gone")  # fmt: skip
    add_lock_options(parser)
    parser.set_defaults(run=_command("controller.cli.serve_command", "run_serve"))


def register_control(sub: Subparsers) -> None:
    """``suspend``, ``resume`` and ``reconcile``: calls on a running ``serve``."""
    helps = {
        "suspend": (
            "make a running serve apply nothing until resumed (it goes on planning)",
            "Suspend a running `dr-gitops serve` (like `flux suspend`): its runs go on "
            "planning and showing drift on the status page, /status, metrics and "
            "notifications, and apply nothing until `dr-gitops resume`. The suspension "
            "lasts until resumed or until the service restarts.",
        ),
        "resume": (
            "make a suspended serve apply again, with a run at once",
            "Resume a suspended `dr-gitops serve` (like `flux resume`): it applies again, "
            "starting with a run at once.",
        ),
        "reconcile": (
            "ask a running serve for a run at once",
            "Ask a running `dr-gitops serve` for a run at once (like Argo CD's sync or "
            "Flux's reconcile annotation); coalesced with a run in progress or pending.",
        ),
    }
    for name, (short, long) in helps.items():
        parser = sub.add_parser(
            name,
            help=short,
            description=long + " Needs the service's control token (serve "
            "--control-token-file); exits 1 when the call is refused.",
        )
        parser.add_argument(
            "--service",
            metavar="URL",
            help="the service's --listen address (else $DR_GITOPS_SERVICE_URL; default: "
            "http://127.0.0.1:8080)",
        )
        parser.add_argument(
            "--token-file",
            type=Path,
            metavar="FILE",
            help="the control token (else $DR_GITOPS_CONTROL_TOKEN_FILE)",
        )
        parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                            help="how long to wait for the answer (default: 10)")  # fmt: skip
        parser.set_defaults(run=_command("controller.cli.servicecalls", "run_control"))


def register_status(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "status",
        help="list what the namespace owns in DataRobot and whether it is in sync (reads only)",
        description=(
            "List every custom model and custom job the namespace owns in DataRobot (kind, "
            "name, ID, newest version and the commit it was made from, last update), like "
            "`flux get` or `terraform state list`. With --repo, compare them with the "
            "manifests (the plan `dr-gitops plan` makes) and give each a state: in sync, "
            "drifted, missing (not created yet), blocked or orphaned (owned, but no manifest "
            "declares it). Without --repo, the namespace comes from --namespace or "
            "$DR_GITOPS_NAMESPACE, else from the repository in the current directory. "
            "Writes nothing."
        ),
    )
    add_source_options(
        parser,
        repo_help="compare with the manifests of this git repository: a local path or a URL "
        "(https, ssh, file://); without it, only ownership is listed",
    )
    add_api_options(parser)
    add_engine_options(parser, applies=False)
    parser.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text (a table) or json (schemas/status.schema.json) (default: text)",
    )
    parser.set_defaults(run=_command("controller.cli.status_command", "run_status"))


def register_demo(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "demo",
        help="apply the example manifests to an embedded DataRobot emulator",
        description=(
            "Start the DataRobot API emulator in this process on a free port, copy the example "
            "manifests into a temporary git repository, and show plan, apply, an empty second "
            "plan, then a one-line change making exactly one new version. Nothing leaves this "
            "machine. Needs the emulator extra: pip install 'dr-gitops[emulator]'."
        ),
    )
    parser.add_argument(
        "--example",
        type=Path,
        metavar="DIR",
        help="manifest folder to use (default: manifests-example next to the package)",
    )
    parser.set_defaults(run=_command("controller.cli.demo_command", "run_demo"))


def register_export(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "export",
        help="write existing DataRobot models, jobs and deployments as manifests (onboarding)",
        description=(
            "Read every custom model (with its newest version) and custom job the token can "
            "see, and write one manifest per object under --out, with the files of the "
            "version or job beside it, so that `dr-gitops plan` on the exported folder shows "
            "adoption only. Objects made by hand get `metadata.adopt: true`; objects owned by "
            "--namespace keep their names. A model with registered versions gets "
            "`spec.registry`, and each deployment serving a version of an exported model a "
            "Deployment manifest pinned to the version it serves (made elsewhere: adopted by "
            "`spec.deploymentId`, no write). Secret-looking runtime values are never written. "
            "Exits 1 when a file could not be exported (everything else is written) or the "
            "result does not validate."
        ),
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="folder to write (new or empty)"
    )
    parser.add_argument(
        "--namespace",
        metavar="NS",
        help="recognise the objects this namespace owns: their manifests keep their names and "
        "need no adopt flag, and .dr-gitops.yaml pins it (default: none; every object is "
        "exported for adoption). "
        "$DR_GITOPS_NAMESPACE is not read here: a folder with no git remote has no namespace yet",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--include-unowned",
        dest="only_owned",
        action="store_false",
        help="export objects made by hand too, marked for adoption (the default)",
    )
    which.add_argument(
        "--only-owned",
        dest="only_owned",
        action="store_true",
        help="export only the objects --namespace owns",
    )
    parser.add_argument(
        "--name-filter",
        action="append",
        default=[],
        metavar="GLOB",
        help="export only objects whose display name or manifest name matches GLOB "
        "(case-insensitive, e.g. 'fraud*'); repeat for more",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty DIR, replacing the manifests and source folders it exports",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=4,
        metavar="N",
        help="objects downloaded at once (default: 4)",
    )
    parser.add_argument(
        "--output", choices=["text", "json"], default="text", help="text or json (default: text)"
    )
    add_api_options(parser)
    parser.set_defaults(
        run=_command("controller.cli.export_command", "run_export"), only_owned=False
    )
