"""The API token never appears in an error message, a log event or any output.

The token is searched for in raw log events (before the redactor could hide a leak), in the
rendered log output, in stdlib records (urllib3 at DEBUG), in everything printed, and in
every error raised while the emulator injects every kind of fault.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from controller import logs
from controller.remote import DataRobotClient, apierrors, read_snapshot
from emulator.server import EmulatorServer
from tests.fixtures.remote import fast_settings, model_fields, set_faults, write_files

WRONG_TOKEN = "wrong-token-Zq8yN3vK5pLm"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


def _exercise(client: DataRobotClient, emulator: EmulatorServer, tmp_path: Path) -> list[str]:
    """Run calls under faults; the text of every error raised."""
    seen: list[str] = []
    files = write_files(tmp_path, {"custom.py": "x = 1\n"})
    set_faults(
        emulator,
        script=[
            {"method": "GET", "route": "/api/v2/customModels/", "status": 503, "times": 2},
            {"method": "GET", "route": "/api/v2/customModels/", "status": 429, "retryAfter": 0},
            {"method": "GET", "route": "/api/v2/customModels/", "dropConnection": True},
            {"method": "POST", "route": "/api/v2/customModels/", "status": 503, "when": "after"},
            {
                "method": "POST",
                "route": "/api/v2/customModels/{customModelId}/versions/",
                "dropConnection": True,
            },
        ],
    )
    calls = [
        lambda: read_snapshot(client),
        lambda: client.create_model(model_fields("leaky")),
        lambda: client.create_model(model_fields("leaky")),  # 422: user provided ID taken
        lambda: client.create_version(client.list_models()[0].id, files=files),
        lambda: client.get_model("0" * 24),
        lambda: client.update_model_access(
            client.list_models()[0].id, [{"username": "nobody", "role": "USER"}]
        ),
    ]
    for call in calls:
        try:
            call()
        except apierrors.ApiError as exc:
            seen.extend([str(exc), repr(exc), repr(vars(exc))])
    return seen


def test_the_token_appears_in_no_error_log_or_output(
    emulator: EmulatorServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = io.StringIO()
    logs.configure(level="debug", json=True, stream=stream)
    caplog.set_level(logging.DEBUG)
    with capture_logs() as events, DataRobotClient(fast_settings(emulator)) as client:
        texts = _exercise(client, emulator, tmp_path)
        texts.append(repr(client) + repr(client.settings) + repr(client.http.session.auth))
    with DataRobotClient(fast_settings(emulator, token=WRONG_TOKEN)) as stranger:
        with pytest.raises(apierrors.UnauthorizedError) as caught:
            stranger.list_models()
        texts.append(str(caught.value))
        logging.getLogger("dr-gitops-test").warning("settings: %r", stranger.settings)
    out, err = capsys.readouterr()
    haystacks = {
        "errors": "\n".join(texts),
        "events": repr(events),
        "rendered": stream.getvalue(),
        "stdlib": "\n".join(r.getMessage() for r in caplog.records),
        "printed": out + err,
    }
    assert len(texts) >= 10  # the run did fail in many ways
    assert {"api_request_retried", "snapshot_read"} <= {e["event"] for e in events}
    for where, text in haystacks.items():
        for token in (emulator.token, WRONG_TOKEN):
            assert token not in text, f"token found in {where}"
    assert logs.REDACTED not in haystacks["errors"] + repr(events)  # nothing even had to be hidden
