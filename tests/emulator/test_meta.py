"""Routes beyond the reference: version, execution environments, unknown routes."""

from __future__ import annotations

ENV_IDS = [
    "64d2ba178dd3f0b1fa2162f0",
    "64d2ba178dd3f0b1fa2162f1",
    "64d2ba178dd3f0b1fa2162f2",
    "64d2ba178dd3f0b1fa2162f3",
]


def test_version_is_a_2_x_server(emulator_api):
    version = emulator_api.get("version/").json()
    assert version["versionString"].startswith("2.")
    assert version["major"] == 2


def test_the_four_seeded_environments_are_listed_with_their_latest_version(emulator_api):
    listing = emulator_api.get("executionEnvironments/").json()
    assert listing["totalCount"] == 4
    assert [env["id"] for env in listing["data"]] == ENV_IDS
    sklearn = listing["data"][0]
    assert sklearn["name"] == "[DataRobot] Python 3.11 Scikit-Learn Drop-In"
    assert sklearn["latestVersion"]["id"] == "64d2ba178dd3f0b1fa2163b0"
    assert sklearn["latestVersion"]["buildStatus"] == "success"


def test_an_environment_and_its_versions_can_be_read(emulator_api):
    env = emulator_api.get("executionEnvironments/64d2ba178dd3f0b1fa2162f2/").json()
    assert env["name"] == "[DataRobot] Python 3.11 Custom Jobs"
    versions = emulator_api.get("executionEnvironments/64d2ba178dd3f0b1fa2162f2/versions/").json()
    assert [v["id"] for v in versions["data"]] == [
        "64d2ba178dd3f0b1fa2163b2",
        "64d2ba178dd3f0b1fa2163a2",
    ]


def test_unknown_environment_is_a_404(emulator_api):
    answer = emulator_api.get("executionEnvironments/64d2ba178dd3f0b1fa2169ff/")
    assert answer.status_code == 404
    assert answer.json()["message"] == "Execution environment not found"


def test_unknown_route_is_a_json_404(emulator_api):
    answer = emulator_api.get("noSuchThing/")
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json"


def test_wrong_method_is_a_json_405(emulator_api):
    answer = emulator_api.put("version/")
    assert answer.status_code == 405
    assert answer.json()["message"]
