"""The Dockerfile and the Kubernetes manifests keep their promises (no Docker engine or
cluster here, so their invariants are read from the files)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.cli import build_parser
from controller.cli.configuration import parse_listen

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


@pytest.fixture(scope="module")
def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions(ROOT / "Dockerfile"):
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def args_of(stage: list[tuple[str, str]], word: str) -> list[str]:
    return [rest for name, rest in stage if name == word]


def test_the_image_is_built_in_two_stages_on_slim_python_3_11(stages) -> None:  # type: ignore[no-untyped-def]
    assert len(stages) >= 2
    base = dict(
        re.match(r"(\w+)=(\S+)", rest).groups()  # type: ignore[union-attr]
        for name, rest in instructions(ROOT / "Dockerfile")
        if name == "ARG" and "=" in rest
    )["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", base)
    assert all(args_of(stage, "FROM")[0].startswith("${PYTHON_IMAGE}") for stage in stages)


def test_the_runtime_stage_installs_the_wheel_without_extras(stages) -> None:  # type: ignore[no-untyped-def]
    build, runtime = stages[0], stages[-1]
    assert any("pip wheel" in run and "--no-deps" in run for run in args_of(build, "RUN"))
    installs = [run for run in args_of(runtime, "RUN") if "pip install" in run]
    assert installs, "the runtime stage installs the wheel"
    for run in installs:
        assert ".whl" in run
        assert "[" not in run, "no extras (test, emulator) in the image"
        assert " -e " not in run
        assert "--editable" not in run


def test_the_image_pins_every_runtime_dependency_within_its_bounds(stages) -> None:  # type: ignore[no-untyped-def]
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    (install,) = [run for run in args_of(stages[-1], "RUN") if "pip install" in run]
    assert "-c /tmp/constraints.txt" in install
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for raw in project["dependencies"]:
        requirement = Requirement(raw)
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned, f"constraints.txt does not pin {requirement.name}"
        assert requirement.specifier.contains(pinned), (raw, pinned)


def test_a_repository_mounted_by_another_user_is_trusted(stages) -> None:  # type: ignore[no-untyped-def]
    runtime = " ".join(args_of(stages[-1], "RUN"))
    assert "git config --system --add safe.directory /repo" in runtime


def test_git_is_installed_and_apt_lists_are_removed(stages) -> None:  # type: ignore[no-untyped-def]
    (apt,) = [run for run in args_of(stages[-1], "RUN") if "apt-get install" in run]
    assert "--no-install-recommends" in apt
    assert re.search(r"\bgit\b", apt)
    assert "rm -rf /var/lib/apt/lists/*" in apt


def test_the_runtime_user_is_not_root(stages) -> None:  # type: ignore[no-untyped-def]
    runtime = stages[-1]
    users = args_of(runtime, "USER")
    assert users, "the runtime stage sets a USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    position = {name: index for index, (name, _rest) in enumerate(runtime)}
    assert position["USER"] < position["ENTRYPOINT"]


def test_the_healthcheck_asks_healthz_with_python_only(stages) -> None:  # type: ignore[no-untyped-def]
    runtime = stages[-1]
    (healthcheck,) = args_of(runtime, "HEALTHCHECK")
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3 :])
    assert command[0] == "python"
    env = " ".join(args_of(runtime, "ENV"))
    assert "DR_GITOPS_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz" in env
    everything = (ROOT / "Dockerfile").read_text()
    assert "curl" not in everything
    assert "wget" not in everything


def test_compose_healthchecks_the_probe_listener_it_starts() -> None:
    """The image's HEALTHCHECK asks ``DR_GITOPS_HEALTHCHECK_URL``; compose starts a probe
    listener (on loopback: the healthcheck runs inside the container) and points it there,
    so a flood of connections on the webhook port cannot make the container unhealthy."""
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yaml").read_text())
    service = compose["services"]["dr-gitops"]
    parsed = build_parser().parse_args(
        [re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", arg) for arg in service["command"]]
    )
    assert parsed.probe_listen, "compose starts no --probe-listen"
    probe_host, probe_port = parse_listen(parsed.probe_listen, flag="--probe-listen")
    assert probe_host == "127.0.0.1"
    url = urllib.parse.urlsplit(service["environment"]["DR_GITOPS_HEALTHCHECK_URL"])
    assert (url.scheme, url.hostname, url.port, url.path) == (
        "http",
        probe_host,
        probe_port,
        "/healthz",
    )
    assert (probe_host, probe_port) != parse_listen(parsed.listen)
    assert not any(str(probe_port) in str(port) for port in service["ports"])


def test_the_entrypoint_is_dr_gitops_serving_on_the_exposed_port(stages) -> None:  # type: ignore[no-untyped-def]
    runtime = stages[-1]
    assert json.loads(args_of(runtime, "ENTRYPOINT")[0]) == ["dr-gitops"]
    command = json.loads(args_of(runtime, "CMD")[0])
    assert command[0] == "serve"
    assert command[command.index("--listen") + 1] == "0.0.0.0:8080"
    assert args_of(runtime, "EXPOSE") == ["8080"]


def test_everything_the_build_copies_exists_and_is_not_ignored(stages) -> None:  # type: ignore[no-untyped-def]
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "tests"} <= ignored
    copies = [c for stage in stages for c in args_of(stage, "COPY") if "--from=" not in c]
    for copy in copies:
        *sources, _target = shlex.split(copy)
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source not in ignored


def load(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((KUBERNETES / name).read_text()) if d]


def test_the_deployment_runs_one_replica_replaced_by_recreate() -> None:
    (deployment,) = load("deployment.yaml")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_the_probes_use_healthz_and_readyz_on_the_probe_port() -> None:
    (deployment,) = load("deployment.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "probes"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "probes"}
    http, probes = container["ports"]
    assert http == {"name": "http", "containerPort": 8080}
    assert probes == {"name": "probes", "containerPort": 8081}
    assert "--listen=0.0.0.0:8080" in container["args"]
    assert "--probe-listen=0.0.0.0:8081" in container["args"]
    assert container["args"][0] == "serve"


def test_the_pod_runs_unprivileged_and_outlives_the_shutdown_grace() -> None:
    (deployment,) = load("deployment.yaml")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    (container,) = pod["containers"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert pod["terminationGracePeriodSeconds"] > 240  # ServiceSettings.shutdown_grace_seconds
    assert "resources" in container


def test_every_config_and_secret_key_the_deployment_reads_exists() -> None:
    (deployment,) = load("deployment.yaml")
    (configmap,) = load("configmap.yaml")
    secrets = {s["metadata"]["name"]: s["stringData"] for s in load("secret.example.yaml")}
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    for env in container["env"]:
        source = env.get("valueFrom", {})
        if "configMapKeyRef" in source:
            assert source["configMapKeyRef"]["key"] in configmap["data"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            assert ref["key"] in secrets[ref["name"]]
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    for volume in volumes:
        if "secret" in volume:
            keys = {i["key"] for i in volume["secret"]["items"]}
            assert keys <= set(secrets[volume["secret"]["secretName"]])
    names = {env["name"] for env in container["env"]}
    assert {"DATAROBOT_API_TOKEN", "DR_GITOPS_WEBHOOK_SECRET_FILE"} <= names


def test_the_service_selects_the_pods_and_routes_to_unready_ones_too() -> None:
    (deployment,) = load("deployment.yaml")
    (service,) = load("service.yaml")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["publishNotReadyAddresses"] is True
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (KUBERNETES / resource).exists()
    assert "secret.example.yaml" not in kustomization["resources"]


def test_the_image_command_and_the_deployments_are_valid_serve_command_lines(stages) -> None:  # type: ignore[no-untyped-def]
    parser = build_parser()
    command = json.loads(args_of(stages[-1], "CMD")[0])
    (deployment,) = load("deployment.yaml")
    (configmap,) = load("configmap.yaml")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    kubernetes = [  # $(VAR) comes from the ConfigMap
        re.sub(r"\$\((\w+)\)", lambda m: configmap["data"][m[1]], arg) for arg in container["args"]
    ]
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yaml").read_text())
    composed = [  # ${VAR:-default} as compose fills it in without the variable set
        re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", arg)
        for arg in compose["services"]["dr-gitops"]["command"]
    ]
    for args in (command, kubernetes, composed):
        parsed = parser.parse_args(args)  # exits (fails the test) on a wrong flag
        assert parsed.command == "serve"
        assert parsed.repo
