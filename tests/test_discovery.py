"""Sites nobody named: ``-a expand=N``, the site order, the ``sites`` collection, ``-a max_pages``."""

from __future__ import annotations

import json
import math
import pickle
import subprocess
from collections import Counter
from datetime import datetime, timezone

import pytest

from backlinkspider.demo.proxy import WebProxy
from backlinkspider.discovery import BFS, FOCUSED, Profile, SiteQueue, Weights, unit_vector
from backlinkspider.items import SiteUpdate
from backlinkspider.store.sites import site_ops
from tests.support.cli import cli
from tests.support.crawls import ROOT, crawl_command, run_crawl
from tests.web import expanding

NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)


# -- the order ---------------------------------------------------------------------


def _queue(order: str = FOCUSED, expand: int = 3, weights: Weights | None = None, **knobs: float) -> SiteQueue:
    queue = SiteQueue(expand, order, weights or Weights(**knobs))
    queue.add_seed("seed.com")
    return queue


def _popped(queue: SiteQueue) -> list[str]:
    out = []
    while (site := queue.pop()) is not None:
        out.append(site.domain)
    return out


def test_distinct_linking_sites_and_co_citation_order_the_queue():
    queue = _queue(relevance_boost=0, cocitation_boost=4.0)
    queue.hops.update({"a.com": 0, "b.com": 0, "x.com": 0})
    for page in range(5):  # one site's many pages: counts once
        queue.saw(f"http://x.com/{page}", "x.com", {"many-pages.com": "http://many-pages.com/"}, False, {}, NOW)
    queue.saw("http://a.com/", "a.com", {"two-sites.com": "http://two-sites.com/"}, False, {}, NOW)
    queue.saw("http://b.com/", "b.com", {"two-sites.com": "http://two-sites.com/"}, False, {}, NOW)
    # Linked from a page that also links to a target: (1 + 4) times a plain link.
    queue.saw("http://a.com/t", "a.com", {"cocited.com": "http://cocited.com/"}, True, {}, NOW)
    assert _popped(queue) == ["cocited.com", "two-sites.com", "many-pages.com"]


def test_a_relevant_linking_page_counts_more():
    queue = _queue(cocitation_boost=0, relevance_boost=4.0)
    queue.learn({"python": 5, "scrapy": 3})
    queue.saw("http://seed.com/cooking", "seed.com", {"cook.com": "http://cook.com/"}, False, {"recipe": 4}, NOW)
    queue.saw("http://seed.com/py", "seed.com", {"py.com": "http://py.com/"}, False, {"python": 2, "scrapy": 1}, NOW)
    assert _popped(queue) == ["py.com", "cook.com"]


def test_reach_comes_before_a_last_hop_site_nothing_speaks_for():
    # expand=2: a bare link from a hop-1 site puts its site at the last hop, where it
    # leads nowhere; one from a seed's page is a way further on; a target-citing page's
    # link outweighs both, even at the last hop.
    queue = _queue(expand=2)
    queue.saw("http://seed.com/", "seed.com", {"near.com": "http://near.com/"}, False, {}, NOW)
    queue.hops["far-linker.com"] = 1
    queue.saw("http://far-linker.com/", "far-linker.com", {"far.com": "http://far.com/"}, False, {}, NOW)
    queue.saw("http://far-linker.com/t", "far-linker.com", {"cited.com": "http://cited.com/"}, True, {}, NOW)
    assert [queue.sites[d].hop for d in ("near.com", "far.com", "cited.com")] == [1, 2, 2]
    assert _popped(queue) == ["cited.com", "near.com", "far.com"]


def test_a_page_at_the_last_hop_speaks_for_sites_met_but_meets_none():
    queue = _queue(expand=1, relevance_boost=0)
    queue.saw("http://seed.com/", "seed.com", {"a.com": "http://a.com/", "b.com": "http://b.com/"}, False, {}, NOW)
    before = queue.sites["b.com"].priority
    # a.com is at the last hop: its page cites a target and links to b.com (met) and c.com (too far).
    met = queue.saw("http://a.com/", "a.com", {"b.com": "http://b.com/", "c.com": "http://c.com/"}, True, {}, NOW)
    assert met == [] and "c.com" not in queue.sites
    assert queue.sites["b.com"].priority > before


