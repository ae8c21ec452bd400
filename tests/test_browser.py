"""The stakeholder HTML in a real browser (Debian's headless Chromium driven by Selenium): it loads without console
errors, every image decodes, and the headline is visible. Screenshots land beside the report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evtools import reports

pytestmark = [pytest.mark.slow, pytest.mark.browser]
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHROMIUM, DRIVER = (
    shutil.which("chromium") or "/usr/bin/chromium",
    shutil.which("chromedriver") or "/usr/bin/chromedriver",
)


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,2000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report(tmp_path_factory, sample_dir):
    out = tmp_path_factory.mktemp("reports")
    record = reports.run_report(
        "investigation", sample_dir / "evtools.toml", out, NOTEBOOKS, only=["03_duplicates_late_appends"]
    )
    return out / record["date"] / "investigation", record


def _open(browser, path: Path):
    browser.get(path.resolve().as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length"
    )
    images = browser.execute_script("return document.images.length")
    return errors, broken, images


def test_notebook_html_renders_in_chromium(browser, report):
    folder, record = report
    errors, broken, images = _open(browser, folder / "03_duplicates_late_appends.html")
    assert errors == [] and broken == 0 and images >= 3
    body = browser.find_element("tag name", "body").text
    q = record["records"]["quality"]
    assert "Duplicates, corrections, replays and late appends" in body
    assert f"{q['duplicate_excess']:,}" in body
    browser.save_screenshot(str(folder / "03_duplicates_late_appends.png"))
    assert (folder / "03_duplicates_late_appends.png").stat().st_size > 10_000


def test_run_index_shows_the_headline(browser, report):
    folder, record = report
    errors, broken, _ = _open(browser, folder / "index.html")
    assert errors == [] and broken == 0
    headline = browser.find_element("id", "headline")
    assert headline.is_displayed() and "investigation report" in headline.text
    assert browser.find_element("id", "verdict").text == record["verdict"]
