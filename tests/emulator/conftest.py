"""Fixtures of the emulator tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.server import EmulatorServer


@pytest.fixture
def official_client(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The official ``datarobot`` client pointed at the emulator, whose asynchronous work
    (builds, tests, training data) finishes at once: the client sleeps 5 s between polls."""
    from datarobot.client import client_configuration

    emulator.configure(asyncDelayMs=0, modelTestMs=0, dependencyBuildMs=0, trainingDataMs=0)
    with client_configuration(endpoint=emulator.api_url, token=emulator.token):
        yield emulator
