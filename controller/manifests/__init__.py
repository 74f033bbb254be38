"""Find, parse and validate manifests; build the desired state.

Public API (the engine and the CLI use these names)::

    state = load_desired_state(repo_root, manifest_root=None)   # raises ManifestError
    problems = validate_tree(repo_root, manifest_root=None)     # never raises for a user's mistake
    loaded = load(repo_root, manifest_root=None)                 # state + problems, warnings included

``repo_root`` is the top of the git repository (sources must stay inside it);
``manifest_root`` is where manifests are searched (default: ``repo_root``).
"""

from controller.manifests.discovery import find_repo_root
from controller.manifests.earlier import (
    deployment_changes,
    earlier_source_dir,
    earlier_source_dirs,
)
from controller.manifests.limits import DEFAULT_LIMITS, ManifestLimits
from controller.manifests.loader import (
    API_VERSION,
    Loaded,
    load,
    load_desired_state,
    validate_tree,
)
from controller.manifests.problems import ManifestError, Problem
from controller.manifests.schemas import SETTINGS_SCHEMA_FILE, schema_text, settings_schema_text

__all__ = [
    "API_VERSION",
    "DEFAULT_LIMITS",
    "SETTINGS_SCHEMA_FILE",
    "Loaded",
    "ManifestError",
    "ManifestLimits",
    "Problem",
    "deployment_changes",
    "earlier_source_dir",
    "earlier_source_dirs",
    "find_repo_root",
    "load",
    "load_desired_state",
    "schema_text",
    "settings_schema_text",
    "validate_tree",
]
