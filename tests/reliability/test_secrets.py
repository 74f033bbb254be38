"""No secret ever reaches output, logs, files or HTTP answers.

With a distinctive API token, git token (an authenticated HTTP git remote) and webhook
secret, plus wrong ones of each kind, run every command the way users do, as processes:
``validate``; ``plan`` as text, JSON and Markdown (and saved with ``--out``); ``apply``;
an ``apply`` that fails on 503s; ``apply PLANFILE``; a ``plan`` with a wrong API token and
one with a wrong git token; and ``serve`` with webhooks (signed, badly signed, GitLab
token, wrong token), a failing run, ``/status``, ``/metrics``, the status page and every run's page, and
``suspend``/``reconcile``/``resume`` with the right and a wrong control token. Everything is captured
(stdout, stderr with debug logs, saved files, the clone cache, HTTP bodies) and searched for
each secret in plain, URL-encoded, base64 (any alignment) and basic-auth forms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.server import EmulatorServer
from tests.fixtures.githttp import GitHttpServer
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.reliability import Figures
from tests.fixtures.service import request
from tests.reliability.leaks import find_leaks
from tests.reliability.processes import ServeProcess
from tests.reliability.repos import Shape, evolve, generate
from tests.reliability.soaking import ROOT

SECRETS = {
    "API token": "drapi-7Q4mZ2xv9K1pL0sT8bYc3NwE6uR5hJ-live",
    "wrong API token": "drapi-2Hs9Xk4Lp7Qz1Vb8Nm3Cw6Ty5Ur0Ei-old",
    "git token": "ghp_Rq8Zt3Lm6Vx1Nb4Kc7Hj0Pw9Sd2Fg5Ya",
    "wrong git token": "ghp_Jk2Wq7Ex4Rt9Yu1Io6Pa3Sd8Fg0Hl5Zb",
    "webhook secret": "whsec-Mv5Bn8Cx1Za4Sd7Fg0Hj3Kl6Qw9Er2Ty",
    "read token": "read-Qe4Wr7Ty0Ui3Op6As9Df2Gh5Jk8Lz1Xc",
    "control token": "ctl-Vb3Nm6Qw9Er2Ty5Ui8Op1As4Df7Gh0Jk",
    "wrong control token": "ctl-Zx8Cv5Bn2Mq9Wl6Ek3Rj0Th7Yg4Uf1Id",
}
GIT_USER = "ci"
QUICK = ("plan json", "apply saved plan", "failing apply", "wrong git token")
NAMESPACE = "reliability/secrets"


class Captured:
    """Everything the commands said, by command, to search at the end."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def add(self, name: str, text: str) -> None:
        self.texts[name] = self.texts.get(name, "") + text

    def leaks(self) -> dict[str, list[str]]:
        found = {
            name: find_leaks(text, SECRETS, usernames=[GIT_USER])
            for name, text in self.texts.items()
        }
        return {name: leaks for name, leaks in found.items() if leaks}

    @property
    def size(self) -> int:
        return sum(len(t) for t in self.texts.values())


@pytest.fixture
def secret_world(tmp_path: Path) -> Iterator[dict[str, object]]:
    """An emulator with the API token, a git HTTP server with the git token serving a
    generated repository, and the environment a CI job would have."""
    server_root = tmp_path / "git-root"
    server_root.mkdir()
    git = GitHttpServer(server_root, GIT_USER, SECRETS["git token"])
    git.start()
    emulator = EmulatorServer(port=0, token=SECRETS["API token"], threads=4).start()
    work = GitRepo(tmp_path / "work")
    shape = Shape(models=3, jobs=1, example=True, seed=11)
    generate(work, shape)
    work.commit("first")
    bare = server_root / "models.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work.path), str(bare)], check=True)
    work.git("remote", "add", "origin", str(bare))
    env = {
        **os.environ,
        "DATAROBOT_ENDPOINT": emulator.api_url,
        "DATAROBOT_API_TOKEN": SECRETS["API token"],
        "DR_GITOPS_GIT_TOKEN": SECRETS["git token"],
        "DR_GITOPS_GIT_USERNAME": GIT_USER,
        "DR_GITOPS_NAMESPACE": NAMESPACE,
        "DR_GITOPS_CACHE_DIR": str(tmp_path / "cache"),
    }
    secret_file = tmp_path / "webhook-secret"
    secret_file.write_text(SECRETS["webhook secret"] + "\n")
    for name in ("read token", "control token", "wrong control token"):
        (tmp_path / name.replace(" ", "-")).write_text(SECRETS[name] + "\n")
    try:
        yield {
            "emulator": emulator,
            "work": work,
            "shape": shape,
            "url": git.url("models.git"),
            "env": env,
            "secret_file": secret_file,
            "tmp": tmp_path,
        }
    finally:
        emulator.stop()
        git.stop()


