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


def _add_command(
    sub: Subparsers, name: str, texts: tuple[str, str], run: str | None = None
) -> argparse.ArgumentParser:
    """The parser of command ``name`` with its (``--help`` line, description), running
    ``run`` (``module:function``; default ``controller.cli.NAME_command:run_NAME``)."""
    short, long = texts
    parser = sub.add_parser(name, help=short, description=long)
    module, _, function = (run or f"controller.cli.{name}_command:run_{name}").partition(":")
    parser.set_defaults(run=_command(module, function))
    return parser


def _add_output(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    formats: tuple[str, ...],
    help: str,
) -> None:
    """``--output FORMAT`` (the first of ``formats`` is the default)."""
    parser.add_argument("--output", choices=list(formats), default=formats[0], help=help)


def register_validate(sub: Subparsers) -> None:
    texts = (
        "check manifests and their source folders, without contacting DataRobot",
        "Check every manifest under PATH: YAML, the JSON Schemas, rules between fields, "
        "source folders, entry points and runtime parameters. Lists every problem as "
        "`file:line: document N: field: message (what to do)`; exits 1 when any is an "
        "error. Files are named relative to the git repository holding PATH.",
    )
    parser = _add_command(sub, "validate", texts)
    parser.add_argument(
        "path", nargs="?", default=".", metavar="PATH", help="folder to check (default: .)"
    )
    _add_output(
        parser,
        ("text", "json"),
        "text for people, json (a list of problems) for machines (default: text)",
    )


def register_plan_and_apply(sub: Subparsers) -> None:
    texts = (
        "show what apply would change in DataRobot (writes nothing)",
        "Compare the manifests with DataRobot and print the actions that would make them "
        "equal: models, versions, jobs, runtime values and sharing, with field- and "
        "file-level differences. Writes nothing to DataRobot.",
    )
    plan = _add_command(sub, "plan", texts)
    _add_shared_options(plan, applies=False)
    out = plan.add_argument_group("output")
    _add_output(
        out,
        ("text", "json", "markdown"),
        "text (like terraform plan), json (schemas/plan.schema.json) or markdown (a PR "
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

    texts = (
        "make DataRobot equal to the manifests",
        "Plan, then apply the plan: create and update models, versions and jobs, set "
        "runtime values and sharing, and (with --prune) delete owned objects whose "
        "manifests are gone. With PLANFILE, apply exactly a plan saved by `plan --out`, "
        "refusing it when DataRobot changed since or when the file is not the plan the "
        "manifests at its commit make. When there is something to apply, it "
        "holds the namespace lock (the same as `serve`) while applying.",
    )
    apply = _add_command(sub, "apply", texts)
    apply.add_argument(
        "planfile", nargs="?", type=Path, metavar="PLANFILE", help="a plan saved by `plan --out`"
    )
    _add_shared_options(apply, applies=True)
    _add_output(
        apply,
        ("text", "json"),
        "text or json (default: text); on a terminal, json needs --auto-approve (the "
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


def _add_shared_options(parser: argparse.ArgumentParser, *, applies: bool) -> None:
    """What ``plan`` and ``apply`` share: repository, DataRobot, engine, pruning, targets."""
    add_source_options(parser)
    add_api_options(parser)
    add_engine_options(parser, applies=applies)
    add_prune_options(parser)
    add_target_options(parser)


def register_serve(sub: Subparsers) -> None:
    texts = (
        "keep DataRobot equal to a branch: poll, take webhooks, heal drift",
        "Run as a service: reconcile on an interval (and at once on a GitHub or GitLab "
        "push webhook), fetching git first each time, and serve /healthz, /readyz, "
        "/metrics, /status and /webhooks/{github,gitlab} on --listen. Only one "
        "controller applies to a namespace at a time (see --lock). SIGTERM lets a running "
        "apply finish, then exits 0.",
    )
    parser = _add_command(sub, "serve", texts)
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
    add_prune_options(parser)
    add_lock_options(parser)


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
        needs = " Needs the service's control token (serve --control-token-file); exits 1 when "
        texts = (short, long + needs + "the call is refused.")
        parser = _add_command(sub, name, texts, "controller.cli.servicecalls:run_control")
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


def register_status(sub: Subparsers) -> None:
    texts = (
        "list what the namespace owns in DataRobot and whether it is in sync (reads only)",
        "List every custom model and custom job the namespace owns in DataRobot (kind, "
        "name, ID, newest version and the commit it was made from, last update), like "
        "`flux get` or `terraform state list`. With --repo, compare them with the "
        "manifests (the plan `dr-gitops plan` makes) and give each a state: in sync, "
        "drifted, missing (not created yet), blocked or orphaned (owned, but no manifest "
        "declares it). Without --repo, the namespace comes from --namespace or "
        "$DR_GITOPS_NAMESPACE, else from the repository in the current directory. "
        "Writes nothing.",
    )
    parser = _add_command(sub, "status", texts)
    add_source_options(
        parser,
        repo_help="compare with the manifests of this git repository: a local path or a URL "
        "(https, ssh, file://); without it, only ownership is listed",
    )
    add_api_options(parser)
    add_engine_options(parser, applies=False)
    status_help = "text (a table) or json (schemas/status.schema.json) (default: text)"
    _add_output(parser, ("text", "json"), status_help)


def register_demo(sub: Subparsers) -> None:
    texts = (
        "apply the example manifests to an embedded DataRobot emulator",
        "Start the DataRobot API emulator in this process on a free port, copy the example "
        "manifests into a temporary git repository, and show plan, apply, an empty second "
        "plan, then a one-line change making exactly one new version. Nothing leaves this "
        "machine. Needs the emulator extra: pip install 'dr-gitops[emulator]'.",
    )
    parser = _add_command(sub, "demo", texts)
    parser.add_argument(
        "--example",
        type=Path,
        metavar="DIR",
        help="manifest folder to use (default: manifests-example next to the package)",
    )


def register_export(sub: Subparsers) -> None:
    texts = (
        "write existing DataRobot models, jobs and deployments as manifests (onboarding)",
        "Read every custom model (with its newest version) and custom job the token can "
        "see, and write one manifest per object under --out, with the files of the "
        "version or job beside it, so that `dr-gitops plan` on the exported folder shows "
        "adoption only. Objects made by hand get `metadata.adopt: true`; objects owned by "
        "--namespace keep their names. A model with registered versions gets "
        "`spec.registry`, and each deployment serving a version of an exported model a "
        "Deployment manifest pinned to the version it serves (made elsewhere: adopted by "
        "`spec.deploymentId`, no write). Secret-looking runtime values are never written. "
        "Exits 1 when a file could not be exported (everything else is written) or the "
        "result does not validate.",
    )
    parser = _add_command(sub, "export", texts)
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
    _add_output(parser, ("text", "json"), "text or json (default: text)")
    add_api_options(parser)
    parser.set_defaults(only_owned=False)
