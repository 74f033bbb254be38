"""``dr-gitops export``: write the models and jobs DataRobot holds as a repository of manifests."""

from __future__ import annotations

import argparse
import json
import sys

from controller.cli.configuration import api_settings, environment, register_secrets
from controller.engine.export import Exporter, ExportReport, ExportSettings
from controller.remote import DataRobotClient


def run_export(args: argparse.Namespace) -> int:
    settings = ExportSettings(
        out=args.out,
        namespace=args.namespace or None,
        only_owned=args.only_owned,
        name_filters=tuple(args.name_filter),
        force=args.force,
        concurrency=args.concurrency,
    )
    api = api_settings(args, environment())
    register_secrets(api.token)
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
    deployments = sum(o.kind == "Deployment" for o in report.exported)
    jobs = len(report.exported) - models - deployments
    counted = f"{_count(models, 'model')} and {_count(jobs, 'job')}"
    if deployments:
        counted = f"{_count(models, 'model')}, {_count(jobs, 'job')} and " + _count(
            deployments, "deployment"
        )
    lines = [f"Exported {counted} to {report.out}"]
    width = max((len(o.key) for o in report.exported), default=0)
    for obj in report.exported:
        how = "adopt" if obj.adopt else "owned"  # a deployment: by spec.deploymentId
        files = "" if obj.kind == "Deployment" else f", {_count(obj.files, 'file')}"
        lines.append(f"  {obj.key:<{width}}  {how}  {obj.display_name!r} ({obj.object_id}){files}")
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
