"""Headless Chromium from the Debian packages (``chromium``, ``chromium-driver``), driven by
Selenium 4 through the packaged chromedriver: its path is always given, so Selenium
Manager (which would download a driver) never runs, and nothing is fetched at run time.
``.ci/run`` installs both packages; where they are absent the browser tests skip, saying so.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService

BROWSERS = ("chromium", "chromium-browser")
DRIVERS = ("chromedriver",)
MISSING = (
    "Chromium is not installed (Debian packages chromium and chromium-driver; .ci/run "
    "installs them with apt-get): the browser tests of the status page are skipped"
)


def _which(names: tuple[str, ...], *extra: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in extra if Path(p).is_file()), None)


def chromium_paths() -> tuple[str, str] | None:
    """(browser, driver), or ``None`` when either is missing."""
    browser = _which(BROWSERS, "/usr/bin/chromium")
    driver = _which(DRIVERS, "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
    return (browser, driver) if browser and driver else None


def start_chromium(width: int = 1280, height: int = 900) -> webdriver.Chrome:
    """A headless Chromium with a window of ``width`` x ``height`` CSS pixels."""
    paths = chromium_paths()
    if paths is None:
        raise RuntimeError(MISSING)
    browser, driver = paths
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager, were it ever asked
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--metrics-recording-only",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(flag)
    chrome = webdriver.Chrome(options=options, service=DriverService(executable_path=driver))
    chrome.set_page_load_timeout(30)
    return chrome
