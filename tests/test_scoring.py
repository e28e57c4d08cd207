"""``backlinks score``, ``audit``, ``disavow --toxic`` and the scored export, end to end.

One crawl (``-a crawl_targets=1``) of ``tests/web/topics.py``: real pages of
Debian's Python, PostgreSQL and Apache httpd manuals linking into a Python
documentation site, an honest blog, and a private blog network. Then the
commands as users run them. A second part builds small stores by hand for the
rules a crawl of that web does not reach (reciprocal links, link farms, hidden
links) and for what scoring writes.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pymongo
import pytest

from backlinkspider.demo.proxy import WebProxy
from backlinkspider.store import BACKLINKS, PAGES, REFERRING_DOMAINS, ensure_indexes
from backlinkspider.store.scoring import score
from tests.support.cli import cli
from tests.support.crawls import run_crawl
from tests.web import topics

pytestmark = pytest.mark.skipif(not topics.available(), reason="Debian's documentation packages cannot be fetched")

PBN_CODES = {"sitewide_boilerplate", "exact_match_heavy", "spam_terms", "thin_pages", "link_network"}


@pytest.fixture(scope="module")
def scored(mongo_uri):
    proxy = WebProxy(topics.resolve).start()
    client = pymongo.MongoClient(mongo_uri, tz_aware=True)
    db = client["test_scoring"]
    client.drop_database(db.name)
    cli(db, "target", topics.TARGET, "--keywords", topics.KEYWORD)
    # No `targets`: every external link is stored, the network's links among itself too;
    # crawl_targets walks the targets set with `backlinks target`.
    crawl = run_crawl(
        mongo_uri,
        db.name,
        proxy,
        "-a",
        f"seeds={','.join(topics.SEEDS)}",
        "-a",
        "crawl_targets=1",
        SITE_PAGE_LIMIT="15",
        SITEWIDE_MIN_PAGES="2",
    )
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    done = cli(db, "score")
    yield db, done.stdout, proxy
    client.drop_database(db.name)
    client.close()
    proxy.stop()


def _auc(positives: list[float], negatives: list[float]) -> float:
    """The probability that a positive scores above a negative (ties count half)."""
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def test_pages_carry_their_main_texts_terms(scored):
    db, _, _ = scored
    page = db[PAGES].find_one({"url": "http://python-notes-0.com/"})
    terms = page["terms"]
    assert 50 < len(terms) <= 200
    assert "sort" in terms and "python" in terms  # the sorting HOWTO, stemmed
    assert "the" not in terms and "and" not in terms
    assert list(terms.values()) == sorted(terms.values(), reverse=True)


def test_crawl_targets_walks_the_target_site_from_its_home_page(scored):
    db, _, proxy = scored
    fetched = set(proxy.fetched(topics.TARGET))
    assert "/" in fetched
    assert {f"/tutorial/{page}.html" for page in topics.TUTORIAL} <= fetched
    assert "/tutorial/not-written-yet.html" in fetched  # a linked target page is asked for too
    classes = db[PAGES].find_one({"url": f"{topics.T}/tutorial/classes.html"})
    assert classes["status"] == 200 and "class" in classes["terms"]


def test_python_referrers_are_more_relevant_than_postgresql_and_apache_ones(scored):
    db, stdout, _ = scored
    relevance = {d["source_domain"]: d["relevance"] for d in db[BACKLINKS].find({"target_domain": topics.TARGET})}
    positives = [relevance[d] for d in topics.PYTHON]
    negatives = [relevance[d] for d in topics.OTHER]
    auc = _auc(positives, negatives)
    print(f"ROC AUC of relevance, Python referrers against PostgreSQL and Apache httpd ones: {auc:.3f}")
    assert auc >= 0.95
    assert "Scored" in stdout and "referring domains" in stdout


def test_relevance_basis_says_what_was_known(scored):
    db, _, _ = scored
    bases = {
        d["target_url"]: d["relevance_basis"]
        for d in db[BACKLINKS].find({"source_domain": {"$in": list(topics.PYTHON)}})
        if d["target_domain"] == topics.TARGET
    }
    assert bases[topics.UNKNOWN_PAGE] == "domain"  # a 404: only the site's text is known
    assert set(bases.values()) == {"page", "domain"}
    assert list(bases.values()).count("page") == len(topics.PYTHON) - 1


def test_the_blog_network_is_toxic_for_its_reasons_and_the_honest_blog_is_not(scored):
    db, _, _ = scored
    rows = {d["source_domain"]: d for d in db[REFERRING_DOMAINS].find({"target_domain": topics.TARGET})}
    for name in topics.NETWORK:
        row = rows[name]
        assert row["toxicity"] >= 60, row
        assert PBN_CODES <= {r["code"] for r in row["toxic_reasons"]}, row["toxic_reasons"]
        assert all(r["detail"] and r["weight"] > 0 for r in row["toxic_reasons"])
    honest = rows[topics.HONEST]
    assert honest["toxicity"] <= 20, honest
    assert honest["relevance"] > 5 * max(rows[name]["relevance"] for name in topics.NETWORK)
    assert {k for k in honest} >= {
        "target_domain", "source_domain", "backlinks", "live", "followed", "first_seen", "last_seen",
        "authority", "relevance", "toxicity", "toxic_reasons", "scored_at",
    }  # fmt: skip
    assert (honest["backlinks"], honest["live"], honest["followed"]) == (1, 1, 1)


def test_a_second_score_rewrites_the_same_values_later(scored):
    db, _, _ = scored

    def snapshot():
        rows = {d["source_domain"]: d for d in db[REFERRING_DOMAINS].find({}, {"_id": 0})}
        links = sorted((d["source_url"], d["target_url"], d.get("relevance")) for d in db[BACKLINKS].find())
        return rows, links

    before, links_before = snapshot()
    out = cli(db, "score", topics.TARGET).stdout
    after, links_after = snapshot()
    assert links_after == links_before
    assert "(0 changed)" in out
    for name, row in before.items():
        again = after[name]
        assert again["scored_at"] > row["scored_at"]
        assert {k: v for k, v in again.items() if k != "scored_at"} == {
            k: v for k, v in row.items() if k != "scored_at"
        }


def test_audit_shows_bands_top_lists_and_reason_shares(scored):
    db, _, _ = scored
    found = json.loads(cli(db, "audit", topics.TARGET, "--json").stdout)
    assert sum(found["toxicity"].values()) == found["referring_domains"]
    assert sum(found["relevance"].values()) == found["live_backlinks"]
    assert found["most_toxic"][0]["source_domain"] in topics.NETWORK
    assert {d["source_domain"] for d in found["most_toxic"][:12]} == set(topics.NETWORK)
    assert found["most_relevant"] and all(r["relevance"] is not None for r in found["most_relevant"])
    assert found["reasons"]["spam_terms"]["referring_domains"] == len(topics.NETWORK)
    assert found["reasons"]["link_network"]["referring_domains_share"] == pytest.approx(
        len(topics.NETWORK) / found["referring_domains"], abs=0.001
    )
    text = cli(db, "audit", topics.TARGET).stdout
    assert "Most toxic referring domains" in text and "spam_terms (+35)" in text


def test_disavow_toxic_lists_the_network_with_reasons_and_spares_relevant_domains(scored):
    db, _, _ = scored
    text = cli(db, "disavow", topics.TARGET, "--toxic").stdout
    listed = [line.removeprefix("domain:") for line in text.splitlines() if line.startswith("domain:")]
    assert set(listed) == set(topics.NETWORK)
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.startswith("domain:"):
            assert lines[n - 1].startswith("# toxicity 100: ") and "link_network (+35)" in lines[n - 1]
    # Every scored domain is toxic enough at 0; none here has a content link of relevance >= 50.
    everything = cli(db, "disavow", topics.TARGET, "--toxic", "--min-toxicity", "0").stdout
    assert everything.count("\ndomain:") == db[REFERRING_DOMAINS].count_documents({"target_domain": topics.TARGET})


def test_export_carries_scores_and_filters_by_them(scored):
    db, _, _ = scored
    rows = list(csv.DictReader(io.StringIO(cli(db, "export", topics.TARGET).stdout)))
    assert {"relevance", "relevance_basis", "referring_domain_toxicity", "toxic_reasons"} <= set(rows[0])
    network = [r for r in rows if r["referring_domain"] in topics.NETWORK]
    assert network and all("spam_terms" in r["toxic_reasons"].split() for r in network)
    clean = list(
        csv.DictReader(
            io.StringIO(cli(db, "export", topics.TARGET, "--max-toxicity", "20", "--min-relevance", "40").stdout)
        )
    )
    assert clean and all(float(r["relevance"]) >= 40 and float(r["referring_domain_toxicity"]) <= 20 for r in clean)
    assert not {r["referring_domain"] for r in clean} & set(topics.NETWORK)


def test_report_shows_relevance_and_toxicity_of_top_referring_domains(scored):
    db, _, _ = scored
    profile = json.loads(cli(db, "report", topics.TARGET, "--json", "--top", "50").stdout)
    rows = {r["domain"]: r for r in profile["top_referring_domains"]}
    assert rows[topics.NETWORK[0]]["toxicity"] >= 60
    assert rows[topics.HONEST]["relevance"] is not None
    assert "toxic" in cli(db, "report", topics.TARGET).stdout


# --- small stores, built by hand -----------------------------------------------------------

NOW = datetime(2026, 11, 30, tzinfo=timezone.utc)


def _link(source: str, target: str, **more) -> dict:
    s, t = source.split("/")[2], target.split("/")[2]
    return {
        "source_url": source, "target_url": target, "anchor": more.pop("anchor", "a link"),
        "source_domain": s.removeprefix("www."), "target_domain": t.removeprefix("www."), "internal": False,
        "link_types": ["follow"], "kind": "text", "placement": "content", "hidden": False, "sitewide": False,
        "first_seen": NOW, "last_seen": NOW, "lost_at": None, **more,
    }  # fmt: skip


def _page(url: str, terms: dict | None = None, **more) -> dict:
    return {"url": url, "domain": url.split("/")[2], "status": 200, "error": "", "terms": terms or {},
            "words": 500, "external_links": 5, **more}  # fmt: skip


def test_rules_a_crawl_of_the_topic_web_does_not_reach(db):
    ensure_indexes(db)
    db[BACKLINKS].insert_many(
        [
            _link("http://friend.com/a", "http://shop.com/"),
            _link("http://shop.com/links", "http://friend.com/"),  # the target links back: reciprocal
            _link("http://farm.com/p1", "http://shop.com/x"),
            _link("http://sneaky.com/", "http://shop.com/y", hidden=True),
        ]
    )
    db[PAGES].insert_many(
        [
            _page("http://friend.com/a", {"garden": 3}),
            _page("http://shop.com/links", {"garden": 2}),
            _page("http://farm.com/p1", external_links=400),
            _page("http://farm.com/p2", external_links=300),
            _page("http://sneaky.com/"),
        ]
    )
    run = score(db, ["shop.com"], now=NOW)
    assert run.targets == 1 and run.backlinks == 3 and run.referring_domains == 3
    codes = {d["source_domain"]: {r["code"] for r in d["toxic_reasons"]} for d in db[REFERRING_DOMAINS].find()}
    assert "reciprocal" in codes["friend.com"]
    assert "link_farm" in codes["farm.com"]
    assert "hidden_link" in codes["sneaky.com"]
    farm = db[REFERRING_DOMAINS].find_one({"source_domain": "farm.com"})
    assert "median 350 external links per page over 2 pages" in {r["detail"] for r in farm["toxic_reasons"]}
    # A referring page without terms: nothing to compare, relevance unknown, not zero.
    sneaky = db[BACKLINKS].find_one({"source_domain": "sneaky.com"})
    assert sneaky["relevance"] is None and sneaky["relevance_basis"] is None
    # Authority was computed as `rank` computes it.
    assert db["domains"].find_one({"domain": "shop.com"})["authority"] is not None
    # Only the target asked for was scored: friend.com's own backlink from shop.com has no relevance.
    assert "relevance" not in db[BACKLINKS].find_one({"target_domain": "friend.com"})


def test_scoring_one_target_leaves_the_others_documents(db):
    ensure_indexes(db)
    db[BACKLINKS].insert_many([_link("http://a.com/", "http://one.com/"), _link("http://a.com/", "http://two.com/")])
    db[PAGES].insert_one(_page("http://a.com/", {"x": 1}))
    score(db, now=NOW)  # every target domain: there are no stored targets
    assert sorted(d["target_domain"] for d in db[REFERRING_DOMAINS].find()) == ["one.com", "two.com"]
    later = datetime(2026, 12, 1, tzinfo=timezone.utc)
    score(db, ["one.com"], now=later)
    got = {d["target_domain"]: d["scored_at"] for d in db[REFERRING_DOMAINS].find()}
    assert got == {"one.com": later, "two.com": NOW}


def test_disavow_toxic_spares_a_relevant_content_link_unless_told(db):
    ensure_indexes(db)
    db[BACKLINKS].insert_many(
        [
            # on topic, in the content, followed: relevant, though its hidden twin makes it suspect
            _link("http://twin.com/a", "http://shop.com/spades", anchor="our spades"),
            _link("http://twin.com/a", "http://shop.com/spades", anchor="cheap", hidden=True),
            _link("http://other.com/b", "http://shop.com/spades", hidden=True),
        ]
    )
    garden = {"spade": 5, "garden": 4, "soil": 3, "dig": 2}
    db[PAGES].insert_many(
        [
            _page("http://twin.com/a", garden),
            _page("http://shop.com/spades", garden),
            _page("http://other.com/b", {"tax": 3}),
        ]
    )
    score(db, ["shop.com"], now=NOW)
    twin = db[REFERRING_DOMAINS].find_one({"source_domain": "twin.com"})
    assert twin["content_relevance"] >= 50 and twin["toxicity"] >= 30
    spared = cli(db, "disavow", "shop.com", "--toxic", "--min-toxicity", "30").stdout
    assert "domain:other.com\n" in spared and "domain:twin.com" not in spared
    told = cli(db, "disavow", "shop.com", "--toxic", "--min-toxicity", "30", "--include-relevant").stdout
    assert "domain:other.com\n" in told and "domain:twin.com\n" in told


def test_commands_refuse_a_store_never_scored(db):
    ensure_indexes(db)
    done = cli(db, "disavow", "shop.com", "--toxic", check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == "backlinks disavow: the store was never scored; run `backlinks score` first"
    assert cli(db, "audit", "shop.com", check=False).returncode == 1
