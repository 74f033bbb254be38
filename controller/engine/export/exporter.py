"""Export what a DataRobot account holds as a repository of manifests (I/O).

    report = Exporter(client, ExportSettings(out=Path("ml-models"))).run()

The steps: check the folder; read every model (with its newest version) and job in one
snapshot; choose what to export and under which names (:mod:`.selection`); then, a few
objects at a time, read each one's sharing, download its files (a version's zip, a job's
items), and write its manifest (:mod:`.documents`); last, the schemas, a README, and a
check that the folder validates. One object's failure does not stop the others: what could
not be exported is named in the report, and the manifests never claim files they lack.
"""

from __future__ import annotations

import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from controller.engine.export.deliverydocs import (
    ChosenDeployment,
    choose_deployments,
    deployment_document,
    registry_block,
)
from controller.engine.export.documents import job_document, model_document
from controller.engine.export.drafts import FOLDERS, SCHEMA_FILES, Files, Missing, Rendered
from controller.engine.export.folder import (
    UnsafePathError,
    check_out_dir,
    clear,
    extract_items,
    write_bytes,
    write_text,
)
from controller.engine.export.readme import readme_text
from controller.engine.export.report import ExportedObject, ExportFailure, ExportReport
from controller.engine.export.selection import Selected, select
from controller.engine.export.yamltext import to_yaml
from controller.errors import ConfigError, DrGitopsError
from controller.logs import get_logger
from controller.manifests import SETTINGS_SCHEMA_FILE, load, schema_text, settings_schema_text
from controller.manifests.discovery import looks_like_manifest
from controller.manifests.sourcefiles import ALWAYS_SKIPPED, SKIPPED_SUFFIXES
from controller.model.delivery import KIND_DEPLOYMENT, LiveDelivery
from controller.model.desired import KIND_JOB, KIND_MODEL
from controller.model.identity import valid_namespace
from controller.model.live import LiveGrant, LiveJob, LiveModel
from controller.model.values import Fields
from controller.remote import (
    ApiError,
    DataRobotClient,
    ForbiddenError,
    NotFoundError,
    ValidationError,
    read_snapshot,
)
from controller.remote.deliveryreads import DeliveryNeeds, read_delivery
from controller.repository_settings import REPOSITORY_SETTINGS_FILE

log = get_logger(__name__)


@dataclass(frozen=True)
class ExportSettings:
    """What ``dr-gitops export`` writes, and where.

    ``namespace``: recognise objects this namespace owns (their manifests need no adopt
    flag); ``None`` treats every object as made by hand. ``only_owned`` exports owned
    objects only; ``name_filters`` are globs matched against display names and manifest
    names (case-insensitive); ``force`` allows a non-empty ``out``.
    """

    out: Path
    namespace: str | None = None
    only_owned: bool = False
    name_filters: tuple[str, ...] = ()
    force: bool = False
    concurrency: int = 4

    def __post_init__(self) -> None:
        if self.namespace is not None and not valid_namespace(self.namespace):
            raise ConfigError(
                f"the namespace {self.namespace!r} is not valid: use letters, digits and "
                ". _ / : @ - (at most 200 characters)"
            )
        if self.only_owned and self.namespace is None:
            raise ConfigError(
                "--only-owned needs --namespace: without it no object counts as owned"
            )
        if not 1 <= self.concurrency <= 64:
            raise ConfigError(f"--concurrency must be between 1 and 64, not {self.concurrency}")


