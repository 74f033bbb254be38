"""Settings are resolved at the command-line edge: nothing below ``controller/cli`` reads the
environment, and the settings values register nothing as a side effect."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from controller.errors import SettingError
from controller.logs import redactor
from controller.settings import ApiSettings, EngineSettings

CONTROLLER = Path(__file__).resolve().parents[2] / "controller"
# The plan comment poster is a command line of its own (`python -m
# controller.post_plan_comment`), not below dr-gitops's: its main() is its edge.
OTHER_EDGES = {"post_plan_comment.py"}
_READS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def environment_reads(source: str) -> list[str]:
    """Where ``source`` reads or changes the process environment through ``os``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in _READS
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.append(f"line {node.lineno}: os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"line {node.lineno}: from os import {a.name}" for a in node.names]
    return found


def below_the_cli() -> list[Path]:
    return sorted(
        path
        for path in CONTROLLER.rglob("*.py")
        if "cli" not in path.relative_to(CONTROLLER).parts[:1]
        and path.relative_to(CONTROLLER).as_posix() not in OTHER_EDGES
    )


def test_no_module_below_the_cli_reads_the_environment() -> None:
    modules = below_the_cli()
    assert len(modules) > 60  # the walk found the package
    reads = {
        path.relative_to(CONTROLLER).as_posix(): found
        for path in modules
        if (found := environment_reads(path.read_text(encoding="utf-8")))
    }
    assert reads == {}, "resolve it in controller/cli/configuration.py and pass a value down"


def test_the_command_line_reads_the_environment_in_one_place() -> None:
    readers = sorted(
        path.name
        for path in (CONTROLLER / "cli").rglob("*.py")
        if environment_reads(path.read_text(encoding="utf-8"))
    )
    assert readers == ["configuration.py"]


@pytest.mark.parametrize(
    "source",
    [
        "import os\nbundle = os.environ.get('REQUESTS_CA_BUNDLE')",
        "import os\nhome = os.getenv('HOME')",
        "from os import environ",
        "def f(env=None):\n    import os\n    return os.environ if env is None else env",
    ],
)
def test_the_check_finds_each_way_of_reading_it(source: str) -> None:
    assert environment_reads(source)


def test_api_settings_register_no_secret_by_being_made() -> None:
    token = "tok-made-but-never-registered-0123456789"
    ApiSettings(endpoint="https://x.example.com/api/v2", token=token)
    assert token in redactor.scrub(f"the token is {token}")


def test_a_setting_is_named_by_its_field_below_and_by_its_flag_at_the_edge() -> None:
    from controller.cli.configuration import flag_named

    with pytest.raises(SettingError) as refused:
        EngineSettings(targets=("CustomModel/a",), prune=True)
    assert str(refused.value).startswith("targets cannot be combined with prune:")
    assert str(flag_named(refused.value)).startswith("--target cannot be combined with --prune:")
