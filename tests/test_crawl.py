"""End-to-end: `scrapy crawl backlinks` over the multi-host test web into SecantusDB."""

from __future__ import annotations

import pytest

from backlinkspider.store import BACKLINKS, PAGES
from tests.support.crawls import run_crawl
from tests.web import sites

SEEDS = ",".join(sites.SEEDS)


@pytest.fixture(scope="module")
def target_crawl(mongo_uri, web, tmp_path_factory):
    """One crawl with targets=acme-tools.com, shared by the tests below (read-only)."""
    import pymongo

    client = pymongo.MongoClient(mongo_uri, tz_aware=True)
    db = client["test_target_crawl"]
    client.drop_database(db.name)
    before = len(web.requests)
    crawl = run_crawl(mongo_uri, db.name, web, "-a", f"seeds={SEEDS}", "-a", f"targets={sites.TARGET}")
    yield crawl, db, web.requests[before:]
    client.drop_database(db.name)
    client.close()


def _as_tuple(doc):
    return (
        doc["source_url"],
        doc["target_url"],
        doc["anchor"],
        tuple(doc["link_types"]),
        tuple(doc["rel"]),
        doc["kind"],
        doc["page_nofollow"],
    )


def test_stores_exactly_the_expected_backlinks(target_crawl):
    _, db, _ = target_crawl
    docs = list(db[BACKLINKS].find())
    got = [_as_tuple(d) for d in docs]
    assert len(got) == len(set(got)), "a backlink was stored twice"
    assert set(got) == sites.EXPECTED_TARGET_LINKS


def test_documents_carry_hosts_domains_and_dates(target_crawl):
    _, db, _ = target_crawl
    doc = db[BACKLINKS].find_one({"source_url": "http://blog.seed-site.com/"})
    assert doc["source_host"] == "blog.seed-site.com"
    assert doc["source_domain"] == "seed-site.com"
    assert doc["target_host"] == "acme-tools.com"
    assert doc["target_domain"] == "acme-tools.com"
    assert doc["internal"] is False
    assert doc["first_seen"] == doc["last_seen"]
    assert doc["first_seen"].utcoffset().total_seconds() == 0
    jane = db[BACKLINKS].find_one({"source_url": "http://janedoe.blogspot.com/p2"})
    assert jane["source_domain"] == "janedoe.blogspot.com"  # a private suffix's site
    assert db[BACKLINKS].count_documents({"target_domain": {"$ne": "acme-tools.com"}}) == 0


def test_indexes_are_created(target_crawl):
    _, db, _ = target_crawl
    info = db[BACKLINKS].index_information()
    key = next(i for i in info.values() if i["key"] == [("source_url", 1), ("target_url", 1), ("anchor", 1)])
    assert key.get("unique") is True
    keys = [i["key"][0][0] for i in info.values()]
    assert "target_domain" in keys and "source_domain" in keys
    assert any(i.get("unique") and i["key"] == [("url", 1)] for i in db[PAGES].index_information().values())


def test_scope_robots_and_nofollow_pages(target_crawl):
    _, _, requests = target_crawl
    hosts = {host for _, host, _ in requests}
    assert hosts == {"www.seed-site.com", "blog.seed-site.com", "docs.seed-site.com", "janedoe.blogspot.com"}
    paths = {path for _, host, path in requests if host == "www.seed-site.com"}
    assert "/robots.txt" in paths and "/links.html" in paths and "/landing.html" in paths
    assert "/private/secret.html" not in paths  # disallowed by robots.txt
    assert "/only-via-nofollow.html" not in paths  # linked only from a nofollow page
    assert "/bad/after.html" in paths


def test_user_agent_names_the_bot_and_a_contact(target_crawl, web):
    from backlinkspider.settings import BOT_CONTACT_URL

    assert len(web.user_agents) == 1
    (agent,) = web.user_agents
    assert "backlinkspider/" in agent and f"+{BOT_CONTACT_URL}" in agent


