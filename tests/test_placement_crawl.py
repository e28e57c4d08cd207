"""End to end: where each backlink sits, as a crawl stores it and the reports and exports read it.

One crawl of ``tests/web/layout.py`` with ``scrapy crawl backlinks``; the tests
read the store, ``backlinks report --json``, ``backlinks export`` and ``backlinks target``.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from backlinkspider.demo.proxy import WebProxy
from backlinkspider.store import BACKLINKS, PAGES
from tests.support.cli import cli
from tests.support.crawls import run_crawl
from tests.web import layout
from tests.web.layout import EXPECTED, FARM_PAGES

ACME = "acme-tools.com"
POWERED = "http://acme-tools.com/"


@pytest.fixture(scope="module")
def crawled(mongo_uri):
    import pymongo

    proxy = WebProxy(layout.resolve).start()
    client = pymongo.MongoClient(mongo_uri, tz_aware=True)
    db = client["test_placement_crawl"]
    client.drop_database(db.name)
    crawl = run_crawl(
        mongo_uri, db.name, proxy, "-a", f"seeds={','.join(layout.SEEDS)}", "-a", f"targets={layout.TARGETS}"
    )
    yield crawl, db
    client.drop_database(db.name)
    client.close()
    proxy.stop()


def test_each_backlink_carries_its_placement_hidden_context_and_sitewide(crawled):
    _, db = crawled
    docs = list(db[BACKLINKS].find({"target_url": {"$in": list(EXPECTED)}}))
    got = {
        d["target_url"]: (
            d["source_url"],
            d["anchor"],
            d["placement"],
            d["hidden"],
            d["context"]["before"],
            d["context"]["after"],
            d["sitewide"],
        )
        for d in docs
    }
    assert len(docs) == len(EXPECTED)
    assert got == EXPECTED


def test_a_footer_link_on_every_page_is_sitewide_and_a_link_from_two_pages_is_not(crawled):
    _, db = crawled
    powered = list(db[BACKLINKS].find({"target_url": POWERED}))
    assert len(powered) == FARM_PAGES
    assert {(d["source_domain"], d["placement"], d["hidden"], d["sitewide"]) for d in powered} == {
        ("footer-farm.net", "footer", False, True)
    }
    other = list(db[BACKLINKS].find({"target_domain": "other-shop.com"}))
    assert len(other) == 2 and {d["sitewide"] for d in other} == {False}
    # The referring page's facts travel with each backlink.
    spade = db[BACKLINKS].find_one({"target_url": "http://acme-tools.com/spades"})
    assert spade["source_title"] == "The best spades of 2026" and spade["source_language"] == "en"
    assert spade["source_external_links"] == 11  # distinct URLs off garden-review.org


def test_pages_know_their_language_words_and_external_links(crawled):
    _, db = crawled
    pages = {p["url"]: p for p in db[PAGES].find()}
    review = pages["http://www.garden-review.org/"]
    assert review["language"] == "en"  # <html lang="en-GB">
    assert review["external_links"] == 11 and "links_external" not in review
    assert pages["http://www.garden-review.org/about.html"]["words"] == 4
    assert pages["http://www.footer-farm.net/"]["language"] == "de"  # detected from its text
    assert pages["http://www.footer-farm.net/p1.html"]["language"] == "de"  # Content-Language: de-DE, en
    assert pages["http://www.footer-farm.net/p1.html"]["external_links"] == 2


def test_the_crawl_log_and_stats_tell_of_the_sitewide_pass(crawled):
    crawl, _ = crawled
    assert crawl.stats["backlinks/sitewide/domains"] == 1
    assert "Sitewide pass over 2 referring domains" in crawl.stderr


def test_the_report_counts_placements_hidden_sitewide_anchor_categories_and_languages(crawled):
    _, db = crawled
    cli(db, "target", ACME, "--brand", "", "--keywords", "")  # empty values: back to the defaults
    profile = json.loads(cli(db, "report", ACME, "--json").stdout)
    assert profile["backlinks"]["live"] == len(EXPECTED) + FARM_PAGES
    assert profile["placements"] == {
        "content": 7,
        "nav": 1,
        "header": 1,
        "footer": 1 + FARM_PAGES,
        "aside": 1,
        "comment": 1,
        "unknown": 0,
    }
    assert profile["hidden"] == 2
    assert profile["sitewide"] == {"backlinks": FARM_PAGES + 1, "referring_domains": 1}
    # Default brand names of acme-tools.com: acme tools, acmetools, acme-tools; no keywords.
    assert {c: row["backlinks"] for c, row in profile["anchor_categories"].items() if row["backlinks"]} == {
        "branded": 1,  # Acme Tools
        "empty": 1,
        "naked_url": 1,  # acme-tools.com
        "generic": 1,  # click here
        "other": 8 + FARM_PAGES,
    }
    assert profile["anchor_categories"]["other"]["referring_domains"] == 2
    assert profile["languages"] == [
        {"language": "de", "referring_pages": FARM_PAGES},
        {"language": "en", "referring_pages": 1},
    ]
    text = cli(db, "report", ACME).stdout
    assert "Live backlinks by placement" in text and "Anchors by category" in text and "Languages" in text


def test_brand_and_keywords_change_the_categories_without_a_recrawl(crawled):
    _, db = crawled
    shown = cli(db, "target", ACME, "--brand", "Acme, Acme Tools", "--keywords", "garden shears,spades").stdout
    assert "brand:    Acme, Acme Tools" in shown and "keywords: garden shears, spades" in shown
    assert json.loads(cli(db, "target", ACME, "--json").stdout)["keywords"] == ["garden shears", "spades"]
    categories = json.loads(cli(db, "report", ACME, "--json").stdout)["anchor_categories"]
    assert {c: row["backlinks"] for c, row in categories.items() if row["backlinks"]} == {
        "branded": 3 + FARM_PAGES,  # Acme Tools, Acme, Acme border spade, Powered by Acme
        "empty": 1,
        "naked_url": 1,
        "exact_match": 1,  # garden shears
        "partial_match": 1,  # cheap spades
        "generic": 1,
        "other": 4,  # Shop, this shop, Our sponsor, Spaten
    }
    cli(db, "target", ACME, "--brand", "", "--keywords", "")


def _export(db, *args: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(cli(db, "export", ACME, *args).stdout)))


def test_export_has_the_new_columns_and_filters(crawled):
    _, db = crawled
    rows = _export(db)
    assert len(rows) == len(EXPECTED) + FARM_PAGES
    spade = next(r for r in rows if r["target_url"] == "http://acme-tools.com/spades")
    assert {k: spade[k] for k in ("placement", "hidden", "sitewide", "anchor_category", "context_before")} == {
        "placement": "content",
        "hidden": "False",
        "sitewide": "False",
        "anchor_category": "other",
        "context_before": "We tested a dozen spades this spring. The",
    }
    assert spade["referring_page_title"] == "The best spades of 2026"
    assert spade["referring_page_language"] == "en" and spade["referring_page_external_links"] == "11"

    footer = _export(db, "--placement", "footer")
    assert len(footer) == 1 + FARM_PAGES and {r["placement"] for r in footer} == {"footer"}
    assert len(_export(db, "--placement", "nav,aside", "--placement", "comment")) == 3
    assert len(_export(db, "--no-hidden")) == len(EXPECTED) + FARM_PAGES - 2
    assert len(_export(db, "--follow-only")) == len(EXPECTED) + FARM_PAGES - 1  # the comment's rel=ugc
    best = _export(db, "--one-per-domain")
    assert sorted(r["referring_domain"] for r in best) == ["footer-farm.net", "garden-review.org"]
    for row in best:  # followed, in the content, visible: the footer's sitewide link is not the pick
        assert row["placement"] == "content" and row["hidden"] == "False" and row["link_type"] == "follow"
    assert next(r for r in best if r["referring_domain"] == "footer-farm.net")["anchor"] == "Spaten"
    refused = cli(db, "export", ACME, "--placement", "sidebar", check=False)
    assert refused.returncode != 0 and "unknown placement(s) sidebar" in refused.stderr
