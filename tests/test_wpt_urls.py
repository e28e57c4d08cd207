"""The WHATWG URL Standard's own tests (web-platform-tests ``urltestdata.json``,
BSD-3-Clause; source and licence in ``tests/data/wpt/README.md``) through the
project's resolution: every http(s) case gives the browser's ``href`` minus the
fragment and user-info, and every failure case gives no link."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ada_url import URL

from backlinkspider.links import extract
from backlinkspider.urls import canonicalize, resolve

DATA = json.loads((Path(__file__).parent / "data" / "wpt" / "urltestdata.json").read_text(encoding="utf-8"))
CASES = [c for c in DATA if isinstance(c, dict)]
HTTP = [c for c in CASES if not c.get("failure") and c.get("protocol") in ("http:", "https:")]
FAILURES = [c for c in CASES if c.get("failure")]


def _expected(case: dict) -> str:
    """The case's href without fragment and user-info: what we store."""
    url = URL(case["href"])
    url.hash = ""
    url.username = ""
    url.password = ""
    return url.href


def _id(case: dict) -> str:
    return ascii(case["input"])[:60] + (f" @ {ascii(case['base'])[:30]}" if case.get("base") else "")


def test_the_data_has_what_it_should():
    assert len(HTTP) > 200 and len(FAILURES) > 250


@pytest.mark.parametrize("case", HTTP, ids=_id)
def test_http_cases_are_the_browsers_href(case):
    assert canonicalize(case["input"], case.get("base")) == _expected(case)


@pytest.mark.parametrize("case", FAILURES, ids=_id)
def test_failures_are_no_link(case):
    assert not resolve(case["input"], case.get("base"))


def test_failures_in_a_page_are_counted_not_linked():
    # Absolute http(s) failures fail against any base, so also against the page's.
    hrefs = [c["input"] for c in FAILURES if c["input"].lower().startswith(("http://", "https://"))]
    hrefs = [h for h in hrefs if "\x00" not in h and "\ud800" not in h]
    html = "".join(f"<a href='{h.replace('&', '&amp;').replace(chr(39), '&#39;')}'>x</a>" for h in hrefs)
    page = extract(html, "http://site.com/")
    assert page.links == [] and page.links_found == len(hrefs)
    assert page.invalid_urls == len(hrefs)