def test_pages_record_every_outcome(target_crawl):
    _, db, _ = target_crawl
    pages = {p["url"]: p for p in db[PAGES].find()}
    S = "http://www.seed-site.com"
    assert pages[f"{S}/links.html"]["status"] == 200
    assert pages[f"{S}/links.html"]["links_found"] == 20
    assert pages[f"{S}/links.html"]["links_stored"] == 10
    assert pages[f"{S}/links.html"]["external_links"] == 13  # distinct URLs: www.acme-tools.com/a thrice
    assert pages[f"{S}/"]["title"] == "Seed site"
    assert pages[f"{S}/meta-nofollow.html"]["page_nofollow"] is True
    assert pages[f"{S}/meta-nofollow.html"]["page_noindex"] is True
    assert pages[f"{S}/landing.html"]["status"] == 200
    assert f"{S}/redirect-me" not in pages  # stored under its final URL
    assert "http://docs.seed-site.com/" in pages  # …in canonical form, though redirected to
    assert pages["http://docs.seed-site.com/guide/start.html"]["status"] == 200  # HTTP://DOCS…:80
    assert pages[f"{S}/bad/404.html"]["status"] == 404
    assert pages[f"{S}/bad/404.html"]["links_stored"] == 0
    assert pages[f"{S}/bad/500.html"]["status"] == 500
    assert pages[f"{S}/bad/binary.html"]["error"] == "binary"
    assert pages[f"{S}/bad/image.png"]["error"] == "not_html"
    assert pages[f"{S}/bad/huge.html"]["error"] == "too_large"
    assert pages[f"{S}/bad/slow.html"]["error"] == "timeout"
    assert pages[f"{S}/bad/slow.html"]["status"] == 0


def test_bad_input_is_logged_and_counted(target_crawl):
    crawl, _, requests = target_crawl
    stats = crawl.stats
    assert stats["backlinks/pages/binary"] == 1
    assert stats["backlinks/pages/not_html"] == 1
    assert stats["backlinks/pages/too_large"] == 1
    assert stats["backlinks/pages/timeout"] == 1
    assert stats["backlinks/pages/http_404"] == 1
    assert stats["backlinks/pages/http_500"] == 1
    assert stats["retry/count"] >= 2  # the 500 and the timeout were retried once each
    assert "Fetch failed (timeout)" in crawl.stderr
    assert "Skipping binary body" in crawl.stderr
    loop = [p for _, _, p in requests if p.startswith("/bad/loop-")]
    assert 2 <= len(loop) <= 12  # the loop was cut short


def test_report_is_printed(target_crawl):
    crawl, _, _ = target_crawl
    n = len(sites.EXPECTED_TARGET_LINKS)
    assert f"backlinks into acme-tools.com: {n}" in crawl.stdout
    assert f"backlinks seen {n} ({n} new, 0 lost)" in crawl.stdout


def test_second_crawl_adds_nothing(mongo_uri, web, db):
    args = ("-a", f"seeds={SEEDS}", "-a", f"targets={sites.TARGET}")
    run_crawl(mongo_uri, db.name, web, *args)
    first = {d["_id"]: d for d in db[BACKLINKS].find()}
    pages = db[PAGES].count_documents({})
    crawl = run_crawl(mongo_uri, db.name, web, *args)
    second = {d["_id"]: d for d in db[BACKLINKS].find()}
    assert second.keys() == first.keys()
    assert db[PAGES].count_documents({}) == pages
    for key, doc in second.items():
        assert doc["first_seen"] == first[key]["first_seen"]
        assert doc["last_seen"] > first[key]["last_seen"]
    assert "(0 new, 0 lost)" in crawl.stdout


def test_without_targets_every_external_link_is_stored(mongo_uri, web, db):
    run_crawl(mongo_uri, db.name, web, "-a", f"seeds={SEEDS}")
    domains = set(db[BACKLINKS].distinct("target_domain"))
    assert domains == {
        "acme-tools.com",
        "evil.net",
        "notacme-tools.com",
        "münchen-tools.de".encode("idna").decode(),
        "janedoe.blogspot.com",
        "other-site.net",
        "johnsmith.blogspot.com",
    }
    assert db[BACKLINKS].count_documents({"internal": True}) == 0
    # janedoe.blogspot.com is external to seed-site.com, never to itself.
    jane = db[BACKLINKS].find_one({"target_domain": "janedoe.blogspot.com"})
    assert jane["source_domain"] == "seed-site.com"


def test_seeds_from_file_and_page_cap(mongo_uri, web, db, tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("# the seed site only\nhttp://www.seed-site.com/   # home\n\n")
    crawl = run_crawl(
        mongo_uri, db.name, web, "-a", f"seeds=@{seeds}", "-a", "targets=acme-tools.com", SITE_PAGE_LIMIT="3"
    )
    assert db[PAGES].count_documents({}) == 3
    assert crawl.stats["backlinks/site_page_limit_reached"] == 1
    assert db[PAGES].count_documents({"domain": "blogspot.com"}) == 0