def test_the_priority_is_the_documented_formula():
    weights = Weights(cocitation_boost=4, relevance_boost=4, reach_boost=1.0, indegree_weight=0.1)
    # Three linking sites, evidence 5 (co-cited), 1 and 3: mean 3; one hop short of expand.
    assert weights.priority(9.0, 3, hop=2, expand=3) == pytest.approx((3 - 1 + 1) * (1 + 0.1 * math.log(3)))
    assert weights.priority(1.0, 1, hop=3, expand=3) == 0.0  # nothing for it, and nowhere to lead


def test_redis_ranks_waiting_sites_as_one_machine_does(redis_server):
    """Distributed mode: the flush script computes ``Weights.priority`` from the same credits."""
    import asyncio

    from scrapy import Spider
    from scrapy.utils.test import get_crawler

    from backlinkspider.frontier.queue import LeasedQueue

    crawler = get_crawler(Spider, {"REDIS_URL": redis_server.url})
    spider = Spider.from_crawler(crawler, name="backlinks")
    frontier = LeasedQueue(redis_server.client(), spider, "backlinks:requests")
    weights = Weights(reach_boost=0.5, indegree_weight=0.3)
    queue = _queue(expand=3, weights=weights)
    queue.learn({"python": 3})
    credits = []
    pages = [  # (page, its site, its hop, what it links to, links a target, terms)
        ("http://seed.com/", "seed.com", 0, ["a.com", "b.com"], False, {"python": 1}),
        ("http://seed.com/t", "seed.com", 0, ["c.com"], True, {"cooking": 2}),
        ("http://a.com/", "a.com", 1, ["b.com", "d.com"], True, {"python": 2}),
        ("http://c.com/", "c.com", 1, ["d.com"], False, {}),
        ("http://d.com/", "d.com", 2, ["e.com", "b.com"], False, {"python": 1, "cooking": 1}),
        ("http://e.com/", "e.com", 3, ["b.com", "too-far.com"], True, {"python": 2}),  # the last hop
    ]
    for url, site, hop, links, cites, terms in pages:
        queue.hops.setdefault(site, hop)
        evidence = queue.evidence(cites, terms)  # what the spider sends (and learns) for the page
        credits += [(d, site, repr(evidence), hop + 1, url, "") for d in links]
    replay = _queue(expand=3, weights=weights)
    replay.learn({"python": 3})
    for url, site, hop, links, cites, terms in pages:
        replay.hops.setdefault(site, hop)
        replay.saw(url, site, {d: f"http://{d}/" for d in links}, cites, terms, NOW)

    async def flush():
        await frontier.flush("w", [], [], [], [], (0, 0), (0, 0), credits, (FOCUSED, 3, 0.5, 0.3))
        await frontier.aio.aclose()

    asyncio.run(flush())
    ranked = redis_server.client().zrange("backlinks:discovery", 0, -1, desc=True, withscores=True)
    assert {site.decode(): score for site, score in ranked} == pytest.approx(
        {site.domain: site.priority for site in replay.sites.values()}
    )
    assert len({round(score, 6) for _, score in ranked}) >= 4  # the credits tell the sites apart
    assert (
        "too-far.com" not in replay.sites
        and redis_server.client().hget("backlinks:discovery:hops", "too-far.com") is None
    )


def test_breadth_first_opens_sites_in_the_order_met():
    queue = _queue(BFS)
    queue.saw("http://seed.com/", "seed.com", {"first.com": "http://first.com/"}, False, {}, NOW)
    queue.saw("http://seed.com/t", "seed.com", {"second.com": "http://second.com/"}, True, {"python": 1}, NOW)
    queue.saw("http://seed.com/u", "seed.com", {"second.com": "http://second.com/"}, True, {}, NOW)
    assert _popped(queue) == ["first.com", "second.com"]


