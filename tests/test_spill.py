"""The spill file: pages kept while the store was away read back whole, old files too."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from backlinkspider.items import Link, PageItem
from pipelines.spill import SpillFile

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_a_page_reads_back_with_every_field(tmp_path):
    link = Link("https://acme-tools.com/", "Acme", ("ugc",), "text", "acme-tools.com", "", "footer", True, "a", "b")
    page = PageItem("http://blog.example/", 200, NOW, links=[link], language="de", words=12, external_links=3)
    spill = SpillFile(tmp_path / "s.jsonl")
    assert spill.append([page]) == 1
    (back,) = spill.read()
    assert back == page


def test_a_line_an_older_version_wrote_still_reads(tmp_path):
    """Written before placements and languages: ``links_external``, no ``placement``."""
    old = {
        "type": "page", "url": "http://blog.example/", "status": 200, "fetched_at": NOW.isoformat(), "error": "",
        "title": "T", "page_nofollow": False, "page_noindex": False, "links_found": 2, "links_external": 2,
        "links": [{"url": "https://acme-tools.com/", "anchor": "Acme", "rel": [], "kind": "text",
                   "host": "acme-tools.com", "redirect_url": "", "domain": "", "link_types": None, "internal": False}],
        "redirected_from": [], "targets": ["acme-tools.com"], "host": "", "domain": "",
    }  # fmt: skip
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    (page,) = SpillFile(path).read()
    assert page.url == "http://blog.example/" and page.links[0].anchor == "Acme"
    assert page.links[0].placement == "content" and page.language is None
