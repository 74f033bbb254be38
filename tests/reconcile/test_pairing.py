"""A plan pairs manifests with live objects once, and hands that pairing to every step."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from controller.engine import ownership
from controller.model.plans import ActionKind
from tests.fixtures.workspace import Workspace


def test_planning_pairs_each_kind_once_and_plans_from_that_pairing(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.add_model("churn")
    workspace.add_job("retrain")
    workspace.commit()
    workspace.converge()
    workspace.edit_manifest("models/churn.yaml", description="two")
    workspace.commit()
    calls: Counter[str] = Counter()
    for name in ("match_models", "match_jobs"):
        real = getattr(ownership, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(ownership, name, counted)
    planned = workspace.plan()
    assert calls == {"match_models": 1, "match_jobs": 1}
    assert [a.kind for a in planned.plan.actions] == [ActionKind.UPDATE_MODEL]
