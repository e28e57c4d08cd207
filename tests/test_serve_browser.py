"""The dashboard in a real browser: Debian's chromium, driven by Playwright.

Every page loads without a console error at 1280 px and 390 px and fits the
screen's width; the overview shows the report's numbers; a filter, the pager,
the CSV and disavow downloads do what the store says. Screenshots of every page
at both widths go to ``SCREENSHOT_DIR`` (default ``artifacts/screenshots``), which
``.ci/run`` keeps.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from backlinkspider.export import read_disavow_list
from tests.support.crawls import ROOT
from tests.test_serve import TARGET, _export, _key, cli

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "artifacts" / "screenshots")
PAGES = {
    "domains": "/",
    "overview": f"/d/{TARGET}",
    "backlinks": f"/d/{TARGET}/backlinks",
    "referring-domains": f"/d/{TARGET}/referring-domains",
    "anchors": f"/d/{TARGET}/anchors",
    "pages": f"/d/{TARGET}/pages",
    "broken": f"/d/{TARGET}/broken",
    "lost": f"/d/{TARGET}/lost",
    "events": f"/d/{TARGET}/events",
    "disavow": f"/d/{TARGET}/disavow",
    "crawl": "/crawl",
    "not-found": "/d/never-linked.example",
}
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium (apt-get install chromium): .ci/run installs it")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def _page(browser, width: str = "desktop"):
    w, h = WIDTHS[width]
    context = browser.new_context(viewport={"width": w, "height": h}, accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_loads_cleanly_fits_the_screen_and_is_photographed(browser, served, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _page(browser, width)
    for name, path in PAGES.items():
        response = page.goto(served.url + path)
        assert response.status == (404 if name == "not-found" else 200), path
        page.screenshot(path=str(SHOTS / f"{name}-{WIDTHS[width][0]}.png"), full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= WIDTHS[width][0], f"{path} is {wide}px wide on a {WIDTHS[width][0]}px screen"
        if name != "not-found":
            assert page.errors == [], f"{path}: {page.errors}"
        page.errors.clear()
    page.context.close()


def test_the_overview_shows_the_reports_numbers(browser, served, served_store, mongo_uri):
    report = json.loads(cli(mongo_uri, served_store, "report", TARGET, "--json"))
    page = _page(browser)
    page.goto(f"{served.url}/d/{TARGET}")
    fields = page.locator("[data-field]")
    assert fields.count() >= 10
    for i in range(fields.count()):
        element = fields.nth(i)
        value = report
        for part in element.get_attribute("data-field").split("."):
            value = value[part]
        shown = "–" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
        assert element.inner_text().strip() == shown, element.get_attribute("data-field")
    assert page.locator("svg.chart circle.dot").count() >= 1  # one day of history is a visible point
    page.context.close()


def _rows_on(page) -> list[tuple]:
    cells = page.locator("table.backlinks tbody tr")
    found = []
    for i in range(cells.count()):
        row = cells.nth(i).locator("td")
        page_url = row.nth(0).locator("a").first.inner_text().strip()
        anchor = row.nth(1).inner_text().strip()
        found.append((page_url, row.nth(2).inner_text().strip(), "" if anchor == "(empty)" else anchor))
    return found


def test_a_filter_changes_the_rows_as_the_store_says(browser, served, served_store, mongo_uri):
    page = _page(browser)
    page.goto(f"{served.url}/d/{TARGET}/backlinks")
    everything = _rows_on(page)
    page.check("input[name=status][value=lost]")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    lost = _rows_on(page)
    assert "status=lost" in page.url
    wanted = sorted(map(_key, _export(mongo_uri, served_store, "--lost")))
    assert sorted(lost) == wanted and 0 < len(lost) < len(everything)
    page.context.close()


def test_the_pager_visits_every_row_once(browser, served, served_store, mongo_uri):
    page = _page(browser, "phone")
    page.goto(f"{served.url}/d/{TARGET}/backlinks?limit=4")
    seen, pages = [], 0
    while True:
        seen += _rows_on(page)
        pages += 1
        following = page.locator("a[rel=next]")
        if following.count() == 0:
            break
        following.click()
        page.wait_for_load_state()
        assert pages < 50
    assert pages > 1 and len(seen) == len(set(seen))
    assert sorted(seen) == sorted(map(_key, _export(mongo_uri, served_store)))
    page.context.close()


def test_the_downloads_hold_what_was_asked(browser, served, served_store, mongo_uri, tmp_path):
    page = _page(browser)
    page.goto(f"{served.url}/d/{TARGET}/backlinks?status=live&link_type=follow")
    with page.expect_download() as download:
        page.click("a.download")
    path = tmp_path / "backlinks.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
    assert sorted(map(_key, rows)) == sorted(
        map(_key, _export(mongo_uri, served_store, "--live", "--link-type", "follow"))
    )
    page.goto(f"{served.url}/d/{TARGET}/disavow")
    boxes = page.locator("input[name=domain]")
    assert boxes.count() >= 3
    for i in range(boxes.count()):
        boxes.nth(i).set_checked(i in (0, 2))
    ticked = {boxes.nth(i).get_attribute("value") for i in (0, 2)}
    with page.expect_download() as download:
        page.click("button[type=submit]")
    text = Path(download.value.path()).read_text()
    assert read_disavow_list(text.splitlines()) == (ticked, set())
    page.context.close()
