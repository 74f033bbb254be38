"""Dependency builds as documents: their state at a moment, their API view and their log.

Pure functions over a build document (see :mod:`emulator.routes.builds` for the routes);
the state is computed from the clock, so nothing runs in the background.
"""

from __future__ import annotations

import time
from typing import Any

from emulator.store import iso

TERMINAL = ("success", "failed")


def build_state(build: dict[str, Any]) -> str:
    """``submitted``, ``processing``, ``success`` or ``failed`` at this moment."""
    if build["_outcome"]:
        return str(build["_outcome"])
    now = time.time()
    if now >= build["_readyAt"]:
        return str(build["_result"])
    started = build["_startedAt"]
    return "submitted" if now < started + (build["_readyAt"] - started) / 5 else "processing"


def build_view(build: dict[str, Any]) -> dict[str, Any]:
    state = build_state(build)
    end = build["_endedAt"] if build["_outcome"] else build["_readyAt"]
    return {
        "customModelId": build["customModelId"],
        "customModelVersionId": build["id"],
        "buildStatus": state,
        "buildStart": build["buildStart"],
        "buildEnd": iso(end) if state in TERMINAL else None,
    }


def build_log(build: dict[str, Any]) -> str:
    state = build_state(build)
    lines = [f"Building the dependency environment of version {build['id']}"]
    for dependency in build["_dependencies"]:
        lines.append(f"Collecting {dependency['line']}")
        if dependency["line"] == build["_failedLine"] and state == "failed":
            lines.append(
                f"ERROR: Could not find a version that satisfies the requirement {dependency['line']}"
            )
            lines.append(f"ERROR: No matching distribution found for {dependency['packageName']}")
            break
    if build["_outcome"] == "failed":
        lines.append("Dependency build canceled by the user")
    elif state == "success":
        names = " ".join(d["packageName"] for d in build["_dependencies"])
        lines.append(f"Successfully installed {names}")
        lines.append("Dependency build succeeded")
    elif state == "failed":
        lines.append("Dependency build failed")
    return "\n".join(lines) + "\n"


def failing_line(dependencies: list[dict[str, Any]], failing: list[str]) -> str | None:
    wanted = {f.strip().lower() for f in failing}
    for dependency in dependencies:
        if dependency["packageName"].lower() in wanted or dependency["line"].lower() in wanted:
            return str(dependency["line"])
    return None
