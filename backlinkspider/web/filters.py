"""The backlinks table's filters, sort and cursor, read from a query string.

One parser for the page, its CSV download and the API, so the three always mean
the same rows. Paging is by cursor, not skip/limit: the cursor holds the sort
value and ``_id`` of the last row shown, and the next page starts after it,
which an index on the sort field answers however deep the page (skip would
walk every row before it).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from bson import ObjectId
from bson.errors import InvalidId

from backlinkspider.store.schema import KINDS, LINK_TYPES, PLACEMENTS

STATUSES = ("live", "lost", "broken")
SORTS = ("last_seen", "first_seen", "authority", "relevance")
PAGE = 50
MAX_PAGE = 1000


class BadFilter(ValueError):
    """A filter the table cannot apply; ``str()`` says which and why (HTTP 400)."""


def _pick(params: Mapping[str, Sequence[str]], name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    values = tuple(v for raw in params.get(name, ()) for v in raw.split(",") if v)
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise BadFilter(f"{name}={wrong[0]!r} is not one of {', '.join(allowed)}")
    return tuple(sorted(set(values)))


def _one(params: Mapping[str, Sequence[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[-1].strip()


def _day(params: Mapping[str, Sequence[str]], name: str) -> date | None:
    text = _one(params, name)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"{name}={text!r} is not a date (YYYY-MM-DD)") from None


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return {"$date": value.isoformat()}
    if isinstance(value, ObjectId):
        return {"$oid": str(value)}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict) and "$date" in value:
        return datetime.fromisoformat(value["$date"])
    if isinstance(value, dict) and "$oid" in value:
        return ObjectId(value["$oid"])
    return value


def encode_cursor(value: object, last_id: object) -> str:
    """An opaque cursor: the last row's sort value and ``_id`` (dates and ObjectIds kept typed)."""
    return base64.urlsafe_b64encode(json.dumps([_encode(value), _encode(last_id)]).encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple:
    """``encode_cursor``'s pair back; ``BadFilter`` for anything this server did not hand out."""
    try:
        value, last_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return _decode(value), _decode(last_id)
    except (ValueError, TypeError, KeyError, InvalidId):
        raise BadFilter("cursor is not one this server handed out") from None


@dataclass(frozen=True)
class BacklinkQuery:
    """Which backlinks of ``domain`` a table shows, in what order, from where."""

    domain: str
    link_types: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    placements: tuple[str, ...] = ()
    referring_domain: str = ""
    anchor: str = ""
    first_seen_from: date | None = None
    first_seen_to: date | None = None
    one_per_domain: bool = False
    sort: str = "last_seen"
    limit: int = PAGE
    after: tuple | None = field(default=None, compare=False)  # (sort value, _id) of the last row shown

    @classmethod
    def parse(cls, domain: str, params: Mapping[str, Sequence[str]]) -> BacklinkQuery:
        sort = _one(params, "sort") or "last_seen"
        if sort not in SORTS:
            raise BadFilter(f"sort={sort!r} is not one of {', '.join(SORTS)}")
        limit_text = _one(params, "limit") or str(PAGE)
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
            raise BadFilter(f"limit={limit_text!r} is not a whole number from 1 to {MAX_PAGE}")
        query = cls(
            domain=domain,
            link_types=_pick(params, "link_type", LINK_TYPES),
            kinds=_pick(params, "kind", KINDS),
            status=_pick(params, "status", STATUSES),
            placements=_pick(params, "placement", (*PLACEMENTS, "unknown")),
            referring_domain=_one(params, "referring_domain").lower(),
            anchor=_one(params, "anchor"),
            first_seen_from=_day(params, "first_seen_from"),
            first_seen_to=_day(params, "first_seen_to"),
            one_per_domain=_one(params, "one_per_domain") in ("1", "on", "true", "yes"),
            sort=sort,
            limit=int(limit_text),
        )
        cursor = _one(params, "cursor")
        return replace(query, after=decode_cursor(cursor)) if cursor else query

    # --- MongoDB ---------------------------------------------------------------------

    def match(self) -> dict:
        """The ``$match`` of every row the filters keep (before the cursor)."""
        found: dict = {"target_domain": self.domain, "internal": False}
        if self.link_types:
            found["link_types"] = {"$in": list(self.link_types)}
        if self.kinds:
            found["kind"] = {"$in": list(self.kinds)}
        either: list[dict] = []
        if "live" in self.status:
            either.append({"lost_at": None})
        if "lost" in self.status:
            either.append({"lost_at": {"$ne": None}})
        if "broken" in self.status:
            either.append({"broken": True})
        if either:
            found["$or"] = either
        if self.placements:
            found["placement"] = {"$in": [None if p == "unknown" else p for p in self.placements]}
        if self.referring_domain:
            found["source_domain"] = self.referring_domain
        if self.anchor:
            found["anchor"] = {"$regex": re.escape(self.anchor), "$options": "i"}
        seen: dict = {}
        if self.first_seen_from:
            seen["$gte"] = datetime(*self.first_seen_from.timetuple()[:3], tzinfo=timezone.utc)
        if self.first_seen_to:
            seen["$lt"] = datetime(*self.first_seen_to.timetuple()[:3], tzinfo=timezone.utc) + timedelta(days=1)
        if seen:
            found["first_seen"] = seen
        return found

    def page_match(self) -> dict:
        """``match`` and, past the first page, only rows after the cursor (newest first)."""
        found = self.match()
        if self.after is None:
            return found
        value, last_id = self.after
        if self.one_per_domain:
            return {"$and": [found, {"source_domain": {"$gt": value}}]}
        # No ``_id``: a page cut short by its reading budget; go on strictly below ``value``.
        later = [{self.sort: value, "_id": {"$lt": last_id}}] if last_id is not None else []
        if value is not None:  # nulls (never scored, say) sort last, after every value
            later += [{self.sort: {"$lt": value}}, {self.sort: None}]
        return {"$and": [found, {"$or": later}]}

    def sort_spec(self) -> list[tuple[str, int]]:
        return [("source_domain", 1)] if self.one_per_domain else [(self.sort, -1), ("_id", -1)]

    # --- Cursors and links ------------------------------------------------------------

    def only_one_per_domain(self) -> bool:
        """Whether "one link per domain" is the only filter: then the domain's summary holds
        each referring domain's best link, highest authority first, and the cursor is a
        position in that list. With other filters the best link is chosen among the rows they
        keep, by referring domain name."""
        return replace(self, sort="last_seen", limit=PAGE, after=None) == BacklinkQuery(
            self.domain, one_per_domain=True
        )

    def _after(self, doc: dict) -> tuple:
        if self.sort == "authority" and not self.one_per_domain:  # its referring domain's place, and ``_id``
            return (doc["_position"], doc["_id"])
        if "_position" in doc:
            return (doc["_position"] + 1, None)
        return (doc["source_domain"], None) if self.one_per_domain else (doc.get(self.sort), doc["_id"])

    def next_page(self, doc: dict) -> BacklinkQuery:
        """This query, from the row after ``doc`` (the last row shown)."""
        return replace(self, after=self._after(doc))

    def cursor_after(self, doc: dict) -> str:
        """The cursor of the page that follows ``doc``, for a link or the API."""
        return encode_cursor(*self._after(doc))

    def cursor(self) -> str:
        """The cursor this query's page starts from (``after``), for a link or the API."""
        return encode_cursor(*(self.after or (None, None)))

    def params(self, **change: Any) -> list[tuple[str, str]]:
        """The query string of this table (``change`` applied), as the page links and forms use it."""
        q = replace(self, **change) if change else self
        out: list[tuple[str, str]] = [("link_type", t) for t in q.link_types]
        out += [("kind", k) for k in q.kinds] + [("status", s) for s in q.status]
        out += [("placement", p) for p in q.placements]
        for name in ("referring_domain", "anchor"):
            if getattr(q, name):
                out.append((name, getattr(q, name)))
        for name in ("first_seen_from", "first_seen_to"):
            if getattr(q, name):
                out.append((name, getattr(q, name).isoformat()))
        if q.one_per_domain:
            out.append(("one_per_domain", "1"))
        if q.sort != "last_seen":
            out.append(("sort", q.sort))
        if q.limit != PAGE:
            out.append(("limit", str(q.limit)))
        return out

    def query_string(self, **change: Any) -> str:
        return urlencode(self.params(**change))