def test_expansion_stops_at_n_hops_and_a_shorter_way_lowers_a_hop():
    queue = _queue(expand=2)
    met = queue.saw("http://seed.com/", "seed.com", {"one.com": "http://one.com/x"}, False, {}, NOW)
    assert [(s.domain, s.hop, s.entry, s.discovered_from) for s in met] == [
        ("one.com", 1, "http://one.com/x", "http://seed.com/")
    ]
    assert [s.hop for s in queue.saw("http://one.com/", "one.com", {"two.com": "http://two.com/"}, False, {}, NOW)]
    assert queue.saw("http://two.com/", "two.com", {"three.com": "http://three.com/"}, False, {}, NOW) == []
    assert "three.com" not in queue.sites and queue.hop("two.com") == 2
    # A shorter way to two.com: the link its page gave, too far before, is followed now.
    met = queue.saw("http://seed.com/b", "seed.com", {"two.com": "http://two.com/"}, False, {}, NOW)
    assert [(s.domain, s.hop) for s in met] == [("two.com", 1), ("three.com", 2)]
    assert queue.sites["three.com"].discovered_from == "http://two.com/"
    assert queue.saw("http://seed.com/", "seed.com", {"seed.com": "http://seed.com/"}, False, {}, NOW) == []


def test_a_site_whose_priority_rose_is_served_once_at_its_new_rank():
    queue = _queue(relevance_boost=0)
    queue.hops.update({"a.com": 0, "b.com": 0})
    queue.saw("http://seed.com/", "seed.com", {"x.com": "http://x.com/", "y.com": "http://y.com/"}, False, {}, NOW)
    queue.saw("http://a.com/", "a.com", {"y.com": "http://y.com/"}, False, {}, NOW)
    queue.saw("http://b.com/", "b.com", {"y.com": "http://y.com/"}, False, {}, NOW)
    assert _popped(queue) == ["y.com", "x.com"]
    assert queue.pop() is None


def test_the_queue_survives_a_pickle_as_jobdir_keeps_it():
    queue = _queue()
    queue.saw("http://seed.com/", "seed.com", {"x.com": "http://x.com/"}, True, {"python": 2}, NOW)
    again = pickle.loads(pickle.dumps(queue))
    assert _popped(again) == ["x.com"] and again.profile.pages == 1


def test_profile_cosine_matches_a_hand_computed_one():
    profile = Profile()
    profile.add({"a": 1, "b": 1})  # sublinear weights 1 + ln 1 = 1: a and b 1/sqrt2 each
    for page in ({"a": 1, "c": 1}, {"b": 1}, {"c": 1}):
        profile.count(page)
    # idf = ln((1 + 3 pages) / (1 + pages with the term)): a and b ln 2, c ln 4/3.
    ln2, ln43 = math.log(2), math.log(4 / 3)
    assert profile.cosine({"a": 1}) == pytest.approx(1 / 2**0.5)
    assert profile.cosine({"a": 1, "c": 1}) == pytest.approx(ln2 / (2**0.5 * math.hypot(ln2, ln43)))
    assert profile.cosine({"d": 3}) == 0.0 and Profile().cosine({"a": 1}) == 0.0
    assert unit_vector({"a": 1, "b": 0}) == {"a": 1.0}


def test_a_word_on_every_page_says_nothing_about_relevance():
    profile = Profile()
    profile.add({"more": 4, "python": 2})  # a target's page, with the site template's "more"
    for page in ({"more": 3, "recipe": 2}, {"more": 5, "garden": 1}, {"more": 2, "python": 1}):
        profile.count(page)
    assert profile.cosine({"more": 3, "recipe": 2}) == 0.0  # only the template in common
    assert profile.cosine({"more": 2, "python": 1}) > 0.5


