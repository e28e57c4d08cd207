"""The dashboard's pure parts: the table's filters and cursors, and the SVG charts."""

from __future__ import annotations

from datetime import date, datetime, timezone
from urllib.parse import parse_qs

import pytest
from bson import ObjectId

from backlinkspider.web import svg
from backlinkspider.web.filters import BacklinkQuery, BadFilter, decode_cursor, encode_cursor


def parse(query: str) -> BacklinkQuery:
    return BacklinkQuery.parse("acme-tools.com", parse_qs(query))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("link_type=dofollow", "link_type='dofollow' is not one of follow"),
        ("status=alive", "status='alive'"),
        ("placement=sidebar", "placement='sidebar'"),
        ("first_seen_from=yesterday", "first_seen_from='yesterday' is not a date"),
        ("sort=authorityx", "sort='authorityx'"),
        ("limit=0", "limit='0'"),
        ("limit=5000", "limit='5000'"),
        ("cursor=%7B%22%24ne%22%3A1%7D", "cursor is not one this server handed out"),
    ],
)
def test_bad_filters_say_which_and_why(query, message):
    with pytest.raises(BadFilter, match=message.replace("[", r"\[")):
        parse(query)


def test_a_query_string_round_trips():
    q = parse(
        "link_type=nofollow&link_type=ugc&kind=image&status=lost&placement=unknown&referring_domain=Blog.Example.org"
        "&anchor=a.b*&first_seen_from=2026-01-02&first_seen_to=2026-02-03&one_per_domain=1&sort=first_seen&limit=7"
    )
    assert q.referring_domain == "blog.example.org" and q.first_seen_to == date(2026, 2, 3)
    assert parse(q.query_string()) == q
    match = q.match()
    assert match["placement"] == {"$in": [None]}  # unknown: stored before placements were
    assert match["anchor"] == {"$regex": r"a\.b\*", "$options": "i"}  # text, not a pattern
    assert match["first_seen"]["$lt"] == datetime(2026, 2, 4, tzinfo=timezone.utc)  # the whole last day


def test_cursors_keep_dates_and_object_ids_and_nulls_sort_last():
    when, oid = datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc), ObjectId()
    assert decode_cursor(encode_cursor(when, oid)) == (when, oid)
    q = parse("sort=relevance&cursor=" + encode_cursor(41.5, oid))
    later = q.page_match()["$and"][1]["$or"]
    assert {"relevance": None} in later and {"relevance": {"$lt": 41.5}} in later
    unscored = parse("sort=relevance&cursor=" + encode_cursor(None, oid)).page_match()["$and"][1]["$or"]
    assert unscored == [{"relevance": None, "_id": {"$lt": oid}}]


def test_one_day_of_history_is_a_visible_point_and_no_day_says_so():
    one = svg.line([(date(2026, 12, 1), 3)], "referring domains")
    assert one.count("<circle") == 1 and "Dec 01" in one
    assert "No referring domains yet" in svg.line([], "referring domains")
    assert "<script" not in svg.bars([("<script>", 1)], "x") and "&lt;script&gt;" in svg.bars([("<script>", 1)], "x")
