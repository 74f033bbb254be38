"""``dr-gitops export``: write the models and jobs DataRobot holds as a repository of manifests."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from controller import logs
from controller.cli.common import Subparsers, add_api_options, api_settings
from controller.engine.exporting import Exporter, ExportReport, ExportSettings
from controller.remote import DataRobotClient


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "export",
        help="write existing DataRobot models and jobs as manifests (onboarding)",
        description=(
            "Read every custom model (with its newest version) and custom job the token can "
            "see, and write one manifest per object under --out, with the files of the "
            "version or job beside it, so that `dr-gitops plan` on the exported folder shows "
            "adoption only. Objects made by hand get `metadata.adopt: true`; objects owned by "
            "--namespace keep their names. Secret-looking runtime values are never written. "
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
        "need no adopt flag (default: none; every object is exported for adoption). "
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
    parser.set_defaults(run=run_export, only_owned=False)


def run_export(args: argparse.Namespace) -> int:
    settings = ExportSettings(
        out=args.out,
        namespace=args.namespace or None,
        only_owned=args.only_owned,
        name_filters=tuple(args.name_filter),
        force=args.force,
        concurrency=args.concurrency,
    )
    api = api_settings(args, os.environ)
    logs.redactor.register(api.token)
    with DataRobotClient(api) as client:
        report = Exporter(client, settings).run()
    if args.output == "json":
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render_report(report), end="")
    if not report.ok:
        problems = len(report.failures) + len(report.check_errors)
        print(
            f"error: the export is incomplete ({problems} problem{'s' if problems != 1 else ''} "
            "listed above); everything else was written",
            file=sys.stderr,
        )
        return 1
    return 0


def render_report(report: ExportReport) -> str:
    """The report for people: what was written, what was not, and what to do next."""
    models = sum(o.kind == "CustomModel" for o in report.exported)
    jobs = len(report.exported) - models
    lines = [f"Exported {_count(models, 'model')} and {_count(jobs, 'job')} to {report.out}"]
    width = max((len(o.key) for o in report.exported), default=0)
    for obj in report.exported:
        how = "adopt" if obj.adopt else "owned"
        lines.append(
            f"  {obj.key:<{width}}  {how}  {obj.display_name!r} ({obj.object_id}), "
            f"{_count(obj.files, 'file')}"
        )
        lines += [f"      note: {n}" for n in obj.notes]
    if report.filtered_out:
        lines.append(f"Left out by --name-filter / --only-owned: {report.filtered_out}")
    lines += _section(
        "Skipped",
        [f"{s.kind} {s.display_name!r} ({s.object_id}): {s.reason}" for s in report.skipped],
    )
    lines += _section("Warnings", list(report.warnings) + list(report.check_warnings))
    lines += _section("Could not export", [str(f) for f in report.failures])
    lines += _section("The export does not validate", list(report.check_errors))
    lines += [
        "",
        f"Next: read {report.out / 'README.md'}, then",
        f"  cd {report.out} && git init && git add -A && git commit -m 'Export from DataRobot'",
        "  dr-gitops plan --namespace "
        + (report.namespace or "<your-namespace>")
        + "    # adoption, and no other change",
    ]
    return "\n".join(lines) + "\n"


def _section(title: str, entries: list[str]) -> list[str]:
    return [f"{title}:", *(f"  - {e}" for e in entries)] if entries else []


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"
