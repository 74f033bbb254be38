"""Shared test set-up. Fixtures live in tests/fixtures/, one module per concept."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import settings as hypothesis_settings

# The machines are shared and noisy: Hypothesis checks properties, not speed (speed is
# measured by bench/), so no example has a deadline.
hypothesis_settings.register_profile("shared-machine", deadline=None)
hypothesis_settings.load_profile("shared-machine")

# Tests make real git commits in temp dirs: give git an identity and keep the user's
# global and system configuration out of the way so results do not depend on the machine.
os.environ.update(
    {
        "GIT_AUTHOR_NAME": "dr-gitops tests",
        "GIT_AUTHOR_EMAIL": "tests@example.invalid",
        "GIT_COMMITTER_NAME": "dr-gitops tests",
        "GIT_COMMITTER_EMAIL": "tests@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }
)
for _var in (
    "DATAROBOT_ENDPOINT",
    "DATAROBOT_API_TOKEN",
    "DATAROBOT_SSL_VERIFY",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
):
    os.environ.pop(_var, None)

pytest_plugins = [
    "tests.fixtures.gitrepos",
    "tests.fixtures.manifests",
    "tests.fixtures.githttp",
    "tests.fixtures.service",
    "tests.fixtures.emulator",
    "tests.fixtures.workspace",
    "tests.fixtures.served",
    "tests.fixtures.remote",
    "tests.fixtures.reliability",
]


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Commands run in-process configure structlog (and stdlib logging) to write to pytest's
    captured streams; put both back afterwards so no later test writes to a closed stream."""
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    logging.getLogger().handlers.clear()
