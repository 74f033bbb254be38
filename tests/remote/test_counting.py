"""Counting attempts by method, route and outcome, from several threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from controller.remote import RequestCounter
from controller.remote.routes import template_for_path

MODELS = "/api/v2/customModels/"
MODEL = "/api/v2/customModels/{customModelId}/"


def test_a_counter_tallies_by_route_outcome_and_any_combination() -> None:
    counter = RequestCounter()
    counter("GET", MODELS, 200, 0.1)
    counter("GET", MODELS, 503, 0.2)
    counter("POST", MODELS, 201, 0.3)
    counter("GET", MODEL, "connection_dropped", 0.4)
    tally = counter.snapshot()
    assert tally.total == 4
    assert tally.seconds == pytest.approx(1.0)
    assert tally.by_route() == {f"GET {MODELS}": 2, f"GET {MODEL}": 1, f"POST {MODELS}": 1}
    assert tally.by_outcome() == {"200": 1, "201": 1, "503": 1, "connection_dropped": 1}
    assert tally.count("GET") == 3
    assert tally.count(outcome=503) == 1
    assert tally.count("GET", MODELS, 200) == 1
    counter.reset()
    assert counter.total == 0


def test_a_counter_is_safe_to_share_between_threads_and_chains_another_hook() -> None:
    seen: list[str] = []
    counter = RequestCounter(chain=lambda m, r, o, e: seen.append(m))
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: counter("GET", MODELS, 200, 0.0), range(2000)))
    assert counter.total == 2000
    assert len(seen) == 2000


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v2/customModelTests/65ab0c/", "customModelTests/{customModelTestId}/"),
        ("/api/v2/status/0f6e-42/", "status/{statusId}/"),
        (
            "/prefix/api/v2/customModels/6b0/versions/6b1/download/",
            "customModels/{customModelId}/versions/{customModelVersionId}/download/",
        ),
        ("/api/v2/customModels/fromCustomModel/", "customModels/fromCustomModel/"),
    ],
)
def test_concrete_paths_map_to_their_route_templates(path: str, template: str) -> None:
    assert template_for_path(path) == template
