"""Request counters per route template and status, and writes."""

from __future__ import annotations

MODEL = {"name": "m", "customModelType": "inference", "targetType": "Regression", "targetName": "y"}


def test_requests_are_counted_per_route_template_and_status(emulator_api):
    model = emulator_api.post("customModels/", json=MODEL).json()
    emulator_api.get(f"customModels/{model['id']}/")
    emulator_api.get("customModels/ffffffffffffffffffffffff/")
    emulator_api.post("customModels/", json={"name": "no type"})
    stats = emulator_api.admin("GET", "stats").json()
    assert stats["total"] == 4
    assert stats["writes"] == 1
    routes = stats["routes"]
    assert routes["POST /api/v2/customModels/"] == {"count": 2, "statuses": {"201": 1, "422": 1}}
    assert routes["GET /api/v2/customModels/{customModelId}/"] == {
        "count": 2,
        "statuses": {"200": 1, "404": 1},
    }


def test_admin_requests_are_not_counted(emulator_api):
    emulator_api.admin("GET", "state")
    assert emulator_api.admin("GET", "stats").json()["total"] == 0


def test_reset_zeroes_the_counters(emulator, emulator_api):
    emulator_api.get("version/")
    emulator.reset()
    assert emulator.stats() == {
        "total": 0,
        "writes": 0,
        "faults": {"injected": 0, "dropped": 0, "delayed": 0},
        "routes": {},
    }
