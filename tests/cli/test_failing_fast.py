"""An endpoint nobody listens on is one clear line, at once, not a minute of retries."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from controller.cli import build_parser
from controller.cli.configuration import api_settings
from tests.fixtures.workspace import Workspace


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refused_endpoint_fails_with_one_line_naming_it_and_where_it_came_from(
    workspace: Workspace,
) -> None:
    workspace.add_model("scorer")
    workspace.commit()
    endpoint = f"http://127.0.0.1:{_closed_port()}/api/v2"
    started = time.monotonic()
    result = workspace.cli(
        "plan", "--repo", str(workspace.repo.path), env={"DATAROBOT_ENDPOINT": endpoint}
    )
    elapsed = time.monotonic() - started
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err  # no retry lines before the error
    assert lines[0].startswith("error: DataRobot API GET /api/v2/")
    assert f"Connection refused) at {endpoint} (the endpoint from the environment)" in lines[0]
    assert elapsed < 30  # a generous bound: before, this took 18 s of retries
    # apply (JSON info lines without a terminal, as in CI) retries nothing either.
    applied = workspace.cli(
        "apply", "--repo", str(workspace.repo.path), env={"DATAROBOT_ENDPOINT": endpoint}
    )
    assert applied.code == 1
    assert "api_request_retried" not in applied.err
    assert [line for line in applied.err.splitlines() if line.startswith("error:")] == [
        line for line in applied.err.splitlines() if "Connection refused" in line
    ]


def test_connect_timeout_and_max_retries_flags_win_over_drconfig(tmp_path: Path) -> None:
    drconfig = tmp_path / "drconfig.yaml"
    drconfig.write_text(
        "endpoint: https://dr.example.com\ntoken: t0ken-1234\nconnect_timeout: 20\nmax_retries: 7\n"
    )
    parser = build_parser()
    from_file = api_settings(parser.parse_args(["plan", "--drconfig", str(drconfig)]), {})
    assert (from_file.connect_timeout, from_file.max_retries) == (20.0, 7)
    args = parser.parse_args(
        ["plan", "--drconfig", str(drconfig), "--connect-timeout", "2.5", "--max-retries", "0"]
    )
    assert (api_settings(args, {}).connect_timeout, api_settings(args, {}).max_retries) == (2.5, 0)
