"""HTTP routes, one module per concept; importing this package registers them all."""

from emulator.routes import (
    admin,
    builds,
    computed,
    datasets,
    deployments,
    jobs,
    meta,
    model_tests,
    models,
    production,
    registry,
    runs,
    sharing,
    versions,
)

__all__ = [
    "admin",
    "builds",
    "computed",
    "datasets",
    "deployments",
    "jobs",
    "meta",
    "model_tests",
    "models",
    "production",
    "registry",
    "runs",
    "sharing",
    "versions",
]
