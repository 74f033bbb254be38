"""Loading the manifests of a repository: find, parse, validate, build the desired state.

Every problem is collected before anything is decided, so one run reports them all:
unreadable files, YAML errors, unknown kinds or apiVersions, schema errors, rules between
fields, keys used twice, and the repository checks (source folders, entry points, runtime
parameter definitions). Nothing here writes anything.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from controller import logs
from controller.manifests.buildcache import NAME, BuildCache, Built, FreshFiles, where
from controller.manifests.context import BuildContext, SchemaVerdict
from controller.manifests.deployspecs import (
    build_deployment,
    deployment_id_clashes,
    deployment_model_problems,
)
from controller.manifests.discovery import looks_like_manifest, scan_committed, scan_yaml
from controller.manifests.jobspecs import build_job
from controller.manifests.limits import DEFAULT_LIMITS, ManifestLimits
from controller.manifests.modelspecs import build_model
from controller.manifests.problems import ManifestError, Problem, sort_problems
from controller.manifests.runtimeparams import METADATA_FILES
from controller.manifests.schemas import did_you_mean
from controller.manifests.sourcefiles import SourceLister
from controller.manifests.yamlcache import YamlCache
from controller.manifests.yamlparser import Document, YamlProblem
from controller.model.delivery import KIND_DEPLOYMENT, DesiredDeployment
from controller.model.desired import (
    KIND_JOB,
    KIND_MODEL,
    DesiredJob,
    DesiredModel,
    DesiredState,
    ResourceKey,
)
from controller.model.trees import CommittedTree

API_VERSION = "dr-gitops/v1"
KINDS = (KIND_MODEL, KIND_JOB, KIND_DEPLOYMENT)
_METADATA_NAMES = frozenset(METADATA_FILES.values())

log = logs.get_logger(__name__)


@dataclass(frozen=True)
class Loaded:
    """The outcome of loading: the desired state (of the manifests that are valid) and
    every problem found. Use the state only when there is no error."""

    state: DesiredState
    problems: tuple[Problem, ...]
    files: int = 0
    manifests: int = 0

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.is_error)


def load_desired_state(
    repo_root: Path,
    manifest_root: Path | None = None,
    *,
    limits: ManifestLimits = DEFAULT_LIMITS,
    default_exclude: Sequence[str] = (),
    cache_dir: Path | None = None,
    tree: CommittedTree | None = None,
) -> DesiredState:
    """The desired state of the manifests under ``manifest_root`` (default: the whole
    repository). Warnings are logged; any error raises :class:`ManifestError` listing
    every problem. ``cache_dir``: where parsed files are kept (see ``yamlcache``) and, with
    ``tree`` (git's IDs for ``repo_root``), what unchanged files built (``buildcache``)."""
    loaded = load(
        repo_root,
        manifest_root,
        limits=limits,
        default_exclude=default_exclude,
        cache_dir=cache_dir,
        tree=tree,
    )
    for warning in loaded.warnings:
        log.warning("manifest_warning", problem=str(warning))
    if loaded.errors:
        raise ManifestError(loaded.problems)
    return loaded.state


def validate_tree(
    repo_root: Path,
    manifest_root: Path | None = None,
    *,
    limits: ManifestLimits = DEFAULT_LIMITS,
    default_exclude: Sequence[str] = (),
) -> list[Problem]:
    """Every problem in the manifests under ``manifest_root``; never raises for a user's
    mistake."""
    return list(
        load(repo_root, manifest_root, limits=limits, default_exclude=default_exclude).problems
    )


def load(
    repo_root: Path,
    manifest_root: Path | None = None,
    *,
    limits: ManifestLimits = DEFAULT_LIMITS,
    default_exclude: Sequence[str] = (),
    cache_dir: Path | None = None,
    tree: CommittedTree | None = None,
) -> Loaded:
    """Find, parse, validate and build; see :class:`Loaded`. ``default_exclude``: the
    repository settings file's patterns, excluded from every source folder; ``cache_dir``:
    the folder keeping parsed files by content between runs (none: parse every file);
    ``tree``: git's object IDs of ``repo_root``'s commit, with which files unchanged since
    an earlier run are not read again (none: build every file)."""
    root = Path(os.path.realpath(repo_root))
    search = Path(os.path.realpath(manifest_root)) if manifest_root is not None else root
    shown = os.path.relpath(search, root).replace(os.sep, "/")
    if shown.startswith(".."):
        problem = Problem(
            str(search),
            0,
            0,
            "",
            "the manifest folder is outside the repository",
            f"choose a folder inside {root}",
        )
        return Loaded(DesiredState(), (problem,))
    if not search.is_dir():
        what = "is a file, not a folder" if search.is_file() else "does not exist"
        problem = Problem(
            shown,
            0,
            0,
            "",
            f"the manifest folder {what}",
            f"--path names a folder relative to the top of the repository, {root}",
        )
        return Loaded(DesiredState(), (problem,))
    reader = _Reader(
        root,
        limits,
        YamlCache(cache_dir, root, limits),
        BuildCache(cache_dir, root, limits, default_exclude, tree),
    )
    scan = None
    if tree is not None and reader.built.active:
        scan = scan_committed(os.fspath(root), os.fspath(search), tree, limits.max_folder_depth)
    if scan is None:
        scan = scan_yaml(search, limits.max_folder_depth)
    for path in scan.files:
        reader.read(path)
    for link in scan.links:
        reader.link(link)
    if scan.too_deep is not None:
        reader.problems.append(
            Problem(
                scan.too_deep.relative_to(root).as_posix(),
                0,
                0,
                "",
                f"the folder is nested more than {limits.max_folder_depth} folders deep; "
                "manifests are not searched for below it",
                "flatten the folders, or give --path a folder that leaves this one out",
            )
        )
    manifests = len(reader.manifests)  # the build takes them off the list
    state, problems = _build(reader, root, limits, default_exclude)
    reader.parsed.save()
    reader.built.save()
    state = DesiredState(
        state.models, state.jobs, root="" if shown == "." else shown, deployments=state.deployments
    )
    if not manifests and not reader.problems:
        problems.append(
            Problem(
                shown if shown != "." else ".",
                0,
                0,
                "",
                "no manifests found",
                f"manifests are YAML files with apiVersion: {API_VERSION}",
                "warning",
            )
        )
    all_problems = tuple(sort_problems([*reader.problems, *problems]))
    return Loaded(state, all_problems, reader.files, manifests)


@dataclass
class _Reader:
    """Reads candidate files and sorts their documents into manifests and problems."""

    root: Path
    limits: ManifestLimits
    parsed: YamlCache
    built: BuildCache
    # Documents to build, and what unchanged files built last time, in file order.
    manifests: list[tuple[str, Document | Built]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    manifest_files: set[str] = field(default_factory=set)
    metadata: dict[str, bytes] = field(default_factory=dict)  # repository path → bytes
    files: int = 0

    def link(self, path: Path) -> None:
        """A symbolic link to a manifest is a problem (it is not read: it could point out of
        the repository, or make a manifest count twice); links to other YAML are ignored."""
        try:
            target = path.resolve()
            if not target.is_relative_to(self.root.resolve()) or not target.is_file():
                return  # outside (never read) or dangling: not a manifest of this repository
            with target.open("rb") as handle:
                raw = handle.read(self.limits.max_yaml_bytes + 1)
        except (OSError, RuntimeError):  # a loop of links, an unreadable target
            return
        if looks_like_manifest(raw):
            rel = path.relative_to(self.root).as_posix()
            self.problems.append(
                Problem(
                    rel,
                    0,
                    0,
                    "",
                    "the file is a symbolic link to a manifest; manifests are read from "
                    "regular files only",
                    "replace the link with the file, or remove it if the target is enough",
                )
            )

    def read(self, path: str) -> None:
        """Read the file at ``path`` (a string under the root, as the search gives it)."""
        rel = _relative(path, self.root)
        entry = self.built.recall(rel)
        if entry is not None:
            if entry.built is not None:  # else a YAML file holding no manifest, unchanged
                self.files += 1
                self.manifest_files.add(rel)
                self.manifests += [(built.kind, built) for built in entry.built]
            return
        with open(path, "rb") as handle:
            raw = handle.read(self.limits.max_yaml_bytes + 1)
        if not looks_like_manifest(raw):
            if os.path.basename(path) in _METADATA_NAMES and len(raw) <= self.limits.max_yaml_bytes:
                self.metadata[rel] = raw  # read once: runtime parameters are defined here
            self.built.keep_plain(rel)
            return
        self.files += 1
        self.manifest_files.add(rel)
        if len(raw) > self.limits.max_yaml_bytes:
            size = os.stat(path).st_size
            self.problems.append(
                Problem(
                    rel,
                    0,
                    0,
                    "",
                    f"the file is {size} bytes; manifest files may be at most "
                    f"{self.limits.max_yaml_bytes} bytes",
                    "split it into several files",
                )
            )
            return
        try:
            documents = self.parsed.documents(raw, rel, self.limits)
        except YamlProblem as exc:
            self.problems.append(exc.problem)
            return
        for document in documents:
            self._sort(document)

    def _sort(self, document: Document) -> None:
        if document.data is None:
            self.problems.append(
                document.problem((), "the document is empty", "remove the extra '---' separator")
            )
            return
        data = document.data
        if not isinstance(data, dict):
            self.problems.append(
                document.problem(
                    (), "a manifest must be a mapping", "start with apiVersion: and kind:"
                )
            )
            return
        api, kind = data.get("apiVersion"), data.get("kind")
        ours = (isinstance(api, str) and api.startswith("dr-gitops")) or kind in KINDS
        if not ours:
            return
        if api != API_VERSION:
            message = "apiVersion is missing" if api is None else f"unknown apiVersion {api!r}"
            self.problems.append(
                document.problem(("apiVersion",), message, f"use apiVersion: {API_VERSION}")
            )
        elif kind not in KINDS:
            message = "kind is missing" if kind is None else f"unknown kind {kind!r}"
            hint = (
                did_you_mean(str(kind), list(KINDS))
                if kind is not None
                else "add kind: CustomModel, CustomJob or Deployment"
            )
            self.problems.append(document.problem(("kind",), message, hint))
        else:
            self.manifests.append((kind, document))


def _relative(path: str, root: Path) -> str:
    top = os.fspath(root)
    if path.startswith(top) and path[len(top) : len(top) + 1] == os.sep:
        return path[len(top) + 1 :].replace(os.sep, "/")
    return Path(path).relative_to(root).as_posix()


def _build(
    reader: _Reader, root: Path, limits: ManifestLimits, default_exclude: Sequence[str] = ()
) -> tuple[DesiredState, list[Problem]]:
    lister = SourceLister(root, limits, frozenset(reader.manifest_files), default_exclude)
    context = BuildContext(root, lister, limits, reader.parsed, reader.metadata)
    problems: list[Problem] = []
    # Where each name was first defined (a recalled file's entry itself: it says where).
    first_seen: dict[tuple[str, str], Document | Built] = {}
    models: list[DesiredModel] = []
    jobs: list[DesiredJob] = []
    deployments: list[DesiredDeployment] = []
    deployment_documents: dict[ResourceKey, Document] = {}
    fresh = FreshFiles(reader.built.active)
    # Taken off the list as they are built, and remembered by where they are only: the
    # parsed documents of 10,000 manifests (values and the line of each) are freed as the
    # build goes, not held until it ends.
    pending = reader.manifests[::-1]
    reader.manifests.clear()
    while pending:
        kind, raw = pending.pop()
        if isinstance(raw, Built):  # unchanged since it built last time
            if (kind, raw.name) in first_seen:
                problems.append(_clash(raw.document(), kind, raw.name, first_seen))
                continue
            first_seen[(kind, raw.name)] = raw
            if isinstance(raw.value, DesiredModel):
                models.append(raw.value)
            else:
                jobs.append(raw.value)
            continue
        document, schema_problems = reader.parsed.checked(kind, raw)
        problems += schema_problems
        verdict = SchemaVerdict(schema_problems)
        if not verdict.clean(("metadata",)):
            fresh.spoil(raw.file)
            continue
        name = document.data["metadata"]["name"]
        if (kind, name) in first_seen:
            problems.append(_clash(document, kind, name, first_seen))
            continue
        first_seen[(kind, name)] = where(document)
        if not isinstance(document.data.get("spec"), dict):
            fresh.spoil(raw.file)
            continue
        if kind == KIND_MODEL:
            model, found = build_model(document, verdict, context)
            models += [model] if model else []
            fresh.add(document, kind, model)
        elif kind == KIND_DEPLOYMENT:
            deployment, found = build_deployment(document, verdict)
            if deployment:
                deployments.append(deployment)
                deployment_documents[deployment.key] = document
            fresh.spoil(raw.file)  # its checks need the document: read every time
        else:
            job, found = build_job(document, verdict, context)
            jobs += [job] if job else []
            fresh.add(document, kind, job)
        problems += found
    problems += _adoption_clashes(models, jobs)
    declared = frozenset(name for kind, name in first_seen if kind == KIND_MODEL)
    problems += deployment_model_problems(deployments, models, deployment_documents, declared)
    problems += deployment_id_clashes(deployments, deployment_documents)
    reader.parsed.forget(*fresh.keep(reader.built, [*reader.problems, *problems]))
    state = DesiredState(
        tuple(sorted(models, key=lambda m: m.key)),
        tuple(sorted(jobs, key=lambda j: j.key)),
        deployments=tuple(sorted(deployments, key=lambda d: d.key)),
    )
    return state, problems


def _clash(
    document: Document, kind: str, name: str, first_seen: dict[tuple[str, str], Document | Built]
) -> Problem:
    other = first_seen[(kind, name)]
    return document.problem(
        NAME,
        f"{kind} {name!r} is already defined at {other.file}:{other.line}",
        "give each manifest its own metadata.name",
    )


def _adoption_clashes(models: list[DesiredModel], jobs: list[DesiredJob]) -> list[Problem]:
    problems: list[Problem] = []
    for items in (
        [(m.location, m.adopt, str(m.key)) for m in models],
        [(j.location, j.adopt, str(j.key)) for j in jobs],
    ):
        claimed: dict[str, str] = {}
        for location, adopt, key in sorted(items, key=lambda i: i[0]):
            if adopt is None:
                continue
            if adopt.name in claimed:
                problems.append(
                    Problem(
                        location.file,
                        location.line,
                        location.document,
                        "metadata.adopt",
                        f"{claimed[adopt.name]} already adopts the object named {adopt.name!r}",
                        "adopt an object from one manifest only",
                    )
                )
            claimed.setdefault(adopt.name, key)
    return problems
