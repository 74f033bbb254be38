"""The README says where others do more, lists every apply flag, says who sharing can name,
and the emulator and the service do not fight over one port."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from controller.cli import build_parser
from controller.cli.configuration import parse_listen
from emulator.cli import build_parser as emulator_parser

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _comparison_rows() -> dict[str, list[str]]:
    section = README.split("## How it compares", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = cells[1:]
    return rows


def test_the_comparison_shows_where_the_others_do_more() -> None:
    rows = _comparison_rows()
    for topic in ("Custom model tests", "Dependency builds"):
        (row,) = [cells for name, cells in rows.items() if name.startswith(topic)]
        ours, action = row[0], row[1]
        assert ours == "not yet", (topic, ours)
        assert action.startswith("yes"), (topic, action)


def test_the_comparison_says_registry_and_deployments_are_done() -> None:
    rows = _comparison_rows()
    for topic in ("Model Registry", "Deployments"):
        (row,) = [cells for name, cells in rows.items() if name.startswith(topic)]
        assert row[0].startswith("yes"), (topic, row[0])


def test_the_flag_table_lists_every_apply_flag_that_shapes_its_output() -> None:
    table_rows = re.findall(r"^\| (`--.*?) \| ([a-z, ]+) \|", README, re.M)
    apply_flags = {
        flag
        for flags, commands in table_rows
        if "apply" in [c.strip() for c in commands.split(",")]
        for flag in re.findall(r"`(--[a-z-]+)", flags)
    }
    assert {"--output", "--auto-approve", "--connect-timeout", "--max-retries"} <= apply_flags


def test_sharing_says_groups_and_organizations_are_for_jobs_only() -> None:
    assert "users for models; users, groups and organizations for" in README
    sharing = README.split("- **Sharing**", 1)[1].split("\n- **", 1)[0]
    assert "A model is shared with users only" in sharing
    row = _comparison_rows()["Sharing"][0]
    assert "users for models" in row
    assert "organizations for jobs" in row


def test_the_emulator_and_serve_listen_on_different_ports_by_default() -> None:
    emulator_port = emulator_parser("").parse_args([]).port
    serve = build_parser().parse_args(["serve", "--repo", "."])
    _, serve_port = parse_listen(serve.listen)
    assert emulator_port != serve_port
    # The docs give the ports the code uses.
    assert f"make emulator      # dr-emulator on 127.0.0.1:{emulator_port}" in README
    emulator_doc = (ROOT / "docs" / "emulator.md").read_text(encoding="utf-8")
    assert f"http://127.0.0.1:{emulator_port}/api/v2" in emulator_doc
    assert f"--listen 0.0.0.0:{serve_port}" in README


def _apply_help() -> str:
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return " ".join(subparsers.choices["apply"].format_help().split())


def test_the_readme_and_help_say_apply_output_json_on_a_terminal_needs_auto_approve() -> None:
    """On a terminal apply shows the plan as text for approval, so `--output json` there is
    refused without `--auto-approve` (controller/cli/apply_command.py): both places say so."""
    (row,) = [
        line
        for line in README.splitlines()
        if line.startswith("| `--output text\\|json`, `--auto-approve` | apply |")
    ]
    assert "on a terminal, `--output json` needs `--auto-approve`" in row
    assert "on a terminal, json needs --auto-approve" in _apply_help()
