"""Helpers for the git source tests: settings pointing at a private cache folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from controller.settings import GitSettings

MakeSettings = Callable[..., GitSettings]


@pytest.fixture
def git_settings(tmp_path: Path) -> MakeSettings:
    """Build ``GitSettings`` whose cache lives in this test's temp folder."""

    def make(repo: str | Path, **values: Any) -> GitSettings:
        values.setdefault("cache_dir", tmp_path / "cache")
        return GitSettings(repo=str(repo), **values)

    return make
