"""The README.md an export writes at the top of its folder: what is there, what to do next."""

from __future__ import annotations

from controller.engine.export.report import ExportReport
from controller.model.delivery import KIND_DEPLOYMENT
from controller.model.desired import KIND_JOB, KIND_MODEL


def readme_text(report: ExportReport) -> str:
    """Markdown for the exported folder (deterministic: no dates, no secrets)."""
    models, jobs = report.count(KIND_MODEL), report.count(KIND_JOB)
    adopted = sum(o.adopt for o in report.exported if o.kind != KIND_DEPLOYMENT)
    pinned = (
        f"# the namespace, {report.namespace}, is pinned in .dr-gitops.yaml"
        if report.namespace
        else "# first set `namespace:` in .dr-gitops.yaml (or pass --namespace)"
    )
    parts = [
        "# DataRobot custom models and jobs, exported by dr-gitops",
        "",
        f"`dr-gitops export` wrote these manifests from `{report.endpoint}`: "
        f"{_count(models, 'custom model')} (each with the files of its newest version) and "
        f"{_count(jobs, 'custom job')} (with their files), with their settings, runtime "
        "parameter values and sharing. The manifest format is described by `schemas/` (your "
        "editor can use it: see the first line of every manifest).",
        "",
        "```",
        "models/<name>.yaml   a CustomModel manifest      models/<name>/   its version's files",
        "jobs/<name>.yaml     a CustomJob manifest        jobs/<name>/     its files",
        "```",
        *_deliveries(report),
        "",
        _ownership(report, adopted),
        "",
        "## Next steps",
        "",
        "```sh",
        "git init && git add -A && git commit -m 'Export DataRobot custom models and jobs'",
        pinned,
        "dr-gitops validate .",
        "dr-gitops plan      # expect adoption (and commits recorded), no other change",
        "dr-gitops apply     # takes the objects over; the next plan is empty",
        "```",
        "",
        "Keep the namespace pinned in `.dr-gitops.yaml` (the repository settings file, read "
        "by every command; `--namespace` and `DR_GITOPS_NAMESPACE` win over it): by default "
        "dr-gitops derives it from the git remote, so adding or changing a remote would "
        "change it. After the first apply the objects belong to that namespace; "
        "`metadata.adopt` has no effect any more and can be removed.",
    ]
    parts += _attention(report)
    return "\n".join(parts) + "\n"


def _deliveries(report: ExportReport) -> list[str]:
    deployments = [o for o in report.exported if o.kind == KIND_DEPLOYMENT]
    if not deployments:
        return []
    by_id = sum(o.adopt for o in deployments)
    return [
        "",
        f"`deployments/<name>.yaml` holds {_count(len(deployments), 'Deployment manifest')}, "
        "one per deployment serving a version of an exported model, pinned to the version it "
        "serves; models with registered versions carry `spec.registry`. "
        f"{_count(by_id, 'deployment')} made outside this namespace carry "
        "`spec.deploymentId`: the plan adopts each by that ID and writes nothing for it "
        "(DataRobot sets a deployment's `userProvidedId` only when it is created).",
    ]


def _ownership(report: ExportReport, adopted: int) -> str:
    owned = sum(not o.adopt for o in report.exported if o.kind != KIND_DEPLOYMENT)
    text = (
        f"{_count(adopted, 'object')} made by hand carry `metadata.adopt: true`: the first "
        "`dr-gitops apply` takes each one over (it finds it by its display name, `spec.name`) "
        "without changing it."
    )
    if report.namespace:
        text += (
            f" {_count(owned, 'object')} already belonged to the namespace "
            f"`{report.namespace}` and keep their names; use the same namespace with this "
            "repository."
        )
    return text


def _attention(report: ExportReport) -> list[str]:
    lines: list[str] = []
    for obj in report.exported:
        lines += [f"- `{obj.manifest}`: {note}" for note in obj.notes]
    lines += [f"- `{f.path}`: not exported: {f.reason}" for f in report.failures]
    lines += [f"- {w}" for w in report.warnings]
    lines += [
        f"- {s.kind} {s.display_name!r} ({s.object_id}) was not exported: {s.reason}"
        for s in report.skipped
    ]
    if not lines:
        return []
    return ["", "## Needs your attention", "", *lines]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' if number != 1 else ''}"
