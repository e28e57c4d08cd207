"""``backlinks serve``: the JSON API against a store made by crawling a changing test web.

The store (``served_store`` in conftest): the monitoring web crawled, then changed and
recrawled (lost backlinks with reasons, events, broken targets). Every answer is compared with what the
command-line tools (``report --json``, ``export``) and the store itself say.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from urllib.parse import urlencode

import pytest

from backlinkspider.export import read_disavow_list
from tests.support.cli import BACKLINKS
from tests.support.serve import Served
from tests.web import monitoring as web_

TARGET = web_.TARGET


def cli(mongo_uri, db, *args) -> str:
    done = subprocess.run([BACKLINKS, *args, "--mongo-uri", mongo_uri, "--database", db.name], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def api(served, path: str, status: int = 200) -> dict:
    answer = served.get(path)
    assert answer.status == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    return json.loads(answer.body)


def without_time(profile: dict) -> dict:
    return {k: v for k, v in profile.items() if k != "generated_at"}


def test_the_profile_is_the_report(served, served_store, mongo_uri):
    report = json.loads(cli(mongo_uri, served_store, "report", TARGET, "--json"))
    assert report["backlinks"]["lost"] > 0 and report["broken"]["backlinks"] > 0  # the store has it all
    assert without_time(api(served, f"/api/v1/domains/{TARGET}/profile")) == without_time(report)
    assert api(served, "/api/v1/targets")["targets"][0]["domain"] == TARGET


def _export(mongo_uri, db, *args) -> list[dict]:
    return [json.loads(line) for line in cli(mongo_uri, db, "export", TARGET, "--format", "jsonl", *args).splitlines()]


def _key(row: dict) -> tuple:
    return row["referring_page"], row["target_url"], row["anchor"]


def _pages(served, **filters) -> list[dict]:
    """Every row of a filtered table, page after page by cursor."""
    rows, cursor, pages = [], None, 0
    while True:
        query = {**filters, **({"cursor": cursor} if cursor else {})}
        found = api(served, f"/api/v1/domains/{TARGET}/backlinks?{urlencode(query, doseq=True)}")
        rows += found["rows"]
        pages += 1
        cursor = found["next_cursor"]
        if cursor is None:
            return rows
        assert pages < 100


def test_paging_visits_every_backlink_once_as_the_export_has_them(served, served_store, mongo_uri):
    exported = _export(mongo_uri, served_store)
    for sort in ("last_seen", "first_seen", "authority"):
        rows = _pages(served, limit=3, sort=sort)
        assert len(rows) == len({_key(r) for r in rows}) == len(exported) > 6
        assert sorted(rows, key=_key) == sorted(exported, key=_key)  # the export's columns, the same values
        stamps = [r["domain_authority" if sort == "authority" else sort] or 0 for r in rows]
        assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize(
    ("filters", "export_args", "expected"),
    [
        ({"status": "lost"}, ("--lost",), None),
        ({"status": "live"}, ("--live",), None),
        ({"link_type": "sponsored"}, ("--link-type", "sponsored"), None),
        ({"link_type": "nofollow"}, ("--link-type", "nofollow"), None),
        ({"one_per_domain": "1"}, ("--one-per-domain",), None),
        ({"anchor": "PRIC"}, (), lambda r: "pric" in r["anchor"].lower()),
        ({"status": "broken"}, (), None),
    ],
)
def test_filters_keep_the_rows_the_store_says(served, served_store, mongo_uri, filters, export_args, expected):
    rows = _pages(served, limit=4, **filters)
    wanted = _export(mongo_uri, served_store, *export_args)
    if filters.get("status") == "broken":
        broken = {
            (d["source_url"], d["target_url"], d["anchor"]) for d in served_store.backlinks.find({"broken": True})
        }
        assert broken and {_key(r) for r in rows} == broken
        return
    if expected is not None:
        wanted = [r for r in wanted if expected(r)]
    assert wanted, "a filter that keeps nothing proves nothing"
    if "one_per_domain" in filters:
        assert sorted(r["referring_domain"] for r in rows) == sorted(r["referring_domain"] for r in wanted)
        assert {_key(r) for r in rows} == {_key(r) for r in wanted}  # the same best link of each domain
    else:
        assert sorted(map(_key, rows)) == sorted(map(_key, wanted))


def test_the_csv_download_has_exactly_the_filtered_rows(served, served_store, mongo_uri):
    answer = served.get(f"/d/{TARGET}/backlinks.csv?status=live&link_type=follow")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    wanted = _export(mongo_uri, served_store, "--live", "--link-type", "follow")
    assert sorted(map(_key, rows)) == sorted(map(_key, wanted)) and rows


def test_the_disavow_download_is_the_ticked_domains(served, served_store):
    ticked = sorted(d for d in served_store.backlinks.distinct("source_domain", {"target_domain": TARGET}))[:2]
    answer = served.get(f"/d/{TARGET}/disavow.txt?" + urlencode({"domain": ticked}, doseq=True))
    assert answer.status == 200 and "attachment" in answer.headers["content-disposition"]
    assert answer.text.startswith(f"# Disavow file for {TARGET}")
    domains, urls = read_disavow_list(answer.text.splitlines())
    assert domains == set(ticked) and not urls


def test_errors_are_json_with_a_status(served):
    assert api(served, f"/api/v1/domains/{TARGET}/backlinks?link_type=dofollow", 400)["error"].startswith("link_type=")
    assert "sort=" in api(served, f"/api/v1/domains/{TARGET}/backlinks?sort=authorityx", 400)["error"]
    assert "cursor" in api(served, f"/api/v1/domains/{TARGET}/backlinks?cursor=bm90LWEtY3Vyc29y", 400)["error"]
    assert api(served, "/api/v1/domains/never-linked.example/profile", 404)["status"] == 404
    assert api(served, "/api/v1/nothing-here", 404)["status"] == 404
    assert served.get("/d/never-linked.example").status == 404


def test_no_route_writes(served):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert served.get(f"/api/v1/domains/{TARGET}/backlinks", method=method).status == 405
        assert served.get(f"/d/{TARGET}/disavow", method=method).status == 405


def test_the_openapi_schema_lists_every_route(served):
    schema = api(served, "/api/v1/openapi.json")
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/targets", "/api/v1/domains/{domain}/profile", "/api/v1/domains/{domain}/backlinks",
                 "/api/v1/domains/{domain}/referring-domains", "/api/v1/domains/{domain}/anchors",
                 "/api/v1/domains/{domain}/history", "/api/v1/domains/{domain}/events", "/api/v1/status"):  # fmt: skip
        assert path in schema["paths"]
        concrete = path.replace("{domain}", TARGET)
        assert served.get(concrete).status == 200, concrete
    assert api(served, "/api/v1/status") == {"distributed": False}


def test_history_has_a_point_per_day_and_the_changes(served, served_store):
    history = api(served, f"/api/v1/domains/{TARGET}/history")
    assert len(history["referring_domains"]) >= 1 and history["referring_domains"][-1]["referring_domains"] > 0
    assert sum(day["lost"] for day in history["events"]) == served_store.events.count_documents(
        {"target_domain": TARGET, "type": "lost", "$expr": {"$ne": ["$source_domain", "$target_domain"]}}
    )


def test_a_public_address_needs_a_password(mongo_uri, served_store):
    refused = subprocess.run([BACKLINKS, "serve", "--host", "0.0.0.0", "--mongo-uri", mongo_uri], capture_output=True,
                             text=True, timeout=60, env={k: v for k, v in __import__("os").environ.items()
                                                          if k != "BACKLINKS_UI_PASSWORD"})  # fmt: skip
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "BACKLINKS_UI_PASSWORD" in refused.stderr
    server = Served(mongo_uri, served_store.name, host="0.0.0.0", password="s3cret-ui").start(password="s3cret-ui")
    try:
        for path in ("/", f"/d/{TARGET}", "/api/v1/targets", "/static/app.css"):
            denied = server.get(path)
            assert denied.status == 401 and denied.headers["www-authenticate"].startswith("Basic")
            assert server.get(path, password="wrong").status == 401
            assert server.get(path, password="s3cret-ui").status == 200
    finally:
        server.stop()


def test_events_page_through_every_event_newest_first(served, served_store):
    found, cursor = [], None
    while True:
        answer = api(served, f"/api/v1/domains/{TARGET}/events?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        found += answer["events"]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    external = {"target_domain": TARGET, "$expr": {"$ne": ["$source_domain", "$target_domain"]}}
    assert len(found) == served_store.events.count_documents(external) > 0
    assert [e["time"] for e in found] == sorted((e["time"] for e in found), reverse=True)
    assert {e["type"] for e in found} >= {"new", "lost"}


def test_crawl_status_reads_the_distributed_crawls_redis(mongo_uri, served_store, redis_server):
    redis_server.client().lpush("backlinks:start_urls", "http://www.seed-site.com/", "http://news-site.com/")
    server = Served(mongo_uri, served_store.name, "--redis-url", redis_server.url).start()
    try:
        status = api(server, "/api/v1/status")
        page = server.get("/crawl")
    finally:
        server.stop()
    assert status["distributed"] is True and status["start_urls"] == 2 and status["workers_alive"] == 0
    assert page.status == 200 and "not distributed" not in page.text.lower()


def test_the_search_boxes_find_domains_by_name(served, served_store):
    assert [t["domain"] for t in api(served, "/api/v1/targets?q=ACME")["targets"]] == [TARGET]
    assert api(served, "/api/v1/targets?q=no-such-name")["targets"] == []
    page = served.get(f"/d/{TARGET}/disavow?q=news").text
    assert "news-site.com" in page and "seed-site.com" not in page
