"""The stakeholder HTML in a real browser (Debian's headless Chromium driven by Selenium, 1280 x 900): every page of
an investigation and of a daily report loads without console errors, every image decodes, no element is wider than
the window, no "NaN", "None" or "Traceback" shows, and the index shows the data's period and what to change. A
screenshot of each page is saved beside the report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CHROMIUM, DRIVER = (
    shutil.which("chromium") or "/usr/bin/chromium",
    shutil.which("chromedriver") or "/usr/bin/chromedriver",
)
WIDER = """return Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => e.tagName + '.' + e.className).slice(0, 5)"""


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_window_size(1280, 900)
    yield driver
    driver.quit()


@pytest.fixture()
def rendered(rendered_reports):
    """The shared investigation and daily report (conftest), as (folder, investigation record, daily record)."""
    return rendered_reports.out, rendered_reports.investigation, rendered_reports.daily


def _pages(out: Path) -> list[Path]:
    runs = sorted(p for p in out.glob("*/*") if p.is_dir())
    pages = [out / "index.html"] + [page for run in runs for page in sorted(run.glob("*.html"))]
    return pages + sorted(out.glob("*/daily/data_docs/index.html"))


def test_every_page_reads_cleanly_at_1280(browser, rendered):
    out, _, _ = rendered
    problems = []
    pages = _pages(out)
    assert len(pages) >= 10
    for page in pages:
        browser.get(page.resolve().as_uri())
        assert browser.execute_script("return window.innerWidth") == 1280
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        broken = browser.execute_script(
            "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length"
        )
        wider = browser.execute_script(WIDER)
        text = browser.find_element("tag name", "body").text
        bad_words = [w for w in ("NaN", "None", "Traceback") if w in text.split() or f"{w}," in text]
        name = str(page.relative_to(out))
        if errors or broken or wider or bad_words:
            problems.append(f"{name}: errors {errors[:2]}, broken images {broken}, wider {wider}, text {bad_words}")
        browser.save_screenshot(str(page.with_suffix(".png")))
        assert page.with_suffix(".png").stat().st_size > 5_000
    assert problems == []


def test_index_shows_period_verdict_and_what_to_change(browser, rendered):
    out, record, _ = rendered
    folder = out / record["date"] / "investigation"
    browser.get((folder / "index.html").resolve().as_uri())
    q = record["records"]["quality"]
    period = browser.find_element("id", "period")
    assert period.is_displayed() and f"{q['first_date']} to {q['last_date']}" in period.text
    assert browser.find_element("id", "verdict").text.startswith("The dashboard misstates")
    change = browser.find_element("id", "change")
    assert change.is_displayed() and "Count the latest version of each event_id" in change.text
    assert "Verify: evtools refresh --verify" in change.text
    # the headline, the verdict and the first ranked items fit the first screen
    assert browser.find_element("id", "wrong").location["y"] < 900


def test_daily_page_opens_with_the_verdict_and_its_reasons(browser, rendered):
    out, _, record = rendered
    page = out / record["date"] / "daily" / "daily_report.html"
    browser.get(page.resolve().as_uri())
    verdict = browser.find_element("id", "verdict")
    assert verdict.text.startswith(f"ATTENTION for {record['date']}") and verdict.location["y"] < 300
    failure = record["records"]["daily"]["validation"]["failures"][0]
    failures = browser.find_element("id", "failures")
    assert failures.location["y"] < 900
    table = browser.find_element("css selector", "tr.bad").text
    assert failure["meaning"] in table and failure["action"] in table
