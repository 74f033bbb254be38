"""Builders of live values for the pure export tests."""

from __future__ import annotations

from controller.model.live import LiveItem, LiveJob, LiveModel, LiveRuntimeParameter, LiveVersion
from controller.model.values import Fields, GitModelVersion, Json

ENV = "64d2ba178dd3f0b1fa2162f0"


def version(
    *,
    settings: dict[str, Json] | None = None,
    runtime: tuple[LiveRuntimeParameter, ...] = (),
    paths: tuple[str, ...] = ("custom.py",),
    git: GitModelVersion | None = None,
    description: str | None = None,
) -> LiveVersion:
    return LiveVersion(
        id="v1",
        model_id="m1",
        label="1.2",
        major=1,
        minor=2,
        is_frozen=False,
        items=tuple(LiveItem(f"i{n}", p) for n, p in enumerate(paths)),
        settings=Fields(
            {"baseEnvironmentId": ENV, "networkEgressPolicy": "NONE", **(settings or {})}
        ),
        runtime_parameters=runtime,
        git=git,
        description=description,
    )


def model(
    name: str = "Fraud detector",
    *,
    model_id: str = "m1",
    upid: str | None = None,
    fields: dict[str, Json] | None = None,
    latest: LiveVersion | None = None,
    created: str = "2024-01-01T00:00:00Z",
    git: GitModelVersion | None = None,
) -> LiveModel:
    base: dict[str, Json] = {
        "name": name,
        "description": "",
        "targetType": "Regression",
        "targetName": "y",
        "language": "",
        "customModelType": "inference",
        "calibratePredictions": False,
        "predictionThreshold": 0.5,
        "classLabels": None,
    }
    return LiveModel(
        id=model_id,
        user_provided_id=upid,
        fields=Fields({**base, **(fields or {})}),
        latest_version=latest if latest is not None else version(),
        git=git,
        created=created,
    )


def job(
    name: str = "Nightly retrain",
    *,
    job_id: str = "j1",
    description: str = "",
    paths: tuple[str, ...] = ("run.sh", "job.py"),
    runtime: tuple[LiveRuntimeParameter, ...] = (),
    resources: dict[str, Json] | None = None,
    created: str = "2024-01-01T00:00:00Z",
) -> LiveJob:
    items = tuple(LiveItem(f"{job_id}-i{n}", p) for n, p in enumerate(paths))
    return LiveJob(
        id=job_id,
        fields=Fields(
            {
                "name": name,
                "description": description,
                "jobType": "retraining",
                "environmentId": "64d2ba178dd3f0b1fa2162f2",
                "environmentVersionId": "64d2ba178dd3f0b1fa2163b2",
                "resources": resources or {"egressNetworkPolicy": "none", "resourceBundleId": None},
            }
        ),
        items=items,
        entry_point=items[0].id if items else None,
        runtime_parameters=runtime,
        created=created,
    )


def param(name: str, type_: str, override: Json, default: Json = None) -> LiveRuntimeParameter:
    return LiveRuntimeParameter(name, type_, default_value=default, override_value=override)  # type: ignore[arg-type]