def test_a_batch_of_updates_of_one_site_writes_once_in_order():
    updates = [
        SiteUpdate("x.com", "queued", 0, 2, "http://seed.com/", NOW, 0.5),
        SiteUpdate("x.com", "crawling", priority=0.9),
        SiteUpdate("x.com", "queued", 0, 1, "http://other.com/", NOW, 0.7),  # a shorter way, met again
        SiteUpdate("x.com", pages_crawled=3),
        SiteUpdate("x.com", "done", 4),
    ]
    [op] = site_ops(updates)
    change = op._doc
    assert change["$set"] == {"state": "done"}
    assert change["$max"] == {"pages_crawled": 4}
    assert change["$min"] == {"hop": 1, "first_seen": NOW}
    assert change["$setOnInsert"] == {"discovered_from": "http://seed.com/", "priority": 0.5}


# -- crawls of the expanding web ------------------------------------------------------


@pytest.fixture(scope="module")
def expanding_web():
    proxy = WebProxy(expanding.resolve).start()
    yield proxy
    proxy.stop()


def _fetched(proxy: WebProxy, before: int) -> Counter:
    return Counter((host, path) for _, host, path in proxy.requests[before:] if not path.endswith("robots.txt"))


def _crawl(mongo_uri, db, proxy, *args, **settings):
    return run_crawl(mongo_uri, db.name, proxy, "-a", f"seeds={expanding.SEED}", "-a", f"targets={expanding.TARGET}",
                     *args, DISCOVERED_SITE_PAGE_LIMIT="5", **settings)  # fmt: skip


def test_expand_crawls_sites_up_to_n_hops_within_their_page_limit(mongo_uri, db, expanding_web, tmp_path):
    before = len(expanding_web.requests)
    crawl = _crawl(mongo_uri, db, expanding_web, "-a", "expand=2", CRAWL_STATE_DIR=str(tmp_path))
    fetched = _fetched(expanding_web, before)
    hosts = Counter(host for host, _ in fetched.elements())
    assert set(hosts) == {"seed-home.com", "hop1-news.com", "hop1-big.com", "hop2-blog.net"}  # no hop3-far.org
    assert hosts["hop1-big.com"] == 5  # DISCOVERED_SITE_PAGE_LIMIT
    assert max(fetched.values()) == 1
    assert "192.168.7.7" not in {host for _, host, _ in expanding_web.requests}  # refused, never sent
    sites = {d["domain"]: d for d in db.sites.find({}, {"_id": 0})}
    assert {d: (s["hop"], s["state"], s["pages_crawled"]) for d, s in sites.items()} == {
        "seed-home.com": (0, "done", 2),
        "hop1-news.com": (1, "done", 2),
        "hop1-big.com": (1, "done", 5),
        "192.168.7.7": (1, "refused", 0),
        "hop2-blog.net": (2, "done", 2),
    }
    assert sites["hop2-blog.net"]["discovered_from"] == "http://hop1-news.com/story"
    assert sites["seed-home.com"]["discovered_from"] is None and sites["hop1-news.com"]["priority"] > 0
    # The backlinks of discovered sites are stored as a seed's are.
    sources = {d["source_url"] for d in db.backlinks.find({"target_domain": expanding.TARGET})}
    assert sources == {"http://seed-home.com/", "http://hop1-news.com/story", "http://hop2-blog.net/post"}
    assert crawl.stats["backlinks/discovery/sites_opened"] == 4


def test_expand_zero_stays_on_the_seed_sites(mongo_uri, db, expanding_web):
    before = len(expanding_web.requests)
    _crawl(mongo_uri, db, expanding_web)
    assert {host for host, _ in _fetched(expanding_web, before)} == {"seed-home.com"}
    assert "sites" not in db.list_collection_names() or db.sites.count_documents({}) == 0


def test_a_spent_budget_ends_the_crawl_and_the_next_goes_on_without_refetching(mongo_uri, db, expanding_web, tmp_path):
    before = len(expanding_web.requests)
    first = _crawl(mongo_uri, db, expanding_web, "-a", "expand=2", "-a", "max_pages=4", CRAWL_STATE_DIR=str(tmp_path))
    assert "closespider_pagecount" in first.stderr
    partial = _fetched(expanding_web, before)
    assert len(partial) < 11 and list(tmp_path.iterdir())  # the frontier is kept
    second = _crawl(
        mongo_uri, db, expanding_web, "-a", "expand=2", "-a", "max_pages=1000", CRAWL_STATE_DIR=str(tmp_path)
    )
    assert "Going on with the crawl kept in" in second.stderr
    both = _fetched(expanding_web, before)
    assert max(both.values()) == 1  # nothing fetched twice
    assert len(both) == 11  # and together, all the unbudgeted crawl fetches
    assert not list(tmp_path.iterdir())  # a finished crawl leaves no frontier behind
    assert db.sites.count_documents({"state": "done"}) == 4


