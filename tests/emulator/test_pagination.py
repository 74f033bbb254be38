"""List envelopes: defaults, absolute next/previous links, totals."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse


def test_offset_and_limit_default_and_links_are_absolute(emulator_api):
    for index in range(5):
        emulator_api.create_model(name=f"m{index}")
    page = emulator_api.get("customModels/?limit=2&searchFor=m").json()
    assert (page["count"], page["totalCount"], page["previous"]) == (2, 5, None)
    link = urlparse(page["next"])
    assert f"{link.scheme}://{link.netloc}" == emulator_api.server.url
    assert link.path == "/api/v2/customModels/"
    assert parse_qs(link.query) == {"searchFor": ["m"], "offset": ["2"], "limit": ["2"]}
    second = emulator_api.get(page["next"]).json()
    assert [m["name"] for m in second["data"]] == ["m2", "m1"]
    assert parse_qs(urlparse(second["previous"]).query)["offset"] == ["0"]
    last = emulator_api.get(second["next"]).json()
    assert (last["count"], last["next"]) == (1, None)


def test_no_offset_or_limit_means_the_first_page_of_a_hundred(emulator_api):
    for index in range(3):
        emulator_api.create_model(name=f"m{index}")
    page = emulator_api.get("customModels/").json()
    assert (page["count"], page["next"], page["previous"]) == (3, None, None)


def test_bad_paging_parameters_are_a_400(emulator_api):
    assert emulator_api.get("customModels/?limit=x").status_code == 400
    assert emulator_api.get("customModels/?offset=-1").status_code == 400


def test_an_offset_past_the_end_is_an_empty_page(emulator_api):
    emulator_api.create_model()
    page = emulator_api.get("customModels/?offset=10").json()
    assert (page["count"], page["data"], page["totalCount"]) == (0, [], 1)
