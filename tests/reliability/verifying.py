"""Checking, through the public API and nothing else, that DataRobot holds exactly what the
manifests ask for.

The verifier shares no code with the controller's client or planner: it reads the API with
plain ``requests`` (following ``next`` links) and compares what it reads with the desired
state the manifests describe (``controller.manifests`` builds that; it is the user's
contract, not the engine's opinion) and with the file bytes in the git checkout. Every
difference becomes one line of :attr:`Verdict.problems`; a clean run has none.

What it checks, per managed object:

* exactly one model per ``userProvidedId`` and one job per ownership stamp (no duplicate,
  none missing, none unexpected in the namespace);
* model and job fields; version settings; runtime values (set ones, and defaults for the
  rest); sharing as declared (role and ``canShare``);
* the expected number of versions per model, one per commit that changed its content (a
  moved folder or a file mode is no change), each from a distinct commit of the history,
  the newest stamped with the head commit (``gitModelVersion``); each job stamped with the
  commit that last changed it (no write without a change);
* every file of the newest version (from its zip download) and of every job (from its
  items) byte for byte; no extra file; the job's entry point;
* bystanders (objects the controller does not own) unchanged.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from controller.model.desired import DesiredJob, DesiredModel, DesiredState, SharingGrant
from controller.model.identity import lock_upid, upid_prefix
from tests.reliability.bystanders import Bystander

_STAMP = re.compile(r"\[dr-gitops ns=(\S+) name=(\S+)[^\]]*\]\s*$")
_STAMP_COMMIT = re.compile(r"\[dr-gitops [^\]]*\bcommit=([0-9a-f]{40})[^\]]*\]\s*$")


class LiveApi:
    """A bare ``requests`` reader of the API (retries nothing: faults must be off)."""

    def __init__(self, api_url: str, token: str) -> None:
        self.base = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.requests = 0

    def get(self, path: str, **params: Any) -> requests.Response:
        url = path if path.startswith("http") else f"{self.base}/{path}"
        self.requests += 1
        answer = self.session.get(url, params=params or None, timeout=60)
        answer.raise_for_status()
        return answer

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        page = self.get(path, limit=100, **params).json()
        while True:
            yield from page["data"]
            if not page.get("next"):
                return
            page = self.get(page["next"]).json()

    def close(self) -> None:
        self.session.close()


@dataclass
class Expectations:
    """What the runs should have produced besides the manifests themselves."""

    namespace: str
    head: str
    history: Sequence[str]  # every commit applied so far, oldest first
    versions: Mapping[str, Sequence[str]]  # model name -> commits of its versions, oldest first
    model_commits: Mapping[str, str] = field(default_factory=dict)  # of the last field change
    job_commits: Mapping[str, str] = field(default_factory=dict)  # job name -> of its last change
    ref_name: str = "main"
    bystanders: Sequence[Bystander] = ()


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def summary(self) -> str:
        c = self.counts
        return (
            f"{c['models']} models, {c['versions']} versions, {c['jobs']} jobs, "
            f"{c['files']} files compared by content, {c['values']} runtime values, "
            f"{c['grants']} grants, {c['bystanders']} bystanders; "
            f"duplicates={c['duplicates']} missing={c['missing']} "
            f"unexpected={c['unexpected']} problems={len(self.problems)}"
        )

    def assert_clean(self) -> None:
        shown = "\n".join(self.problems[:40])
        assert not self.problems, f"{len(self.problems)} problems ({self.summary()}):\n{shown}"


def verify(api: LiveApi, repo_root: Path, desired: DesiredState, expect: Expectations) -> Verdict:
    """Compare DataRobot with ``desired`` (read from ``repo_root`` at ``expect.head``)."""
    verdict = Verdict()
    _verify_models(api, repo_root, desired, expect, verdict)
    _verify_jobs(api, repo_root, desired, expect, verdict)
    _verify_bystanders(api, expect, verdict)
    return verdict


# --- models ------------------------------------------------------------------------------


def _verify_models(
    api: LiveApi, root: Path, desired: DesiredState, expect: Expectations, verdict: Verdict
) -> None:
    prefix, lock = upid_prefix(expect.namespace), lock_upid(expect.namespace)
    by_upid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for model in api.pages("customModels/"):
        upid = model.get("userProvidedId") or ""
        if upid.startswith(prefix) and upid != lock:
            by_upid[upid].append(model)
    wanted = {prefix + m.key.name: m for m in desired.models}
    for upid in sorted(set(by_upid) - set(wanted)):
        verdict.counts["unexpected"] += 1
        verdict.problem(f"model {upid}: in the namespace but in no manifest")
    for upid, model in sorted(wanted.items()):
        found = by_upid.get(upid, [])
        if len(found) != 1:
            verdict.counts["duplicates" if found else "missing"] += 1
            verdict.problem(f"model {upid}: {len(found)} copies in DataRobot, want 1")
            continue
        verdict.counts["models"] += 1
        _verify_model(api, root, model, found[0], expect, verdict)


def _verify_model(
    api: LiveApi,
    root: Path,
    model: DesiredModel,
    live: dict[str, Any],
    expect: Expectations,
    verdict: Verdict,
) -> None:
    where = f"model {model.key.name}"
    _compare_fields(where, model.fields, live, verdict)
    _verify_git(
        where,
        live.get("gitModelVersion") or {},
        expect.model_commits.get(model.key.name),
        expect,
        verdict,
    )
    versions = list(api.pages(f"customModels/{live['id']}/versions/"))
    verdict.counts["versions"] += len(versions)
    want = list(reversed(expect.versions.get(model.key.name, [expect.head])))
    if len(versions) != len(want):
        verdict.counts["duplicates" if len(versions) > len(want) else "missing"] += 1
        verdict.problem(f"{where}: {len(versions)} versions, want {len(want)}")
    shas = [(v.get("gitModelVersion") or {}).get("mainBranchCommitSha") for v in versions]
    if shas != want:
        verdict.problem(f"{where}: versions made from commits {_short(shas)}, want {_short(want)}")
    if not versions or model.version is None:
        return
    newest = versions[0]
    _verify_git(
        f"{where} version {newest['label']}",
        newest.get("gitModelVersion") or {},
        want[0],
        expect,
        verdict,
    )
    held_settings = {**newest, **_training_settings(newest)}
    _compare_fields(
        f"{where} version {newest['label']}", model.version.settings, held_settings, verdict
    )
    _verify_values(where, model.version, newest.get("runtimeParameters") or [], verdict)
    wanted_files = {f.path: (root / f.repo_path).read_bytes() for f in model.version.source.files}
    paths = [i["filePath"] for i in newest["items"]]
    if len(set(paths)) != len(paths):
        verdict.problem(f"{where}: the newest version holds a path twice: {sorted(paths)}")
    zipped = api.get(f"customModels/{live['id']}/versions/{newest['id']}/download/").content
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        held = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    _compare_files(where, wanted_files, held, verdict)
    if model.sharing is not None:
        grants = list(api.pages(f"customModels/{live['id']}/accessControl/"))
        live_grants = {("user", g["username"]): (g["role"], g.get("canShare")) for g in grants}
        _compare_grants(where, model.sharing, live_grants, verdict)


def _verify_git(
    where: str, git: Mapping[str, Any], want: str | None, expect: Expectations, verdict: Verdict
) -> None:
    """``gitModelVersion`` names ``want`` (any applied commit when ``None``), with its URL
    and the branch."""
    sha = git.get("mainBranchCommitSha")
    wrong = sha != want if want else sha not in expect.history
    if wrong:
        verdict.problem(f"{where}: gitModelVersion is {git}, want commit {want or 'applied'}")
    elif str(sha) not in str(git.get("commitUrl") or "") or git.get("refName") != expect.ref_name:
        verdict.problem(f"{where}: gitModelVersion {git} has a wrong commitUrl or refName")


def _short(shas: Sequence[str | None]) -> list[str]:
    return [(s or "none")[:8] for s in shas]


# --- jobs --------------------------------------------------------------------------------


def _verify_jobs(
    api: LiveApi, root: Path, desired: DesiredState, expect: Expectations, verdict: Verdict
) -> None:
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for job in api.pages("customJobs/"):
        stamp = _STAMP.search(job.get("description") or "")
        if stamp and stamp.group(1) == expect.namespace:
            by_name[stamp.group(2)].append(job)
    wanted = {j.key.name: j for j in desired.jobs}
    for name in sorted(set(by_name) - set(wanted)):
        verdict.counts["unexpected"] += 1
        verdict.problem(f"job {name}: stamped with the namespace but in no manifest")
    for name, job in sorted(wanted.items()):
        found = by_name.get(name, [])
        if len(found) != 1:
            verdict.counts["duplicates" if found else "missing"] += 1
            verdict.problem(f"job {name}: {len(found)} copies in DataRobot, want 1")
            continue
        verdict.counts["jobs"] += 1
        _verify_job(api, root, job, found[0], verdict)
        stamped = _STAMP_COMMIT.search(found[0].get("description") or "")
        want = expect.job_commits.get(name)
        if want and (stamped.group(1) if stamped else None) != want:
            verdict.problem(
                f"job {name}: stamped with commit {stamped.group(1)[:8] if stamped else None}, "
                f"want {want[:8]} (the commit that last changed it)"
            )


def _verify_job(
    api: LiveApi, root: Path, job: DesiredJob, live: dict[str, Any], verdict: Verdict
) -> None:
    where = f"job {job.key.name}"
    fields = dict(job.fields)
    description = str(fields.pop("description", "") or "")
    resources = fields.pop("resources", None)
    _compare_fields(where, fields, live, verdict)
    if _STAMP.sub("", live.get("description") or "").rstrip() != description.rstrip():
        verdict.problem(f"{where}: description {live.get('description')!r}, want {description!r}")
    if isinstance(resources, Mapping):
        for key, want in resources.items():
            got = (live.get("resources") or {}).get(key)
            if str(got).lower() != str(want).lower():
                verdict.problem(f"{where}: resources.{key} is {got!r}, want {want!r}")
    _verify_values(where, job, live.get("runtimeParameters") or [], verdict)
    items = live.get("items") or []
    paths = [i["filePath"] for i in items]
    if len(set(paths)) != len(paths):
        verdict.problem(f"{where}: holds a path twice: {sorted(paths)}")
    held = {
        i["filePath"]: api.get(f"customJobs/{live['id']}/items/{i['id']}/")
        .json()["content"]
        .encode()
        for i in items
    }
    wanted = (
        {f.path: (root / f.repo_path).read_bytes() for f in job.source.files} if job.source else {}
    )
    _compare_files(where, wanted, held, verdict)
    entry = next((i["filePath"] for i in items if i["id"] == live.get("entryPoint")), None)
    if entry != job.entry_point:
        verdict.problem(f"{where}: entry point is {entry!r}, want {job.entry_point!r}")
    if job.sharing is not None:
        roles = api.pages(f"customJobs/{live['id']}/sharedRoles/")
        live_grants: dict[tuple[str, str], tuple[str, Any]] = {}
        for g in roles:
            for name in (g["name"], g["id"]):
                live_grants[(g["shareRecipientType"], name)] = (g["role"], g.get("canShare"))
        _compare_grants(where, job.sharing, live_grants, verdict, by_both=True)


# --- shared comparisons -----------------------------------------------------------------


def _training_settings(version: Mapping[str, Any]) -> dict[str, Any]:
    """The version's training and holdout data under the manifest's flat names."""
    training = version.get("trainingData") or {}
    holdout = version.get("holdoutData") or {}
    return {
        "trainingDatasetId": training.get("datasetId"),
        "trainingDatasetVersionId": training.get("datasetVersionId"),
        "holdoutDatasetId": holdout.get("datasetId"),
        "partitionColumn": holdout.get("partitionColumn"),
    }


def _compare_fields(
    where: str, wanted: Mapping[str, Any], live: Mapping[str, Any], verdict: Verdict
) -> None:
    for key, want in wanted.items():
        got = live.get(key)
        if not _same(got, want):
            verdict.problem(f"{where}: {key} is {got!r}, want {want!r}")


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return got is want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return math.isclose(float(got), float(want), rel_tol=1e-9)
    if isinstance(want, Mapping) and isinstance(got, Mapping):
        return all(_same(got.get(k), v) for k, v in want.items())
    if isinstance(want, list | tuple) and isinstance(got, list | tuple):
        return len(want) == len(got) and all(_same(g, w) for g, w in zip(got, want, strict=True))
    return bool(got == want)


def _verify_values(
    where: str, holder: Any, live: Sequence[Mapping[str, Any]], verdict: Verdict
) -> None:
    by_name = {p["fieldName"]: p for p in live}
    values = {v.field_name: v.value for v in holder.runtime_values}
    for definition in holder.runtime_definitions:
        param = by_name.get(definition.field_name)
        if param is None:
            verdict.problem(f"{where}: runtime parameter {definition.field_name} is not defined")
            continue
        verdict.counts["values"] += 1
        if definition.field_name in values:
            want, got = values[definition.field_name], param.get("currentValue")
            if not _same(got, want):
                verdict.problem(f"{where}: {definition.field_name} is {got!r}, want {want!r}")
        elif param.get("overrideValue") is not None:
            verdict.problem(
                f"{where}: {definition.field_name} is overridden with "
                f"{param['overrideValue']!r} but the manifest leaves it at its default"
            )
    for name in sorted(set(by_name) - {d.field_name for d in holder.runtime_definitions}):
        verdict.problem(f"{where}: runtime parameter {name} is not in the definitions")


def _compare_files(
    where: str, wanted: Mapping[str, bytes], held: Mapping[str, bytes], verdict: Verdict
) -> None:
    for path in sorted(set(wanted) | set(held)):
        if path not in held:
            verdict.counts["missing_files"] += 1
            verdict.problem(f"{where}: file {path} is missing")
        elif path not in wanted:
            verdict.problem(f"{where}: file {path} should not be there")
        elif held[path] != wanted[path]:
            verdict.problem(
                f"{where}: file {path} differs ({_digest(held[path])} != {_digest(wanted[path])})"
            )
        else:
            verdict.counts["files"] += 1


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


def _compare_grants(
    where: str,
    wanted: Sequence[SharingGrant],
    live: Mapping[tuple[str, str], tuple[str, Any]],
    verdict: Verdict,
    *,
    by_both: bool = False,
) -> None:
    matched = 0
    for grant in wanted:
        got = live.get((grant.recipient_type, grant.recipient))
        verdict.counts["grants"] += 1
        if got is None:
            verdict.problem(f"{where}: {grant.recipient_type} {grant.recipient} has no role")
            continue
        matched += 1
        role, can_share = got
        if role != grant.role or (grant.can_share is not None and can_share != grant.can_share):
            verdict.problem(
                f"{where}: {grant.recipient} is {role}/canShare={can_share}, want "
                f"{grant.role}/canShare={grant.can_share}"
            )
    held = len(live) // (2 if by_both else 1)
    if held != matched:
        verdict.problem(f"{where}: {held} grants in DataRobot, {len(wanted)} declared")


# --- bystanders --------------------------------------------------------------------------


def _verify_bystanders(api: LiveApi, expect: Expectations, verdict: Verdict) -> None:
    for thing in expect.bystanders:
        path = "customModels" if thing.kind == "model" else "customJobs"
        try:
            live = api.get(f"{path}/{thing.id}/").json()
        except requests.HTTPError as exc:
            verdict.problem(f"bystander {thing.kind} {thing.id}: gone ({exc})")
            continue
        verdict.counts["bystanders"] += 1
        if (live.get("description") or "") != thing.description:
            verdict.problem(f"bystander {thing.kind} {thing.id}: description changed")
        if thing.kind == "model":
            versions = len(list(api.pages(f"customModels/{thing.id}/versions/")))
            if versions != thing.versions:
                verdict.problem(
                    f"bystander model {thing.id}: {versions} versions, was {thing.versions}"
                )
