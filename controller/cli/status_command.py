"""``dr-gitops status``: what the namespace owns in DataRobot, and whether it is in sync.

Without ``--repo`` it lists ownership only, from the model and job list requests; the
namespace comes from ``--namespace`` or ``$DR_GITOPS_NAMESPACE``, else from the current
directory's repository (its ``.dr-gitops.yaml``, else its git remote). With ``--repo`` it
makes the same plan as ``dr-gitops plan`` (reads only) and gives each object its state.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from controller.cli.configuration import (
    api_settings,
    environment,
    git_settings,
    register_secrets,
)
from controller.cli.sessions import session, use_color
from controller.engine.statuses import (
    STATUS_FORMAT,
    ObjectStatus,
    StatusReport,
    SyncState,
    planned_statuses,
    read_deployments,
    read_owned,
)
from controller.errors import ConfigError, SourceError
from controller.remote import DataRobotClient
from controller.sources import open_source

_STATE_WORDS = {
    SyncState.IN_SYNC: "in sync",
    SyncState.DRIFTED: "drifted",
    SyncState.MISSING: "missing",
    SyncState.BLOCKED: "blocked",
    SyncState.ORPHANED: "orphaned",
}
_STATE_COLORS = {
    SyncState.IN_SYNC: "32",
    SyncState.DRIFTED: "33",
    SyncState.MISSING: "33",
    SyncState.BLOCKED: "31",
    SyncState.ORPHANED: "35",
}


def run_status(args: argparse.Namespace) -> int:
    environ = environment()
    if args.repo is not None:
        with session(args, environ=environ) as s:
            planned = s.engine.plan(s.source)
            listed = read_deployments(s.client)  # one list: what each serves, orphans
        report = planned_statuses(
            planned.plan,
            planned.desired,
            planned.snapshot,
            revision=planned.checkout.sha,
            deployments=listed,
        )
    else:
        namespace = _namespace(args, environ)
        api = api_settings(args, environ)
        register_secrets(api.token)
        with DataRobotClient(api) as client:
            report = read_owned(client, namespace)
    if args.output == "json":
        print(json.dumps(status_to_json(report), indent=2))
    else:
        print(render_status(report, color=use_color()), end="")
    return 0


def _namespace(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    """``--namespace`` or ``$DR_GITOPS_NAMESPACE``, else the current directory's."""
    git = git_settings(args, environ)
    if git.namespace is not None:
        return git.namespace
    try:
        with open_source(git, environ=environ, manifests_path=args.path) as source:
            return source.namespace()
    except SourceError as exc:
        raise ConfigError(
            f"status needs a namespace and cannot derive one from the current directory "
            f"({exc}). Pass --namespace or set DR_GITOPS_NAMESPACE, run it inside the "
            "repository, or give --repo"
        ) from None


def status_to_json(report: StatusReport) -> dict[str, Any]:
    """The JSON form of ``status --output json`` (``schemas/status.schema.json``)."""
    return {
        "format": STATUS_FORMAT,
        "namespace": report.namespace,
        "revision": report.revision,
        "jobsListed": report.jobs_readable,
        "objects": [_object_json(o, states=report.with_states) for o in report.objects],
        "counts": report.counts(),
    }


def _object_json(o: ObjectStatus, *, states: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "kind": o.kind,
        "name": o.name,
        "displayName": o.display_name,
        "id": o.id,
        "version": o.version,
        "commit": o.commit,
        "updated": o.updated,
    }
    if states:
        doc["state"] = o.state.value if o.state is not None else None
        doc["actions"] = list(o.actions)
        doc["reason"] = o.reason
    return doc


def render_status(report: StatusReport, *, color: bool = False) -> str:
    """A table like ``flux get``: one line per object, then a summary."""
    lines = [_heading(report)]
    if not report.objects:
        lines.append("No objects.")
    else:
        header = ["KIND", "NAME", "ID", "VERSION", "COMMIT", "UPDATED"]
        if report.with_states:
            header.append("STATE")
        rows = [_row(o, states=report.with_states) for o in report.objects]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines.append(_line(header, widths))
        for obj, row in zip(report.objects, rows, strict=True):
            text = _line(row, widths)
            if color and obj.state is not None:
                start = text.rfind(row[-1])
                paint = _STATE_COLORS[obj.state]
                text = f"{text[:start]}\x1b[{paint}m{row[-1]}\x1b[0m"
            lines.append(text)
        reasons = [
            f"  {o.kind}/{o.name}: {o.reason}"
            for o in report.objects
            if o.state not in (None, SyncState.IN_SYNC) and o.reason
        ]
        if reasons:
            lines += ["", "Why not in sync:", *reasons]
    if not report.jobs_readable:
        lines.append(
            "Custom jobs were not listed: they are not enabled for this token or installation."
        )
    lines += ["", _summary(report)]
    return "\n".join(lines) + "\n"


def _heading(report: StatusReport) -> str:
    if report.with_states:
        return (
            f"Namespace {report.namespace}, compared with the manifests at "
            f"{(report.revision or '')[:12]}:"
        )
    return f"Namespace {report.namespace} (give --repo to compare with the manifests):"


def _row(o: ObjectStatus, *, states: bool) -> list[str]:
    row = [
        o.kind,
        o.name,
        o.id or "-",
        o.version or "-",
        (o.commit or "-")[:12],
        o.updated or "-",
    ]
    if states:
        row.append(_STATE_WORDS[o.state] if o.state is not None else "-")
    return row


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def _summary(report: StatusReport) -> str:
    counts = report.counts()
    total = len(report.objects)
    noun = "object" if total == 1 else "objects"
    if report.with_states:
        parts = [f"{n} {_STATE_WORDS[SyncState(s)]}" for s, n in counts.items() if n]
        return f"{total} {noun}" + (f": {', '.join(parts)}." if parts else ".")
    models, jobs = counts["CustomModel"], counts["CustomJob"]
    deployments = counts["Deployment"]
    listed = (
        f"{total} {noun} owned: {models} model{'' if models == 1 else 's'}, "
        f"{jobs} job{'' if jobs == 1 else 's'}"
    )
    if deployments:
        listed += f", {deployments} deployment{'' if deployments == 1 else 's'}"
    return listed + "."
