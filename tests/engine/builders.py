"""Small builders of desired and live values for pure planner tests."""

from __future__ import annotations

from controller.engine.ownership import match
from controller.engine.plan import PlanInputs, make_plan
from controller.model.desired import (
    DesiredJob,
    DesiredModel,
    DesiredState,
    DesiredVersion,
    ResourceKey,
    RuntimeValue,
    SharingGrant,
    Source,
    SourceFile,
)
from controller.model.identity import Stamp, model_upid, stamped
from controller.model.live import LiveItem, LiveJob, LiveModel, LiveRuntimeParameter, LiveVersion
from controller.model.plans import Plan
from controller.model.values import Fields, GitModelVersion, Json, Location

NS = "github.com/acme/models"
SHA_OLD = "a" * 40
SHA_NEW = "b" * 40
ENV = "64d2ba178dd3f0b1fa2162f0"


def plan(inputs: PlanInputs) -> Plan:
    """The plan for ``inputs``, the manifests paired with the live objects as the engine
    pairs them (once, before planning)."""
    return make_plan(inputs, match(inputs.desired, inputs.live, inputs.namespace))


def revision(sha: str = SHA_NEW) -> GitModelVersion:
    return GitModelVersion(f"https://github.com/acme/models/commit/{sha}", sha, None, "main")


def source(
    name: str, paths: tuple[str, ...] = ("custom.py", "model-metadata.yaml", "requirements.txt")
) -> Source:
    return Source(name, tuple(SourceFile(p, f"{name}/{p}", 10) for p in sorted(paths)))


def desired_model(
    name: str = "fraud",
    *,
    fields: dict[str, Json] | None = None,
    settings: dict[str, Json] | None = None,
    runtime: dict[str, Json] | None = None,
    sharing: tuple[SharingGrant, ...] | None = None,
    paths: tuple[str, ...] = ("custom.py", "model-metadata.yaml", "requirements.txt"),
) -> DesiredModel:
    base_fields: dict[str, Json] = {
        "name": name.title(),
        "targetType": "Regression",
        "targetName": "y",
    }
    version = DesiredVersion(
        source=source(name, paths),
        settings=Fields(settings if settings is not None else {"baseEnvironmentId": ENV}),
        runtime_values=tuple(
            RuntimeValue(k, _type(v), v) for k, v in sorted((runtime or {}).items())
        ),
    )
    return DesiredModel(
        key=ResourceKey("CustomModel", name),
        location=Location(f"{name}.yaml", 1, 1),
        fields=Fields(fields if fields is not None else base_fields),
        version=version,
        sharing=sharing,
    )


def _type(value: Json) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "numeric"
    return "string"


def live_model(
    desired: DesiredModel,
    *,
    model_id: str = "m1",
    namespace: str = NS,
    fields: dict[str, Json] | None = None,
    settings: dict[str, Json] | None = None,
    runtime: dict[str, Json] | None = None,
    paths: tuple[str, ...] | None = None,
    git_sha: str | None = SHA_OLD,
    frozen: bool = False,
    deployments: int = 0,
) -> LiveModel:
    """A live model that matches ``desired`` unless told otherwise."""
    assert desired.version is not None
    files = paths if paths is not None else tuple(f.path for f in desired.version.source.files)
    version = LiveVersion(
        id="v1",
        model_id=model_id,
        label="1.0",
        major=1,
        minor=0,
        is_frozen=frozen,
        items=tuple(LiveItem(f"item-{p}", p, p.rsplit("/", 1)[-1]) for p in files),
        settings=Fields(settings if settings is not None else desired.version.settings.to_dict()),
        runtime_parameters=tuple(
            LiveRuntimeParameter(k, _type(v), None, v, v)
            for k, v in sorted((runtime or {}).items())
        ),
        git=revision(git_sha) if git_sha else None,
    )
    return LiveModel(
        id=model_id,
        user_provided_id=model_upid(namespace, desired.key.name),
        fields=Fields(fields if fields is not None else desired.fields.to_dict()),
        latest_version=version,
        deployments_count=deployments,
    )


def desired_job(
    name: str = "retrain", *, entry: str = "run.sh", runtime: dict[str, Json] | None = None
) -> DesiredJob:
    return DesiredJob(
        key=ResourceKey("CustomJob", name),
        location=Location(f"{name}.yaml", 1, 1),
        fields=Fields(name=name.title(), jobType="retraining", environmentId=ENV),
        source=source(name, ("metadata.yaml", "run.sh")),
        entry_point=entry,
        runtime_values=tuple(
            RuntimeValue(k, _type(v), v) for k, v in sorted((runtime or {}).items())
        ),
    )


def live_job(
    desired: DesiredJob, *, job_id: str = "j1", namespace: str = NS, entry: str = "run.sh"
) -> LiveJob:
    assert desired.source is not None
    items = tuple(LiveItem(f"item-{f.path}", f.path, f.path) for f in desired.source.files)
    stamp = Stamp(namespace, desired.key.name, SHA_OLD, None)
    return LiveJob(
        id=job_id,
        fields=desired.fields.replace(description=stamped("", stamp)),
        items=items,
        entry_point=f"item-{entry}",
    )


def state(*resources: DesiredModel | DesiredJob) -> DesiredState:
    return DesiredState(
        models=tuple(r for r in resources if isinstance(r, DesiredModel)),
        jobs=tuple(r for r in resources if isinstance(r, DesiredJob)),
    )
