"""Many clients at once: the state stays consistent (one lock per request)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.fixtures.emulator import EmulatorApi


def test_only_one_of_many_racing_creates_gets_a_user_provided_id(emulator):
    clients = [EmulatorApi(emulator) for _ in range(8)]
    body = {
        "name": "m",
        "customModelType": "inference",
        "targetType": "Regression",
        "targetName": "y",
        "userProvidedId": "race",
    }
    with ThreadPoolExecutor(8) as pool:
        statuses = list(
            pool.map(lambda c: c.post("customModels/", json=body).status_code, clients * 3)
        )
    assert sorted(statuses) == [201] + [422] * 23


def test_racing_version_creates_get_distinct_numbers(emulator):
    clients = [EmulatorApi(emulator) for _ in range(6)]
    model = clients[0].create_model()
    clients[0].create_version(model["id"], {"a.py": "0"})

    def bump(client: EmulatorApi) -> str:
        return client.create_version(model["id"], {"a.py": "x"}, "PATCH", isMajorUpdate="false")[
            "label"
        ]

    with ThreadPoolExecutor(6) as pool:
        labels = list(pool.map(bump, clients * 4))
    assert sorted(labels, key=lambda label: int(label.split(".")[1])) == [
        f"1.{n}" for n in range(1, 25)
    ]
    versions = clients[0].get(f"customModels/{model['id']}/versions/?limit=1000").json()["data"]
    assert [v["isFrozen"] for v in versions] == [False] + [True] * 24
