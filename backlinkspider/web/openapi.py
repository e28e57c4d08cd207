"""The API's OpenAPI 3.1 description, served at ``/api/v1/openapi.json``.

Written out rather than generated: the API is a handful of read-only routes,
and a schema kept beside them says exactly what the filters accept.
"""

from __future__ import annotations

from typing import Any

from backlinkspider import __version__
from backlinkspider.store.reads import EXPORT_COLUMNS
from backlinkspider.store.schema import KINDS, LINK_TYPES, PLACEMENTS
from backlinkspider.web.filters import MAX_PAGE, PAGE, SORTS, STATUSES


def _query(name: str, description: str, schema: dict, explode: bool = False) -> dict:
    found: dict[str, Any] = {"name": name, "in": "query", "required": False, "description": description}
    if explode:
        found.update({"schema": {"type": "array", "items": schema}, "style": "form", "explode": True})
    else:
        found["schema"] = schema
    return found


DOMAIN = {"name": "domain", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "a registered domain (a host or URL is read as its domain)"}  # fmt: skip
FILTERS = [
    _query("link_type", "any of these link types", {"enum": list(LINK_TYPES)}, explode=True),
    _query("kind", "any of these kinds", {"enum": list(KINDS)}, explode=True),
    _query("status", "live, lost, broken (any of)", {"enum": list(STATUSES)}, explode=True),
    _query("placement", "any of these placements", {"enum": [*PLACEMENTS, "unknown"]}, explode=True),
    _query("referring_domain", "only backlinks from this referring domain", {"type": "string"}),
    _query("anchor", "anchor text contains (case-insensitive)", {"type": "string"}),
    _query("first_seen_from", "first seen on or after (UTC day)", {"type": "string", "format": "date"}),
    _query("first_seen_to", "first seen on or before (UTC day)", {"type": "string", "format": "date"}),
    _query("one_per_domain", "1: the best backlink of each referring domain, by domain", {"enum": ["1", "0"]}),
    _query("sort", "newest first by this field", {"enum": list(SORTS), "default": "last_seen"}),
    _query("limit", "rows a page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": PAGE}),
    _query("cursor", "next_cursor of the previous page", {"type": "string"}),
]
ERROR = {"type": "object", "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}}


def _answer(description: str, body: dict, *errors: int) -> dict:
    responses: dict[str, Any] = {"200": {"description": description, "content": {"application/json": {"schema": body}}}}
    for status in errors:
        responses[str(status)] = {
            "description": {400: "a filter the table cannot apply", 404: "no backlinks into that domain"}[status],
            "content": {"application/json": {"schema": ERROR}},
        }
    return responses


def _get(summary: str, description: str, body: dict, parameters: list[dict], *errors: int) -> dict:
    return {"get": {"summary": summary, "parameters": parameters, "responses": _answer(description, body, *errors)}}


ROW = {"type": "object", "properties": {c: {} for c in EXPORT_COLUMNS}}


def _paging(what: str, most: int, default: int) -> list[dict]:
    """``limit`` and ``cursor``: a list read a page at a time."""
    return [
        _query("limit", f"{what} a page", {"type": "integer", "minimum": 1, "maximum": most, "default": default}),
        _query("cursor", "next_cursor of the previous page", {"type": "string"}),
    ]


def schema() -> dict:
    obj = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "backlinkspider",
            "version": __version__,
            "description": "Read-only access to a backlinkspider store: the backlink profiles, tables and history "
            "that `backlinks serve` shows. Dates are ISO 8601 UTC.",
        },
        "paths": {
            "/api/v1/targets": _get(
                "Domains with backlinks",
                "most live backlinks first (the 100 first); computed_at: when the table was computed, stale: true "
                "while a crawl has written since (its end computes it again)",
                {
                    "type": "object",
                    "properties": {
                        "targets": {"type": "array", "items": obj},
                        "computed_at": {"type": "string", "format": "date-time"},
                        "stale": {"type": "boolean"},
                    },
                },
                [_query("q", "only domains whose name contains this", {"type": "string"})],
            ),
            "/api/v1/domains/{domain}/profile": _get(
                "The backlink profile",
                "the same object as `backlinks report DOMAIN --json`",
                obj,
                [DOMAIN, _query("top", "rows in each top list", {"type": "integer", "default": 10})],
                400,
                404,
            ),
            "/api/v1/domains/{domain}/backlinks": _get(
                "Backlinks, filtered, a page at a time",
                "rows with the columns of `backlinks export --format jsonl`; next_cursor is null on the last page. "
                "A page may hold fewer rows than limit when its filters keep few: each request reads a bounded "
                "stretch of the index; follow next_cursor until it is null",
                {
                    "type": "object",
                    "properties": {
                        "rows": {"type": "array", "items": ROW},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                },
                [DOMAIN, *FILTERS],
                400,
                404,
            ),
            "/api/v1/domains/{domain}/referring-domains": _get(
                "Referring domains, a page at a time",
                "with backlinks, live backlinks, authority and toxicity; highest authority first, then by name; "
                "total: how many; next_cursor is null on the last page",
                {
                    "type": "object",
                    "properties": {
                        "total": {"type": "integer"},
                        "referring_domains": {"type": "array", "items": obj},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                },
                [DOMAIN, *_paging("rows", 10000, 1000)],
                400,
                404,
            ),
            "/api/v1/domains/{domain}/anchors": _get(
                "Anchors", "the 100 anchors with most referring domains, and anchor categories", obj, [DOMAIN], 404
            ),
            "/api/v1/domains/{domain}/history": _get(
                "Daily history",
                "live referring domains at the end of each day, and new/lost/recovered/changed per day",
                obj,
                [DOMAIN],
                404,
            ),
            "/api/v1/domains/{domain}/events": _get(
                "Events, newest first",
                "new, lost (with reason), recovered and changed backlinks; next_cursor is null on the last page",
                obj,
                [DOMAIN, *_paging("events", 1000, 100)],
                400,
                404,
            ),
            "/api/v1/status": _get(
                "The distributed crawl", "as `backlinks status --json`; distributed: false without REDIS_URL", obj, []
            ),
        },
    }
