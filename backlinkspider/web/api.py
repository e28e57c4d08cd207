"""The JSON API under ``/api/v1/``: what the pages show, for scripts.

Every answer is JSON, errors too (``{"error": …}`` with 400 for a filter the
table cannot apply, 404 for a domain the store has no backlinks into). Dates are
ISO 8601 UTC, as in ``backlinks report --json`` and the exports.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from bson import ObjectId
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backlinkspider.export import iso
from backlinkspider.urls import domain_of
from backlinkspider.web.filters import BacklinkQuery, BadFilter, decode_cursor, encode_cursor
from backlinkspider.web.openapi import schema


def _plain(value: Any) -> Any:
    """JSON for what the store returns beyond JSON: datetimes as the report writes them, days, ids."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, ObjectId):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class JSON(Response):
    """``json.dumps`` with the report's dates, and crawled text kept as it is (UTF-8)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_plain, ensure_ascii=False).encode()


def error(status: int, message: str) -> JSON:
    return JSON({"error": message, "status": status}, status_code=status)


async def _domain(request: Request) -> str | JSON:
    """The registered domain in the path, known to the store; or the error to answer."""
    raw = request.path_params["domain"]
    found = domain_of(raw)
    if not found:
        return error(404, f"{raw!r} is not a domain")
    if not await request.app.state.store.known(found):
        return error(404, f"no backlinks into {found} in the store")
    return found


REFERRING_LIMIT = 1000  # referring domains a page of the API, unless limit says
MAX_REFERRING = 10_000


def _params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


async def targets(request: Request) -> JSON:
    store = request.app.state.store
    rows, table = await store.targets(request.query_params.get("q", "").strip())
    return JSON({"targets": rows, "computed_at": table["computed_from"], "stale": table["stale"]})


async def profile(request: Request) -> JSON:
    domain = await _domain(request)
    if isinstance(domain, JSON):
        return domain
    top = request.query_params.get("top", "10")
    if not top.isdigit() or not 1 <= int(top) <= 1000:
        return error(400, f"top={top!r} is not a whole number from 1 to 1000")
    return JSON(await request.app.state.store.profile(domain, top=int(top)))


async def backlinks(request: Request) -> JSON:
    domain = await _domain(request)
    if isinstance(domain, JSON):
        return domain
    try:
        query = BacklinkQuery.parse(domain, _params(request))
    except BadFilter as exc:
        return error(400, str(exc))
    rows, following = await request.app.state.store.backlinks(query)
    return JSON({"domain": domain, "rows": rows, "next_cursor": following})


async def referring_domains(request: Request) -> JSON:
    domain = await _domain(request)
    if isinstance(domain, JSON):
        return domain
    try:
        start = decode_cursor(request.query_params["cursor"])[0] if request.query_params.get("cursor") else 0
    except BadFilter as exc:
        return error(400, str(exc))
    limit = request.query_params.get("limit", str(REFERRING_LIMIT))
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_REFERRING or not isinstance(start, int) or start < 0:
        return error(400, f"limit={limit!r} is not a whole number from 1 to {MAX_REFERRING}")
    rows, total = await request.app.state.store.referring_domains(domain, start, start + int(limit))
    following = encode_cursor(start + int(limit), None) if start + int(limit) < total else None
    return JSON({"domain": domain, "total": total, "referring_domains": rows, "next_cursor": following})


async def anchors(request: Request) -> JSON:
    domain = await _domain(request)
    if isinstance(domain, JSON):
        return domain
    found = await request.app.state.store.profile(domain, top=100)
    return JSON({"domain": domain, "anchors": found["top_anchors"], "categories": found["anchor_categories"]})


async def history(request: Request) -> JSON:
    domain = await _domain(request)
    if isinstance(domain, JSON):
        return domain
    return JSON({"domain": domain, **await request.app.state.store.history(domain)})


async def events(request: Request) -> JSON:
    domain = await _domain(request)
    if isinstance(domain, JSON):
        return domain
    try:
        after = decode_cursor(request.query_params["cursor"]) if request.query_params.get("cursor") else None
    except BadFilter as exc:
        return error(400, str(exc))
    limit = request.query_params.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        return error(400, f"limit={limit!r} is not a whole number from 1 to 1000")
    found, following = await request.app.state.store.events(domain, after, int(limit))
    for event in found:
        event.pop("_id", None)
    return JSON({"domain": domain, "events": found, "next_cursor": following and encode_cursor(*following)})


async def status(request: Request) -> JSON:
    return JSON(await request.app.state.crawl_status())


async def openapi(request: Request) -> JSON:
    return JSON(schema())


routes = [
    Route("/api/v1/openapi.json", openapi),
    Route("/api/v1/targets", targets),
    Route("/api/v1/status", status),
    Route("/api/v1/domains/{domain}/profile", profile),
    Route("/api/v1/domains/{domain}/backlinks", backlinks),
    Route("/api/v1/domains/{domain}/referring-domains", referring_domains),
    Route("/api/v1/domains/{domain}/anchors", anchors),
    Route("/api/v1/domains/{domain}/history", history),
    Route("/api/v1/domains/{domain}/events", events),
]
