"""deploy/ can clone a private repository, and compose keeps its port and secrets private.

The Kubernetes manifests are rendered as ``kubectl apply -k`` would (``kubectl kustomize``
when kubectl is installed, else the kustomization's resources read with PyYAML), and the
environment they give the container is fed to the controller's own settings and credential
code, so the wiring is checked against what dr-gitops really reads.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from controller.cli.configuration import (
    GIT_SSH_KEY_ENV,
    GIT_SSH_KNOWN_HOSTS_ENV,
    GIT_TOKEN_ENV,
    git_settings_from,
)
from controller.sources.credentials import credentials_for
from controller.sources.remotes import parse_remote

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"


def rendered_kustomization() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl:
        text = subprocess.run(
            [kubectl, "kustomize", str(KUBERNETES)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        return [d for d in yaml.safe_load_all(text) if d]
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    return [
        d
        for resource in kustomization["resources"]
        for d in yaml.safe_load_all((KUBERNETES / resource).read_text())
        if d
    ]


@pytest.fixture(scope="module")
def deployment() -> dict[str, Any]:
    (found,) = [d for d in rendered_kustomization() if d["kind"] == "Deployment"]
    return found


def example_secrets() -> dict[str, dict[str, str]]:
    documents = yaml.safe_load_all((KUBERNETES / "secret.example.yaml").read_text())
    return {d["metadata"]["name"]: d["stringData"] for d in documents if d}


def materialise(
    deployment: dict[str, Any], secrets: Mapping[str, Mapping[str, str]], root: Path
) -> dict[str, str]:
    """The container's environment, with every Secret volume written under ``root`` as the
    kubelet would mount it, and paths in the environment moved under ``root`` too."""
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in container["volumeMounts"]:
        secret = volumes[mount["name"]].get("secret")
        if not secret:
            continue
        folder = root / mount["mountPath"].lstrip("/")
        folder.mkdir(parents=True)
        for item in secret["items"]:
            (folder / item["path"]).write_text(secrets[secret["secretName"]][item["key"]])
    env: dict[str, str] = {}
    for variable in container["env"]:
        if "value" in variable:
            value = variable["value"]
            env[variable["name"]] = str(root) + value if value.startswith("/") else value
        elif "secretKeyRef" in variable["valueFrom"]:
            ref = variable["valueFrom"]["secretKeyRef"]
            if ref["key"] in secrets.get(ref["name"], {}):
                env[variable["name"]] = secrets[ref["name"]][ref["key"]]
    return env


def test_a_git_token_from_the_secret_reaches_git_for_https_remotes(deployment, tmp_path):
    secrets = example_secrets()
    env = materialise(deployment, secrets, tmp_path)

    assert env[GIT_TOKEN_ENV] == secrets["dr-gitops"]["git-token"]
    settings = git_settings_from(env)
    credentials = credentials_for(
        parse_remote("https://github.com/acme/datarobot-models.git"), settings, {}
    )
    assert credentials.kind == "https-token"
    assert secrets["dr-gitops"]["git-token"] in credentials.secrets


def test_an_ssh_key_and_known_hosts_from_a_secret_reach_ssh(deployment, tmp_path):
    env = materialise(deployment, example_secrets(), tmp_path)
    mount = tmp_path / "var/run/secrets/dr-gitops-git-ssh"

    settings = git_settings_from(env)
    credentials = credentials_for(
        parse_remote("git@github.com:acme/datarobot-models.git"), settings, {}
    )

    assert credentials.kind == "ssh-key"
    command = credentials.env["GIT_SSH_COMMAND"]
    assert f"-i {mount / 'ssh-privatekey'}" in command
    assert f"UserKnownHostsFile={mount / 'known_hosts'}" in command
    assert "StrictHostKeyChecking=yes" in command


def test_the_git_credentials_are_optional_and_never_world_readable(deployment):
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (token,) = [e for e in container["env"] if e["name"] == GIT_TOKEN_ENV]
    assert token["valueFrom"]["secretKeyRef"]["optional"] is True  # public repositories
    (volume,) = [
        v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "dr-gitops-git-ssh"
    ]
    assert volume["secret"]["optional"] is True
    assert volume["secret"]["defaultMode"] & 0o007 == 0
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["readOnly"] is True
    names = {e["name"] for e in container["env"]}
    assert {GIT_SSH_KEY_ENV, GIT_SSH_KNOWN_HOSTS_ENV} <= names


def compose(*files: str) -> dict[str, Any]:
    """The compose files merged as ``docker compose -f A -f B`` does for these keys."""
    merged: dict[str, Any] = {"services": {"dr-gitops": {}}, "secrets": {}}
    for name in files:
        document = yaml.safe_load((DEPLOY / name).read_text())
        service = document["services"]["dr-gitops"]
        target = merged["services"]["dr-gitops"]
        for key, value in service.items():
            if isinstance(value, dict):
                target[key] = {**target.get(key, {}), **value}
            elif isinstance(value, list) and key == "secrets":
                target[key] = list(dict.fromkeys([*target.get(key, []), *value]))
            else:
                target[key] = value
        merged["secrets"].update(document.get("secrets", {}))
    return merged


def filled(value: str, environ: Mapping[str, str]) -> str:
    """``${VAR:-default}`` as compose fills it in."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: environ.get(m[1]) or m[2], value)


