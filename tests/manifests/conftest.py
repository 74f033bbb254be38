"""Tests of the manifests layer run the CLI in-process, which configures structlog to write
to pytest's captured stderr; put logging back afterwards so later tests never write to a
closed capture stream."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()
