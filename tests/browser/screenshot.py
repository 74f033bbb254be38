"""Write ``docs/status-page.png``, the README's picture of the status page, with the browser
tests' helper: the emulator, a repository of example models and a job, a service with the
real engine (a drift made by hand, the service suspended so the page shows it), and
headless Chromium.

    .venv/bin/python -m tests.browser.screenshot [--out docs/status-page.png]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import requests

from emulator.server import EmulatorServer
from tests.browser.chromium import start_chromium
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.statuspage import start_live_service
from tests.fixtures.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "status-page.png")
    args = parser.parse_args()
    emulator = EmulatorServer(port=0).start()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(GitRepo(Path(tmp) / "repo"), emulator, Path(tmp) / "cache")
        workspace.add_model("churn", spec={"name": "Churn", "description": "Predicts churn"})
        workspace.add_model("fraud-detector", spec={"name": "Fraud detector"})
        workspace.add_model("price-forecast", spec={"name": "Price forecast"})
        workspace.add_job("nightly-retrain")
        workspace.commit("models and a job")
        live = start_live_service(workspace, read_token=None)
        live.wait_until_idle(1, timeout=60)
        live.post("/control/suspend")
        model = next(m for m in workspace.client.list_models() if "churn" in m.user_provided_id)
        requests.patch(
            f"{emulator.api_url}/customModels/{model.id}/",
            json={"description": "changed by hand"},
            headers={"Authorization": f"Bearer {emulator.token}"},
            timeout=10,
        ).raise_for_status()
        live.reconcile()
        chrome = start_chromium(1200, 1400)
        try:
            chrome.get(f"http://127.0.0.1:{live.port}/")
            height = chrome.execute_script("return document.documentElement.scrollHeight")
            chrome.set_window_size(1200, min(int(height) + 20, 2400))
            chrome.get(f"http://127.0.0.1:{live.port}/")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            chrome.save_screenshot(str(args.out))
        finally:
            chrome.quit()
            live.stop()
            workspace.client.close()
            emulator.stop()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
