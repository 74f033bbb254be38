"""The status page in a real browser: headless Chromium (Debian's) loads it from a running
service with the real engine against the emulator, checks the objects, their states and
links, follows a run's link, and fits a phone's width. Screenshots go to the test's tmp
dir. Skipped, saying so, only where Chromium is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.chromium import MISSING, chromium_paths, start_chromium
from tests.fixtures.workspace import Workspace

pytestmark = pytest.mark.skipif(chromium_paths() is None, reason=MISSING)


@pytest.fixture
def chromium() -> Iterator[WebDriver]:
    chrome = start_chromium()
    try:
        yield chrome
    finally:
        chrome.quit()


def _states(chrome: WebDriver) -> dict[str, str]:
    rows = chrome.find_elements(By.CSS_SELECTOR, "#objects tbody tr[data-kind]")
    return {
        f"{r.get_attribute('data-kind')}/{r.get_attribute('data-name')}": r.find_element(
            By.CSS_SELECTOR, ".state"
        ).text
        for r in rows
    }


def test_the_page_shows_objects_states_and_links_and_a_run_page_its_plan(
    workspace: Workspace, live_service: Any, chromium: WebDriver, tmp_path: Path
) -> None:
    workspace.add_model("churn", spec={"description": "Predicts churn"})
    workspace.add_model("fraud")
    workspace.add_job("nightly")
    workspace.commit("two models and a job")
    live = live_service(read_token=None)
    base = f"http://127.0.0.1:{live.port}"

    chromium.get(base + "/")
    assert chromium.title.startswith("dr-gitops")
    assert _states(chromium) == {
        "CustomModel/churn": "in sync",
        "CustomModel/fraud": "in sync",
        "CustomJob/nightly": "in sync",
    }
    churn = next(m for m in workspace.client.list_models() if m.user_provided_id.endswith("/churn"))
    hrefs = {a.get_attribute("href") for a in chromium.find_elements(By.CSS_SELECTOR, "#objects a")}
    assert f"{workspace.emulator.url}/registry/custom-models/{churn.id}" in hrefs
    assert chromium.find_element(By.ID, "controller-state").text == "running"
    chromium.save_screenshot(str(tmp_path / "status.png"))

    run_link = chromium.find_element(By.CSS_SELECTOR, "#runs tbody th a")
    run_id = run_link.text
    run_link.click()
    assert chromium.current_url == f"{base}/runs/{run_id}"
    assert chromium.find_element(By.ID, "run-result").text == "success"
    plan = chromium.find_element(By.ID, "plan").text
    assert "+ CustomModel/churn" in plan
    assert "+ CustomJob/nightly" in plan
    chromium.save_screenshot(str(tmp_path / "run.png"))
    chromium.find_element(By.LINK_TEXT, "Back to the status").click()
    assert chromium.current_url == base + "/"
    assert (tmp_path / "status.png").stat().st_size > 10_000


def test_the_page_shows_a_suspension_and_drift_and_fits_a_phone(
    workspace: Workspace,
    live_service: Any,
    chromium: WebDriver,
    tmp_path: Path,
    emulator_api: Any,
) -> None:
    workspace.add_model("churn", spec={"description": "Predicts churn"})
    workspace.commit("churn")
    live = live_service(read_token=None)
    assert live.post("/control/suspend").status == 200
    (model,) = [m for m in workspace.client.list_models() if m.user_provided_id]
    assert emulator_api.patch(f"customModels/{model.id}/", json={"description": "x"}).ok
    live.reconcile()

    chromium.set_window_size(390, 844)  # a phone
    chromium.get(f"http://127.0.0.1:{live.port}/")
    assert _states(chromium) == {"CustomModel/churn": "drifted"}
    assert chromium.find_element(By.ID, "suspended-banner").is_displayed()
    assert chromium.find_element(By.ID, "controller-state").text == "suspended"
    assert "description" in chromium.find_element(By.ID, "pending-plan").text
    overflow = chromium.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a phone"
    chromium.save_screenshot(str(tmp_path / "phone.png"))