def test_compose_passes_the_git_token_and_mounts_the_ssh_files(tmp_path):
    merged = compose("docker-compose.yaml", "docker-compose.ssh.yaml")
    service = merged["services"]["dr-gitops"]
    environment = {
        k: filled(str(v), {"DR_GITOPS_GIT_TOKEN": "tok-123"})
        for k, v in service["environment"].items()
    }
    assert environment[GIT_TOKEN_ENV] == "tok-123"
    for variable, secret in (
        (GIT_SSH_KEY_ENV, "git_ssh_key"),
        (GIT_SSH_KNOWN_HOSTS_ENV, "git_known_hosts"),
    ):
        assert secret in service["secrets"]
        assert environment[variable] == f"/run/secrets/{secret}"
        assert (DEPLOY / merged["secrets"][secret]["file"]).parent == DEPLOY
    assert "webhook_secret" in service["secrets"]  # the override keeps the base's secret
    # The environment compose gives is what dr-gitops reads (files under a temp root).
    for secret in ("git_ssh_key", "git_known_hosts"):
        (tmp_path / secret).write_text("x")
    moved = {k: v.replace("/run/secrets", str(tmp_path)) for k, v in environment.items()}
    credentials = credentials_for(
        parse_remote("ssh://git@example.com/acme/m.git"), git_settings_from(moved), {}
    )
    assert f"-i {tmp_path / 'git_ssh_key'}" in credentials.env["GIT_SSH_COMMAND"]


def test_compose_publishes_the_port_on_loopback_unless_told_otherwise():
    service = compose("docker-compose.yaml")["services"]["dr-gitops"]
    (port,) = service["ports"]
    assert filled(port, {}) == "127.0.0.1:8080:8080"
    assert filled(port, {"DR_GITOPS_PUBLISH": "192.0.2.10"}) == "192.0.2.10:8080:8080"


@pytest.mark.parametrize("path", ["docker-compose.yaml", "docker-compose.ssh.yaml", "README.md"])
def test_no_instruction_makes_a_secret_file_readable_by_others(path):
    text = (DEPLOY / path).read_text()
    for mode in re.findall(r"chmod\s+(?:-\w+\s+)*([0-7]{3,4})\b", text):
        assert int(mode, 8) & 0o007 == 0, f"{path}: chmod {mode} lets every local user read it"
    assert "umask 077" in (DEPLOY / "docker-compose.yaml").read_text()


def test_deploy_readme_documents_both_ways():
    text = (DEPLOY / "README.md").read_text()
    for needle in (
        GIT_TOKEN_ENV,
        GIT_SSH_KEY_ENV,
        GIT_SSH_KNOWN_HOSTS_ENV,
        "dr-gitops-git-ssh",
        "docker-compose.ssh.yaml",
        "127.0.0.1",
    ):
        assert needle in text, needle