class Exporter:
    """One export of the objects a client's token can see into ``settings.out``."""

    def __init__(self, client: DataRobotClient, settings: ExportSettings) -> None:
        self._client = client
        self._settings = settings
        self._out = settings.out
        self._controller: str | None = None
        self._delivery = LiveDelivery()

    def run(self) -> ExportReport:
        check_out_dir(self._out, force=self._settings.force)
        snapshot = read_snapshot(self._client)
        selection = select(
            snapshot,
            namespace=self._settings.namespace,
            only_owned=self._settings.only_owned,
            name_filters=self._settings.name_filters,
        )
        self._controller = snapshot.controller_user
        self._out.mkdir(parents=True, exist_ok=True)
        earlier = self._manifests_present()
        self._delivery = self._read_delivery() if selection.models else LiveDelivery()
        chosen, left_out = choose_deployments(
            self._delivery.deployments,
            selection.models,
            self._delivery.packages,
            self._settings.namespace,
            frozenset(
                s.live.id
                for s in selection.models
                if registry_block(s.live, self._delivery) is not None
            ),
        )
        with ThreadPoolExecutor(self._settings.concurrency, thread_name_prefix="export") as pool:
            models = list(pool.map(self._export_model, selection.models))
            jobs = list(pool.map(self._export_job, selection.jobs))
            deployments = list(pool.map(self._export_deployment, chosen))
        exported = tuple(obj for obj, _ in models + jobs) + tuple(deployments)
        report = ExportReport(
            out=self._out,
            endpoint=self._client.settings.endpoint,
            namespace=self._settings.namespace,
            exported=exported,
            warnings=_left_over(earlier - {o.manifest for o in exported}),
            failures=tuple(f for _, failures in models + jobs for f in failures),
            skipped=selection.skipped + left_out,
            filtered_out=selection.filtered_out,
        )
        self._write_top_level(report)
        report = report.with_check(*self._self_check())
        log.info(
            "export_done",
            models=len(models),
            jobs=len(jobs),
            deployments=len(deployments),
            failures=len(report.failures),
            skipped=len(report.skipped),
        )
        return report

    # --- models --------------------------------------------------------------------------

    def _export_model(
        self, selected: Selected[LiveModel]
    ) -> tuple[ExportedObject, list[ExportFailure]]:
        live, version = selected.live, selected.live.latest_version
        folder, manifest = self._paths(KIND_MODEL, selected.name)
        clear([folder, manifest])
        sharing = self._sharing(KIND_MODEL, selected)
        files = Files()
        if version is not None and version.items:
            files = self._download(live, folder)
        registry = registry_block(live, self._delivery)
        rendered = model_document(selected, sharing, files, registry)
        return self._finish(KIND_MODEL, selected, rendered, sharing, files, folder, manifest)

    def _download(self, live: LiveModel, folder: Path) -> Files:
        version = live.latest_version
        assert version is not None
        paths = [item.file_path for item in version.items]
        try:
            with tempfile.TemporaryDirectory(prefix="dr-gitops-export-") as tmp:
                archive = self._client.download_version(
                    live.id, version.id, Path(tmp) / "version.zip"
                )
                count, problems = extract_items(archive, folder, paths)
        except (DrGitopsError, zipfile.BadZipFile) as exc:
            reason = f"the download of version {version.label} failed: {_reason(exc)}"
            return Files(0, (Missing(None, reason),))
        return Files(count, tuple(problems))

    # --- jobs ----------------------------------------------------------------------------

    def _export_job(
        self, selected: Selected[LiveJob]
    ) -> tuple[ExportedObject, list[ExportFailure]]:
        live = selected.live
        folder, manifest = self._paths(KIND_JOB, selected.name)
        clear([folder, manifest])
        sharing = self._sharing(KIND_JOB, selected)
        count, missing = 0, []
        for item in sorted(live.items, key=lambda i: i.file_path):
            try:
                content = self._client.get_job_item(live.id, item.id).content
                write_bytes(folder, item.file_path, content.encode("utf-8"))
                count += 1
            except (DrGitopsError, UnsafePathError) as exc:
                missing.append(Missing(item.file_path, _reason(exc)))
        files = Files(count, tuple(missing))
        rendered = job_document(selected, sharing, files)
        return self._finish(KIND_JOB, selected, rendered, sharing, files, folder, manifest)

    # --- registry and deployments --------------------------------------------------------

    def _read_delivery(self) -> LiveDelivery:
        """Registered models, their versions and deployments: one list each. Where the
        registry or deployments are not enabled for the token, none are exported."""
        try:
            return read_delivery(self._client, DeliveryNeeds())
        except (ForbiddenError, NotFoundError) as exc:
            log.warning("export_deliveries_unreadable", error=str(exc))
            return LiveDelivery()

    def _export_deployment(self, chosen: ChosenDeployment) -> ExportedObject:
        live = chosen.live
        settings: Fields | None
        sharing: tuple[LiveGrant, ...] | None
        try:
            settings = self._client.get_deployment_settings(live.id)
        except ApiError as exc:
            log.warning("export_settings_unreadable", name=chosen.name, error=str(exc))
            settings = None
        try:
            sharing = self._client.get_deployment_roles(live.id)
        except ApiError as exc:
            log.warning("export_sharing_unreadable", name=chosen.name, error=str(exc))
            sharing = None
        rendered = deployment_document(chosen, settings, sharing)
        _, manifest = self._paths(KIND_DEPLOYMENT, chosen.name)
        write_text(manifest, to_yaml(rendered.document))
        log.info("export_object_written", kind=KIND_DEPLOYMENT, name=chosen.name, files=0)
        return ExportedObject(
            kind=KIND_DEPLOYMENT,
            name=chosen.name,
            display_name=live.label,
            object_id=live.id,
            manifest=manifest.relative_to(self._out).as_posix(),
            files=0,
            adopt=not chosen.owned,
            notes=rendered.notes,
        )

    # --- shared --------------------------------------------------------------------------

    def _manifests_present(self) -> set[str]:
        """Manifests already in the folder (a re-export with --force)."""
        found = set()
        for folder in FOLDERS.values():
            found |= {
                p.relative_to(self._out).as_posix() for p in self._out.glob(f"{folder}/*.y*ml")
            }
        return found

    def _paths(self, kind: str, name: str) -> tuple[Path, Path]:
        base = self._out / FOLDERS[kind]
        return base / name, base / f"{name}.yaml"

    def _sharing(
        self, kind: str, selected: Selected[LiveModel] | Selected[LiveJob]
    ) -> tuple[LiveGrant, ...] | None:
        try:
            if kind == KIND_MODEL:
                return self._client.get_model_access(selected.live.id)
            return self._client.get_job_roles(selected.live.id)
        except ApiError as exc:
            log.warning("export_sharing_unreadable", name=selected.name, error=str(exc))
            return None

    def _finish(
        self,
        kind: str,
        selected: Selected[LiveModel] | Selected[LiveJob],
        rendered: Rendered,
        sharing: tuple[LiveGrant, ...] | None,
        files: Files,
        folder: Path,
        manifest: Path,
    ) -> tuple[ExportedObject, list[ExportFailure]]:
        write_text(manifest, to_yaml(rendered.document))
        relative = manifest.relative_to(self._out).as_posix()
        source = folder.relative_to(self._out).as_posix()
        notes = list(rendered.notes) + _skipped_files(folder)
        notes += _role_note(kind, sharing, self._controller)
        failures = [
            ExportFailure(f"{source}/{m.path}" if m.path else f"{source}/", m.reason)
            for m in files.missing
        ]
        exported = ExportedObject(
            kind=kind,
            name=selected.name,
            display_name=selected.live.name,
            object_id=selected.live.id,
            manifest=relative,
            files=files.count,
            adopt=not selected.owned,
            notes=tuple(notes),
        )
        log.info(
            "export_object_written",
            kind=kind,
            name=selected.name,
            files=files.count,
            failures=len(failures),
        )
        return exported, failures

    def _write_top_level(self, report: ExportReport) -> None:
        for kind, file_name in SCHEMA_FILES.items():
            write_text(self._out / "schemas" / file_name, schema_text(kind))
        write_text(self._out / "schemas" / SETTINGS_SCHEMA_FILE, settings_schema_text())
        write_text(self._out / "README.md", readme_text(report))
        settings = self._out / REPOSITORY_SETTINGS_FILE
        if not settings.exists():  # a re-export (--force) keeps the team's own settings
            write_text(settings, settings_text(self._settings.namespace))

    def _self_check(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The folder's validation errors and warnings, as ``dr-gitops validate`` shows them."""
        loaded = load(self._out, self._out)
        return tuple(str(p) for p in loaded.errors), tuple(str(p) for p in loaded.warnings)


def settings_text(namespace: str | None) -> str:
    """The repository settings file an export writes (``.dr-gitops.yaml``)."""
    pinned = (
        f"namespace: {namespace}"
        if namespace
        else "# namespace: <your-namespace>   # set it before the first apply"
    )
    return "\n".join(
        [
            "# yaml-language-server: $schema=schemas/repository-settings.schema.json",
            "# dr-gitops repository settings, read by every command; --namespace and the",
            "# DR_GITOPS_* variables win over them. The DataRobot endpoint, credentials and",
            "# proxies can never be set here (anyone who can open a pull request writes this",
            "# file). The namespace is pinned so that a new git remote URL never changes it.",
            pinned,
            "# commitUrlTemplate: https://git.example.com/{path}/commit/{sha}",
            "# exclude: ['tests/**']          # left out of every source folder",
            "",
        ]
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and exc.server_message:
        return (
            f"DataRobot refuses to return it ({exc.status}: {exc.server_message}); the API "
            "returns text files only, so copy it from DataRobot by hand"
        )
    return str(exc)


def _left_over(paths: set[str]) -> tuple[str, ...]:
    return tuple(
        f"{path} was not written by this export (its object is gone, renamed, left out or "
        "skipped): delete it unless you mean to keep it, or the plan will create its object"
        for path in sorted(paths)
    )


def _role_note(
    kind: str, sharing: tuple[LiveGrant, ...] | None, controller: str | None
) -> list[str]:
    """A note when the token's user is not an OWNER: adopting may then be refused."""
    if not sharing or not controller:
        return []
    role = next(
        (
            g.role.upper()
            for g in sharing
            if g.recipient_type == "user" and g.name.lower() == controller.lower()
        ),
        None,
    )
    if role == "OWNER":
        return []
    noun = "model" if kind == KIND_MODEL else "job"
    has = f"has the role {role}" if role else "has no direct role"
    return [
        f"{controller}, the user of this token, {has} on this {noun}: DataRobot may refuse "
        "to let dr-gitops adopt or change it; make that user an OWNER first"
    ]


def _skipped_files(folder: Path) -> list[str]:
    """Files dr-gitops will not upload from this folder (so the plan deletes them)."""
    if not folder.is_dir():
        return []
    notes = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        skipped = set(path.relative_to(folder).parts) & ALWAYS_SKIPPED or path.name.endswith(
            SKIPPED_SUFFIXES
        )
        if skipped or (path.suffix in (".yaml", ".yml") and looks_like_manifest(path.read_bytes())):
            notes.append(
                f"{relative}: dr-gitops never uploads this file, so the plan will delete it "
                "from DataRobot; remove it there or rename it"
            )
    return notes
