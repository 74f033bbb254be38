"""Dependency builds: 202, submitted → processing → success or failed, log, cancel."""

from __future__ import annotations

import time

REQUIREMENTS = "pandas>=2.0\nnumpy==1.26.4\n"


def _version(emulator_api, requirements=REQUIREMENTS):
    model = emulator_api.create_model()
    files = {"custom.py": "x = 1\n"}
    if requirements is not None:
        files["requirements.txt"] = requirements
    return model, emulator_api.create_version(model["id"], files)


def _path(model, version, route="dependencyBuild/"):
    return f"customModels/{model['id']}/versions/{version['id']}/{route}"


def _until_terminal(emulator_api, path):
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = emulator_api.get(path).json()["buildStatus"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("success", "failed"):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"the build did not finish: {seen}")


def test_a_build_progresses_to_success_and_logs_its_packages(emulator, emulator_api):
    emulator.configure(dependencyBuildMs=600)
    model, version = _version(emulator_api)
    path = _path(model, version)
    assert emulator_api.get(path).status_code == 404
    started = emulator_api.post(path)
    assert started.status_code == 202
    body = started.json()
    assert body["buildStatus"] == "submitted"
    assert body["buildStart"]
    assert body["buildEnd"] is None
    assert emulator_api.post(path).status_code == 422  # one build at a time
    assert _until_terminal(emulator_api, path) == ["submitted", "processing", "success"]
    done = emulator_api.get(path).json()
    assert done["buildEnd"] >= done["buildStart"]
    log = emulator_api.get(_path(model, version, "dependencyBuildLog/")).text
    assert "Collecting pandas>=2.0" in log
    assert "Successfully installed pandas numpy" in log
    assert emulator_api.delete(path).status_code == 409  # already finished


def test_a_requirement_the_emulator_is_told_to_fail_fails_the_build(emulator, emulator_api):
    emulator.configure(dependencyBuildMs=0, failingDependencies=["NumPy"])
    model, version = _version(emulator_api)
    answer = emulator_api.post(_path(model, version))
    assert answer.json()["buildStatus"] == "failed"
    log = emulator_api.get(_path(model, version, "dependencyBuildLog/")).text
    assert "Could not find a version that satisfies the requirement numpy==1.26.4" in log
    emulator.configure(failingDependencies=[])
    assert emulator_api.post(_path(model, version)).json()["buildStatus"] == "success"


def test_a_build_can_be_canceled_while_it_runs(emulator, emulator_api):
    emulator.configure(dependencyBuildMs=60_000)
    model, version = _version(emulator_api)
    path = _path(model, version)
    emulator_api.post(path)
    assert emulator_api.get(path).json()["buildStatus"] == "submitted"
    assert emulator_api.delete(path).status_code == 204
    assert emulator_api.get(path).json()["buildStatus"] == "failed"
    assert "canceled" in emulator_api.get(_path(model, version, "dependencyBuildLog/")).text


def test_a_version_without_dependencies_has_nothing_to_build(emulator_api):
    model, version = _version(emulator_api, requirements=None)
    answer = emulator_api.post(_path(model, version))
    assert answer.status_code == 422
    assert "no dependencies" in answer.json()["message"]
    assert emulator_api.get(_path(model, version, "dependencyBuildLog/")).status_code == 404