def _run(env: dict[str, str], *args: str, timeout: float = 120) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "controller.cli", "--log-level", "debug", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def _files_text(folder: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("latin-1") for p in sorted(folder.rglob("*")) if p.is_file()
    )


def _one_shot_commands(
    world: dict[str, object], captured: Captured, *, everything: bool
) -> dict[str, int]:
    """The commands; without ``everything``, a subset that still covers each secret."""
    env, url, tmp = world["env"], str(world["url"]), world["tmp"]
    emulator: EmulatorServer = world["emulator"]  # type: ignore[assignment]
    work: GitRepo = world["work"]  # type: ignore[assignment]
    assert isinstance(env, dict)
    assert isinstance(tmp, Path)
    codes: dict[str, int] = {}

    def run(name: str, *args: str, extra: dict[str, str] | None = None) -> None:
        if everything or name in QUICK:
            codes[name], text = _run({**env, **(extra or {})}, *args)
            captured.add(name, text)

    plan_file = tmp / "saved-plan.json"
    run("validate", "validate", str(work.path))
    run("plan text", "plan", "--repo", url)
    run("plan json", "plan", "--repo", url, "--output", "json", "--out", str(plan_file))
    run("plan markdown", "plan", "--repo", url, "--output", "markdown")
    run("apply saved plan", "apply", str(plan_file), "--repo", url)
    evolve(work, world["shape"], round_=1, share=1.0)  # type: ignore[arg-type]
    work.commit("second")
    work.git("push", "-q", "origin", "HEAD:main")
    emulator.set_faults(
        {"rate": 1.0, "statuses": [503], "when": "after", "methods": ["POST", "PATCH"]}
    )
    run("failing apply", "apply", "--repo", url, "--output", "json")
    emulator.set_faults({})
    run("apply", "apply", "--repo", url)
    run("status", "status", "--repo", url, "--output", "json")
    run(
        "wrong API token",
        "plan",
        "--repo",
        url,
        extra={"DATAROBOT_API_TOKEN": SECRETS["wrong API token"]},
    )
    run(
        "wrong git token",
        "plan",
        "--repo",
        url,
        extra={
            "DR_GITOPS_GIT_TOKEN": SECRETS["wrong git token"],
            "DR_GITOPS_CACHE_DIR": str(tmp / "other-cache"),
        },
    )
    if plan_file.exists():
        captured.add("saved plan file", plan_file.read_text())
    captured.add("clone cache", _files_text(tmp / "cache"))
    return codes


