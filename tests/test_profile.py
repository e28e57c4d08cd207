"""The backlink profile, export and disavow file of a known store (tests/support/known_store.py).

The commands run as users run them (the ``backlinks`` console script against
SecantusDB); the Python API is checked on the same store, and every pipeline's
plan is checked to start from an index.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from backlinkspider import store
from tests.support import known_store
from tests.support.cli import BACKLINKS, cli
from tests.support.known_store import ACME, DAY

UNSCORED = {"relevance": None, "toxicity": None}  # until `backlinks score`


@pytest.fixture
def known(db):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    known_store.fill(db, now)
    return db, now


def iso(days_ago: float, now: datetime) -> str:
    return (now - days_ago * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")


def expected_profile(now: datetime) -> dict:
    return {
        "domain": ACME,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "authority": 55.0,
        # 10 external backlinks (not the internal one, not other.com's); 8 and 9 lost
        "backlinks": {"total": 10, "live": 8, "lost": 2},
        # example.org, diy-talk.net, janedoe.blogspot.com, example.com live; example.net lost
        "referring_domains": {"total": 5, "live": 4, "lost": 1},
        "referring_pages": {"total": 9, "live": 7, "lost": 2},
        "discovered_referring_domains": None,  # no crawl of the store expanded
        "link_types": {"follow": 5, "nofollow": 2, "sponsored": 1, "ugc": 1},  # 1 2 5 7 12 | 3 4 | 6 | 4
        "kinds": {"text": 6, "image": 1, "redirect": 1},
        # Written before placements, hidden, sitewide and languages were recorded: unknown
        # until a recrawl, and nothing is hidden or sitewide.
        "placements": {"content": 0, "nav": 0, "header": 0, "footer": 0, "aside": 0, "comment": 0, "unknown": 8},
        "hidden": 0,
        "sitewide": {"backlinks": 0, "referring_domains": 0},
        # acme-tools.com's default brand names: acme tools, acmetools, acme-tools
        "anchor_categories": {
            "image": {"backlinks": 1, "referring_domains": 1},  # 5
            "empty": {"backlinks": 0, "referring_domains": 0},
            "naked_url": {"backlinks": 0, "referring_domains": 0},
            "branded": {"backlinks": 3, "referring_domains": 2},  # 1 3 4
            "exact_match": {"backlinks": 0, "referring_domains": 0},
            "partial_match": {"backlinks": 0, "referring_domains": 0},
            "generic": {"backlinks": 0, "referring_domains": 0},
            "other": {"backlinks": 4, "referring_domains": 4},  # 2 6 7 12
        },
        "languages": [{"language": None, "referring_pages": 7}],
        "top_referring_domains": [
            {
                "domain": "diy-talk.net",
                "authority": 12.0,
                "backlinks": 3,
                "follow": 2,
                "first_seen": iso(60, now),
                **UNSCORED,
            },
            {
                "domain": "example.org",
                "authority": 40.5,
                "backlinks": 3,
                "follow": 2,
                "first_seen": iso(40, now),
                **UNSCORED,
            },
            {
                "domain": "example.com",
                "authority": None,
                "backlinks": 1,
                "follow": 1,
                "first_seen": iso(2, now),
                **UNSCORED,
            },
            {
                "domain": "janedoe.blogspot.com",
                "authority": 3.1,
                "backlinks": 1,
                "follow": 0,
                "first_seen": iso(5, now),
                **UNSCORED,
            },
        ],
        "top_anchors": [
            {"anchor": "acme tools", "referring_domains": 2, "backlinks": 3},
            {"anchor": "", "referring_domains": 1, "backlinks": 1},
            {"anchor": "best spade", "referring_domains": 1, "backlinks": 1},
            {"anchor": "old tools", "referring_domains": 1, "backlinks": 1},
            {"anchor": "spade deal", "referring_domains": 1, "backlinks": 1},
            {"anchor": "spades", "referring_domains": 1, "backlinks": 1},
        ],
        "top_target_pages": [
            {"target_url": f"https://{ACME}/spades", "referring_domains": 3, "backlinks": 3, "target_status": 200},
            {"target_url": f"https://{ACME}/", "referring_domains": 2, "backlinks": 3, "target_status": 200},
            {"target_url": f"https://{ACME}/old", "referring_domains": 1, "backlinks": 2, "target_status": 404},
        ],
        "new_and_lost": {
            "source": "events",
            "last_7_days": {"new": 3, "lost": 1, "recovered": 0, "link_type_changed": 1},
            "last_30_days": {"new": 6, "lost": 3, "recovered": 1, "link_type_changed": 1},
        },
        # 9 is broken too, but lost
        "broken": {
            "backlinks": 2,
            "target_pages": [
                {
                    "target_url": f"https://{ACME}/old",
                    "target_status": 404,
                    "target_error": "",
                    "referring_domains": 1,
                    "backlinks": 2,
                }
            ],
        },
    }


def test_report_json_gives_every_figure_of_the_known_store(known):
    db, now = known
    report = json.loads(cli(db, "report", ACME, "--json").stdout)
    generated = datetime.fromisoformat(report.pop("generated_at"))
    assert abs(generated - now) < timedelta(minutes=5)
    # The windows are relative to the report's own clock; the store's dates are days apart.
    expected = expected_profile(now)
    expected.pop("generated_at")
    assert report == expected


def test_profile_api_is_what_the_report_prints(known):
    db, now = known
    profile = json.loads(
        json.dumps(store.profile(db, ACME, now=now), default=lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    )
    assert profile == expected_profile(now)
    assert store.profile(db, ACME, top=1, now=now)["top_anchors"] == [
        {"anchor": "acme tools", "referring_domains": 2, "backlinks": 3}
    ]


def test_new_and_lost_without_events_come_from_first_seen_and_lost_at(known):
    db, now = known
    db[store.EVENTS].drop()
    changes = store.profile(db, ACME, now=now)["new_and_lost"]
    # new: 2 6 7 within 7 days, and 3 4 12 within 30; lost now: 8 (2 days), 9 (15 days)
    assert changes == {
        "source": "backlinks",
        "last_7_days": {"new": 3, "lost": 1, "recovered": 0, "link_type_changed": 0},
        "last_30_days": {"new": 6, "lost": 2, "recovered": 0, "link_type_changed": 0},
    }


def test_unknown_domain_has_an_empty_profile(known):
    db, now = known
    profile = store.profile(db, "nobody-links-here.org", now=now)
    assert profile["backlinks"] == {"total": 0, "live": 0, "lost": 0}
    assert profile["top_referring_domains"] == [] and profile["authority"] is None
    done = cli(db, "report", "nobody-links-here.org")
    assert "no backlinks into nobody-links-here.org" in done.stderr


def test_report_tables_in_the_terminal(known):
    db, now = known
    out = cli(db, "report", f"https://www.{ACME}/some/page").stdout  # a URL means its domain
    assert f"Backlink profile of {ACME}" in out and "authority 55.0" in out
    for line in (
        r"backlinks\s+10\s+8\s+2",
        r"referring domains\s+5\s+4\s+1",
        r"follow\s+5\s+62%",
        r"redirect\s+1\s+12%",
        r"diy-talk\.net\s+12\.0\s+3\s+2",
        r"example\.com\s+–\s+1\s+1",
        r"new\s+3\s+6",
        r"/old\s+404\s+1\s+2",
    ):
        assert __import__("re").search(line, out), (line, out)
    assert "Broken backlinks: 2 live backlinks" in out


def test_chart_draws_a_png(known, tmp_path):
    db, now = known
    history = store.history(db, ACME, today=now.date())
    # Referring domains: 5 arrived over 100 days; example.net left 2 days ago (its only link lost).
    series = {row["day"]: row["referring_domains"] for row in history["referring_domains"]}
    assert series[(now - 100 * DAY).date()] == 1  # gone.example.com: example.com
    assert series[(now - 3 * DAY).date()] == 5
    assert series[now.date()] == 4
    assert sum(row["new"] for row in history["events"]) == 10
    assert sum(row["lost"] for row in history["events"]) == 3  # not the internal link's
    chart = tmp_path / "acme.png"
    cli(db, "report", ACME, "--chart", str(chart))
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


# A backlink stored before placements: placement unknown, hidden and sitewide not known,
# the anchor's category worked out when exported, no context or referring page facts.
OLD_DOCUMENT = "," + ",".join(["unknown", "", "", "other", "", "", "", "", "", "", "", "", ""])


def test_export_csv_has_the_tracking_sheet_columns_and_rows(known):
    db, now = known
    out = cli(db, "export", ACME, "--format", "csv", "--lost").stdout
    assert out.splitlines() == [
        "referring_page,referring_domain,domain_authority,target_url,anchor,link_type,kind,"
        "first_seen,last_seen,lost_at,lost_reason,target_status,placement,hidden,sitewide,anchor_category,"
        "context_before,context_after,referring_page_title,referring_page_language,referring_page_external_links,"
        "relevance,relevance_basis,referring_domain_toxicity,toxic_reasons",
        # last seen first: 8 was seen a day before it was lost 2 days ago, 9 before 15 days ago
        f"http://spam.example.net/x,example.net,0.0,https://{ACME}/,cheap tools,follow,text,"
        f"{iso(90, now)},{(now - 3 * DAY - timedelta(minutes=8)).strftime('%Y-%m-%dT%H:%M:%SZ')},"
        f"{iso(2, now)},link_removed,200" + OLD_DOCUMENT,
        f"http://gone.example.com/p,example.com,,https://{ACME}/gone,acme,follow,text,"
        f"{iso(100, now)},{(now - 16 * DAY - timedelta(minutes=9)).strftime('%Y-%m-%dT%H:%M:%SZ')},"
        f"{iso(15, now)},page_not_found,404" + OLD_DOCUMENT,
    ]
    rows = list(csv.DictReader(io.StringIO(cli(db, "export", ACME).stdout)))
    assert [r["referring_page"] for r in rows] == [known_store.BACKLINKS[n][0] for n in (1, 2, 3, 4, 5, 6, 7, 12, 8, 9)]
    assert {r["link_type"] for r in rows} == {"follow", "nofollow", "nofollow ugc", "sponsored"}
    assert rows[3]["lost_at"] == "" and rows[3]["domain_authority"] == "12.0"


def test_export_filters_and_jsonl(known):
    db, now = known
    lines = cli(db, "export", ACME, "--format", "jsonl", "--live", "--link-type", "nofollow,sponsored").stdout
    rows = [json.loads(line) for line in lines.splitlines()]
    assert [(r["referring_page"], r["link_type"]) for r in rows] == [
        ("http://www.example.org/b", "nofollow"),
        ("http://forum.diy-talk.net/t1", "nofollow ugc"),
        ("http://janedoe.blogspot.com/p", "sponsored"),
    ]
    assert rows[0]["domain_authority"] == 40.5 and rows[0]["lost_at"] is None
    assert rows[0]["first_seen"] == iso(10, now) and rows[0]["target_status"] == 200
    follow = [
        json.loads(line)
        for line in cli(db, "export", ACME, "--format", "jsonl", "--link-type", "follow").stdout.splitlines()
    ]
    assert len(follow) == 7  # 1 2 5 7 12, and lost 8 9
    done = cli(db, "export", ACME, "--link-type", "dofollow", check=False)
    assert done.returncode != 0 and "unknown link type(s) dofollow" in done.stderr


def test_disavow_file_lists_weak_and_listed_domains(known, tmp_path):
    db, now = known
    listed = tmp_path / "disavow-old.txt"
    listed.write_text("# last year's file\ndomain:spam.example\nEXAMPLE.NET\nhttp://bad.example/page.html\n\n")
    out = cli(db, "disavow", ACME, "--max-authority", "5", "--domains", str(listed)).stdout
    lines = out.splitlines()
    assert lines[0] == f"# Disavow file for {ACME}: 4 domains, 1 URLs"
    assert lines[1].startswith("# Generated by backlinkspider")
    assert [line for line in lines if not line.startswith("#")] == [
        # example.com is unrated (0), example.net 0.0, janedoe.blogspot.com 3.1; not example.org, diy-talk.net
        "domain:example.com",
        "domain:example.net",
        "domain:janedoe.blogspot.com",
        "domain:spam.example",
        "http://bad.example/page.html",
    ]
    assert "# 3 of 5 referring domains have authority <= 5 (backlinks rank)" in lines
    only = cli(db, "disavow", ACME, "--max-authority", "12").stdout
    assert [line for line in only.splitlines() if not line.startswith("#")] == [
        "domain:diy-talk.net",
        "domain:example.com",
        "domain:example.net",
        "domain:janedoe.blogspot.com",
    ]
    assert cli(db, "disavow", ACME, check=False).returncode == 2  # neither option: nothing to do
    db[store.DOMAINS].drop()
    done = cli(db, "disavow", ACME, "--max-authority", "5", check=False)
    assert done.returncode != 0 and "run `backlinks rank` first" in done.stderr


def _stages(plan) -> list[str]:
    """Every ``stage`` of an explain document, however the server nests them."""
    if isinstance(plan, dict):
        return ([plan["stage"]] if isinstance(plan.get("stage"), str) else []) + [
            s for v in plan.values() for s in _stages(v)
        ]
    if isinstance(plan, list):
        return [s for v in plan for s in _stages(v)]
    return []


def _explain(db, collection: str, pipeline: list[dict]) -> list[str]:
    return _stages(
        db.command("explain", {"aggregate": collection, "pipeline": pipeline, "cursor": {}}, verbosity="queryPlanner")
    )


def test_every_report_query_starts_from_an_index(known):
    db, now = known
    pipelines = {
        "profile": (store.BACKLINKS, store.profile_pipeline(ACME, 10)),
        "first and lost": (store.BACKLINKS, store.first_and_lost_pipeline(ACME, now)),
        "changes": (store.EVENTS, store.changes_pipeline(ACME, now)),
        "authority": (store.DOMAINS, store.authority_pipeline(ACME)),
        "referring dates": (store.BACKLINKS, store.referring_domain_dates_pipeline(ACME)),
        "daily changes": (store.EVENTS, store.daily_changes_pipeline(ACME)),
        "disavow candidates": (store.BACKLINKS, store.referring_domains_pipeline(ACME)),
        "export": (store.BACKLINKS, store.backlinks_pipeline(ACME, live=True, link_types=["follow"])),
        "export filters": (
            store.BACKLINKS,
            store.backlinks_pipeline(
                ACME,
                live=True,
                link_types=["follow"],
                placements=["content", "unknown"],
                follow_only=True,
                no_hidden=True,
            ),
        ),  # fmt: skip
        "anchor categories": (store.BACKLINKS, store.anchors_pipeline(ACME)),
        "sitewide links": (store.BACKLINKS, store.linking_pages_pipeline("example.org")),
        "sitewide pages": (store.PAGES, store.crawled_pages_pipeline("example.org")),
    }
    for name, (collection, pipeline) in pipelines.items():
        stages = _explain(db, collection, pipeline)
        assert "IXSCAN" in stages and "COLLSCAN" not in stages, (name, stages)
    lookup = db[store.DOMAINS].find({"domain": {"$in": ["example.org", "diy-talk.net"]}}).explain()
    assert "IXSCAN" in _stages(lookup) and "COLLSCAN" not in _stages(lookup)
    # The one query that reads everything, on purpose: the graph for `backlinks rank`.
    assert "COLLSCAN" in _explain(db, store.BACKLINKS, store.link_graph_pipeline())


def test_pipelines_are_printed_for_mongosh(known):
    db, now = known
    out = cli(db, "report", ACME, "--pipelines").stdout
    assert out.count(".aggregate(") == 3
    assert '{"$match": {"target_domain": "acme-tools.com"}}' in out
    assert 'ISODate("' in out and "\\u0000" not in out


def test_an_unreachable_store_is_one_clear_line():
    done = subprocess.run(
        [BACKLINKS, "export", ACME, "--mongo-uri", "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("backlinks export: MongoDB: 127.0.0.1:9")


def test_export_into_a_closed_pipe_ends_quietly(known):
    db, now = known
    uri = f"mongodb://{db.client.address[0]}:{db.client.address[1]}/?directConnection=true"
    export = subprocess.Popen(
        [BACKLINKS, "export", ACME, "--mongo-uri", uri, "--database", db.name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    export.stdout.close()  # the reader is gone before the first row: `| head -0`
    assert export.wait(timeout=60) in (0, 1)
    assert b"Traceback" not in export.stderr.read()


def test_a_missing_file_is_one_clear_line(tmp_path):
    done = subprocess.run(
        [BACKLINKS, "disavow", ACME, "--domains", str(tmp_path / "none.txt")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("backlinks disavow: [Errno 2] No such file or directory")
