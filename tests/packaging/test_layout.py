"""The shape the code keeps (issue 16): modules named for what they hold, none too long.

- no module file name twice under ``controller/`` (``__init__.py`` and ``__main__.py`` aside),
  so a name says which module it is without its folder;
- no module over 450 lines: past that, a module holds more than one concern;
- at most a dozen gerund-named modules (``-ing.py``): a module holds a thing (``applier``,
  ``evidence``), not an activity.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

CONTROLLER = Path(__file__).resolve().parents[2] / "controller"
MODULES = sorted(
    p for p in CONTROLLER.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")
)


def test_no_module_name_appears_twice() -> None:
    names = Counter(p.name for p in MODULES)
    assert sorted(n for n, count in names.items() if count > 1) == []


def test_no_module_is_over_450_lines() -> None:
    long = {
        str(p.relative_to(CONTROLLER)): n
        for p in MODULES
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450
    }
    assert long == {}


def test_at_most_a_dozen_modules_are_named_by_a_gerund() -> None:
    gerunds = [str(p.relative_to(CONTROLLER)) for p in MODULES if p.stem.endswith("ing")]
    assert len(gerunds) <= 12, gerunds


def test_the_layout_checks_see_the_modules() -> None:
    # A wrong path would make every check above pass on nothing.
    assert len(MODULES) > 100
    assert any(p.name == "applier.py" for p in MODULES)