def _serve_with_webhooks(world: dict[str, object], captured: Captured) -> int:
    env, emulator, tmp = world["env"], world["emulator"], world["tmp"]
    assert isinstance(env, dict)
    assert isinstance(emulator, EmulatorServer)
    assert isinstance(tmp, Path)
    emulator.set_faults(
        {
            "rate": 1.0,
            "statuses": [503],
            "when": "after",
            "methods": ["POST", "PATCH"],
            "routes": ["/api/v2/customJobs/"],
        }
    )
    served = ServeProcess(
        env,
        "--repo",
        str(world["url"]),
        "--interval",
        "3600",
        "--jitter",
        "0",
        "--listen",
        "127.0.0.1:0",
        "--webhook-secret-file",
        str(world["secret_file"]),
        "--read-token-file",
        str(tmp / "read-token"),
        "--control-token-file",
        str(tmp / "control-token"),
        "--lock-ttl",
        "5",
        log_level="debug",
    )
    try:
        port = served.port
        served.event("run_finished")
        emulator.set_faults({})
        body = json.dumps({"ref": "refs/heads/main", "after": "b" * 40}).encode()
        secret = SECRETS["webhook secret"].encode()
        good = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        answers = [
            request(
                port,
                "POST",
                "/webhooks/github",
                body,
                {"X-GitHub-Event": "push", "X-Hub-Signature-256": good},
            ),
            request(
                port,
                "POST",
                "/webhooks/github",
                body,
                {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=" + "0" * 64},
            ),
            request(
                port,
                "POST",
                "/webhooks/gitlab",
                body,
                {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": SECRETS["webhook secret"]},
            ),
            request(
                port,
                "POST",
                "/webhooks/gitlab",
                body,
                {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "not-the-secret"},
            ),
        ]
        served.event("run_finished", 2)
        # The control calls (with the right token, a wrong one, by the CLI) and the pages.
        url = f"http://127.0.0.1:{port}"
        for name, token in (("control", "control-token"), ("wrong", "wrong-control-token")):
            for action in ("suspend", "reconcile", "resume"):
                code, text = _run(env, action, "--service", url, "--token-file", str(tmp / token))
                captured.add(f"{action} ({name} token)", text)
                assert code == (0 if name == "control" else 1), text
        # Until the runs asked for are done (a resume or reconcile may coalesce with a
        # webhook's run still pending).
        read = {"Authorization": f"Bearer {SECRETS['read token']}"}
        deadline = time.monotonic() + 90
        while True:
            now = json.loads(request(port, "GET", "/status", headers=read).body)
            if now["current"] is None and now["pending"] is None and len(now["runs"]) >= 3:
                break
            assert time.monotonic() < deadline, now
            time.sleep(0.1)
        status = request(port, "GET", "/status", headers=read)
        run_ids = [r["runId"] for r in json.loads(status.body)["runs"]]
        paths = ["/", *(f"/runs/{run_id}" for run_id in run_ids)]
        pages = [status, *(request(port, "GET", path, headers=read) for path in paths)]
        assert all(page.status == 200 for page in pages)
        pages += [request(port, "GET", path) for path in ("/", "/status", "/metrics", "/readyz")]
        assert pages[-4].status == 401  # the page without the read token
        for answer in answers + pages:
            captured.add("serve HTTP answers", f"{answer.status} {answer.headers} ")
            captured.add("serve HTTP answers", answer.body.decode("latin-1"))
        assert [a.status for a in answers[:2]] == [200, 401]
    finally:
        code = served.stop()
        captured.add("serve", served.output())
    return code


def _search(world: dict[str, object], figures: Figures, *, everything: bool) -> None:
    captured = Captured()
    codes = _one_shot_commands(world, captured, everything=everything)
    serve_code = _serve_with_webhooks(world, captured)
    figures(
        f"secret search: {len(captured.texts)} captures, {captured.size} characters, "
        f"{len(SECRETS)} secrets x (plain, URL-encoded, base64, basic auth); exit codes "
        f"{codes}, serve {serve_code}; leaks: {captured.leaks() or 'none'}"
    )
    expected = {"apply saved plan": 0, "failing apply": 1, "wrong git token": 1, "plan json": 0}
    if everything:
        expected |= {
            "validate": 0,
            "plan text": 0,
            "plan markdown": 0,
            "apply": 0,
            "status": 0,
            "wrong API token": 1,
        }
    assert codes == expected
    assert serve_code == 0
    assert captured.leaks() == {}


def test_no_secret_appears_in_the_output_of_plan_apply_and_serve(
    secret_world: dict[str, object], figures: Figures
) -> None:
    _search(secret_world, figures, everything=False)


@pytest.mark.slow
def test_no_secret_appears_in_any_output_of_any_command(
    secret_world: dict[str, object], figures: Figures
) -> None:
    _search(secret_world, figures, everything=True)


def test_the_leak_detector_finds_every_form() -> None:
    secret = SECRETS["git token"]
    header = "Authorization: Basic " + base64.b64encode(f"{GIT_USER}:{secret}".encode()).decode()
    for text, form in [
        (f"x {secret} y", "plain"),
        (header, "basic-auth"),
        (base64.b64encode(b"token=" + secret.encode() + b";").decode(), "base64"),
        (base64.b64encode(b"to=" + secret.encode()).decode(), "base64"),
        (base64.b64encode(b"t=" + secret.encode()).decode(), "base64"),
        (base64.urlsafe_b64encode(b"t=" + secret.encode()).decode(), "base64"),
    ]:
        found = find_leaks(text, {"git token": secret}, usernames=[GIT_USER])
        assert any(form in leak for leak in found), (text, found)
    assert find_leaks("nothing here", SECRETS, usernames=[GIT_USER]) == []