def test_a_bad_expand_is_one_clear_line(mongo_uri, db, expanding_web):
    cmd, env = crawl_command(mongo_uri, db.name, expanding_web.url, "-a", f"seeds={expanding.SEED}", "-a", "expand=x")
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "-a expand= takes a whole number of 0 or more, not 'x'" in done.stderr


# -- distributed mode ------------------------------------------------------------------


def _distributed(mongo_uri, db, web, redis_server, workers: int) -> list[str]:
    from tests.support.distributed import Worker, wait_for

    args = ("-a", f"seeds={expanding.SEED}", "-a", f"targets={expanding.TARGET}", "-a", "expand=2")
    first = Worker(mongo_uri, db, web.url, redis_server.url, *args, DISCOVERED_SITE_PAGE_LIMIT="5")
    others = []
    if workers > 1:
        wait_for(lambda: redis_server.client().hget("backlinks:stats", "seen"), what="seeds in Redis")
        others = [Worker(mongo_uri, db, web.url, redis_server.url, "-a", "expand=2", DISCOVERED_SITE_PAGE_LIMIT="5")
                  for _ in range(workers - 1)]  # fmt: skip
    for worker in (first, *others):
        worker.wait()
    return [site.decode() for site in redis_server.client().lrange("backlinks:discovery:opened", 0, -1)]


def test_distributed_workers_share_one_site_order_and_store_what_one_machine_does(
    mongo_uri, db, expanding_web, redis_server, tmp_path
):
    from tests.support.distributed import stored

    _crawl(mongo_uri, db, expanding_web, "-a", "expand=2", CRAWL_STATE_DIR=str(tmp_path))
    alone = stored(db)
    db.client.drop_database(db.name)

    before = len(expanding_web.requests)
    opened = _distributed(mongo_uri, db, expanding_web, redis_server, workers=2)
    assert stored(db) == alone  # the same backlinks as the single-machine crawl
    # One order for the cluster: every site opened once, by whichever worker asked first.
    assert sorted(opened) == sorted({"hop1-news.com", "hop1-big.com", "192.168.7.7", "hop2-blog.net"})
    fetched = _fetched(expanding_web, before)
    assert max(fetched.values()) == 1
    assert Counter(host for host, _ in fetched.elements())["hop1-big.com"] == 5  # the limit, cluster-wide
    assert "hop3-far.org" not in {host for host, _ in fetched}
    sites = {d["domain"]: d for d in db.sites.find({}, {"_id": 0})}
    assert {d: s["hop"] for d, s in sites.items()} == {
        "seed-home.com": 0, "hop1-news.com": 1, "hop1-big.com": 1, "192.168.7.7": 1, "hop2-blog.net": 2
    }  # fmt: skip
    assert sites["hop2-blog.net"]["discovered_from"] == "http://hop1-news.com/story"
    # backlinks status: the sites waiting, opened, queued and done; the report: found by expanding.
    status = json.loads(cli(db, "status", "--json", "--redis-url", redis_server.url).stdout)
    assert (status["sites_waiting"], status["sites_opened"]) == (0, 4)
    assert status["discovered_sites"]["queued"] == 0 and sum(status["discovered_sites"].values()) == 5
    text = cli(db, "status", "--redis-url", redis_server.url).stdout
    assert "sites to open" in text and "sites done" in text
    report = json.loads(cli(db, "report", expanding.TARGET, "--json").stdout)
    assert report["discovered_referring_domains"] == 2  # hop1-news.com and hop2-blog.net; seed-home.com is a seed
    assert "found by expanding" in cli(db, "report", expanding.TARGET).stdout
