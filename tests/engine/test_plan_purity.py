"""The planning core is pure: an import contract keeps I/O and logging out of it."""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
CORE = ("controller.engine.plan", "controller.engine.ownership", "controller.model")
IO = ("controller.remote", "controller.sources", "controller.manifests", "controller.logs")
IO_LIBRARIES = ("structlog", "requests", "subprocess")


def test_pyproject_forbids_the_planning_core_any_io() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (purity,) = [
        c
        for c in contracts["contracts"]
        if c["type"] == "forbidden" and "controller.engine.plan" in c["source_modules"]
    ]
    assert set(CORE) <= set(purity["source_modules"])
    assert set(IO + IO_LIBRARIES) <= set(purity["forbidden_modules"])
    assert not purity.get("ignore_imports")
    assert not purity.get("allow_indirect_imports")


def test_nothing_in_the_planning_core_reaches_io_even_indirectly() -> None:
    graph = grimp.build_graph("controller", include_external_packages=True)
    for source in CORE:
        for target in IO + IO_LIBRARIES:
            chain = graph.find_shortest_chain(importer=source, imported=target, as_packages=True)
            assert chain is None, f"{source} imports {target}: {' -> '.join(chain or ())}"
