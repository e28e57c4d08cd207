"""The dashboard's pages: server-rendered HTML that works with JavaScript off.

Each page reads what it shows through ``web.data.Store`` and renders one
Jinja2 template (autoescaped: anchors, titles and URLs come from pages anyone
can write). Filters are plain GET forms, so every table state is a URL that can
be bookmarked, shared, and downloaded as CSV with exactly the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from backlinkspider import __version__
from backlinkspider.export import DISAVOW_MAX_BYTES, DISAVOW_MAX_LINES, cell, disavow_file, iso
from backlinkspider.store.reads import EXPORT_COLUMNS
from backlinkspider.store.schema import KINDS, LINK_TYPES, PLACEMENTS
from backlinkspider.urls import domain_of
from backlinkspider.web import svg
from backlinkspider.web.api import _params
from backlinkspider.web.filters import SORTS, STATUSES, BacklinkQuery, BadFilter, decode_cursor, encode_cursor

REFERRING_PAGE = 100  # referring domains per page

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.globals.update(version=__version__, iso=iso)
templates.env.filters["number"] = lambda n: "–" if n is None else f"{n:,}" if isinstance(n, int) else f"{n:,.1f}"
templates.env.filters["day"] = lambda d: "–" if d is None else d.astimezone(timezone.utc).strftime("%Y-%m-%d")
templates.env.filters["minute"] = lambda d: d.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


async def _domain(request: Request) -> str | HTMLResponse:
    raw = request.path_params["domain"]
    found = domain_of(raw)
    if not found or not await request.app.state.store.known(found):
        message = f"No backlinks into {found or raw} in the store." if found else f"{raw!r} is not a domain."
        return page(request, "error.html", 404, title="Not found", message=message)
    return found


async def index(request: Request) -> HTMLResponse:
    search = request.query_params.get("q", "").strip()
    if search and domain_of(search) and await request.app.state.store.known(domain_of(search)):
        return RedirectResponse(f"/d/{domain_of(search)}", 303)  # type: ignore[return-value]
    found, table = await request.app.state.store.targets(search)
    return page(request, "index.html", targets=found, search=search, table=table)


def _authority_chart(counts: list[int]) -> Markup:
    """``summaries.authority_buckets``' counts (tenths of authority, then unrated) as bars."""
    label = "Referring domains by authority"
    if sum(counts) and counts[-1] == sum(counts):
        return svg.empty(label, "Not rated yet: run backlinks rank")
    names = [f"{lo}–{lo + 10}" for lo in range(0, 100, 10)] + ["unrated"]
    return svg.bars(list(zip(names, counts, strict=True)), label)


async def overview(request: Request) -> HTMLResponse:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    store = request.app.state.store
    summary = await store.summary(domain)
    profile = await store.profile(domain, summary=summary)
    history = await store.history(domain, summary=summary)
    charts = {
        "referring": svg.line(
            [(row["day"], row["referring_domains"]) for row in history["referring_domains"]],
            "Live referring domains per day",
        ),
        "changes": svg.paired_bars(history["events"], ("new", "lost"), "New and lost backlinks per day"),
        "types": svg.bars(list(profile["link_types"].items()), "Live backlinks by link type"),
        "authority": _authority_chart(summary["referring"]["authority_buckets"]),
    }
    placed = {k: v for k, v in profile["placements"].items() if v}
    return page(request, "overview.html", domain=domain, p=profile, charts=charts, placed=placed, tab="overview",
                summary=summary)  # fmt: skip


async def backlinks(request: Request) -> HTMLResponse:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    try:
        query = BacklinkQuery.parse(domain, _params(request))
    except BadFilter as exc:
        return page(request, "error.html", 400, title="Bad filter", message=str(exc), domain=domain)
    rows, following = await request.app.state.store.backlinks(query)
    return page(
        request,
        "backlinks.html",
        domain=domain,
        q=query,
        rows=rows,
        following=following,
        tab="backlinks",
        choices={"link_type": LINK_TYPES, "kind": KINDS, "status": STATUSES, "placement": (*PLACEMENTS, "unknown")},
        sorts=SORTS,
    )


async def backlinks_csv(request: Request) -> Response:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    try:
        query = BacklinkQuery.parse(domain, {k: v for k, v in _params(request).items() if k != "cursor"})
    except BadFilter as exc:
        return PlainTextResponse(f"400: {exc}\n", 400)
    store = request.app.state.store

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        async for row in store.all_backlinks(query):
            writer.writerow({k: cell(v) for k, v in row.items()})
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    name = f"{domain}-backlinks-{datetime.now(timezone.utc):%Y%m%d}.csv"
    return StreamingResponse(
        lines(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


async def referring_domains(request: Request) -> HTMLResponse:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    number = request.query_params.get("page", "1")
    if not number.isdigit() or int(number) < 1:
        return page(request, "error.html", 400, title="Bad page", message=f"page={number!r} is not a page number")
    start = (int(number) - 1) * REFERRING_PAGE
    rows, total = await request.app.state.store.referring_domains(domain, start, start + REFERRING_PAGE)
    return page(request, "referring_domains.html", domain=domain, rows=rows, total=total, number=int(number),
                more=start + REFERRING_PAGE < total, first=start + 1, tab="referring-domains")  # fmt: skip


async def disavow(request: Request) -> HTMLResponse:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    search = request.query_params.get("q", "").strip().lower()
    store = request.app.state.store
    summary = await store.summary(domain)
    rows, total = await store.disavow_candidates(domain, search, summary)
    scored = summary["referring"]["scored"]
    return page(request, "disavow.html", domain=domain, rows=rows, total=total, find=search, scored=scored,
                tab="disavow")  # fmt: skip


async def disavow_txt(request: Request) -> Response:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    ticked = {d for raw in request.query_params.getlist("domain") if (d := raw.strip().lower())}
    candidates, _ = await request.app.state.store.referring_domains(domain)
    text = disavow_file(domain, candidates, None, ticked, set())
    if len(text.encode()) > DISAVOW_MAX_BYTES or text.count("\n") > DISAVOW_MAX_LINES:
        return PlainTextResponse(
            f"400: Google accepts at most {DISAVOW_MAX_LINES:,} lines and {DISAVOW_MAX_BYTES:,} bytes\n", 400
        )
    name = f"disavow-{domain}.txt"
    return PlainTextResponse(text, headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def anchors(request: Request) -> HTMLResponse:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    profile = await request.app.state.store.profile(domain, top=100)
    return page(request, "anchors.html", domain=domain, p=profile, tab="anchors")


async def target_pages(request: Request) -> HTMLResponse:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    profile = await request.app.state.store.profile(domain, top=100)
    note = "The 100 pages of the site with most referring domains."
    rows = profile["top_target_pages"]
    heading = f"Linked pages of {domain}"
    return page(request, "target_pages.html", domain=domain, rows=rows, tab="pages", heading=heading, note=note)


async def broken(request: Request) -> HTMLResponse:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    profile = await request.app.state.store.profile(domain, top=100)
    return page(request, "target_pages.html", domain=domain, rows=profile["broken"]["target_pages"], tab="broken",
                heading=f"Broken pages of {domain}", note="Linked pages a target check found failing "
                "(backlinks check-targets): fix them or redirect them, the links are worth it.")  # fmt: skip


async def lost(request: Request) -> Response:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    return RedirectResponse(f"/d/{domain}/backlinks?status=lost&sort=last_seen", 303)


async def events(request: Request) -> HTMLResponse:
    domain = await _domain(request)
    if isinstance(domain, HTMLResponse):
        return domain
    try:
        after = decode_cursor(request.query_params["cursor"]) if request.query_params.get("cursor") else None
    except BadFilter as exc:
        return page(request, "error.html", 400, title="Bad cursor", message=str(exc), domain=domain)
    found, following = await request.app.state.store.events(domain, after)
    return page(request, "events.html", domain=domain, events=found, tab="events", first=after is None,
                following=following and encode_cursor(*following))  # fmt: skip


async def crawl(request: Request) -> HTMLResponse:
    return page(request, "crawl.html", cluster=await request.app.state.crawl_status(), tab="crawl")


routes = [
    Route("/", index),
    Route("/crawl", crawl),
    Route("/d/{domain}", overview),
    Route("/d/{domain}/backlinks", backlinks),
    Route("/d/{domain}/backlinks.csv", backlinks_csv),
    Route("/d/{domain}/referring-domains", referring_domains),
    Route("/d/{domain}/anchors", anchors),
    Route("/d/{domain}/pages", target_pages),
    Route("/d/{domain}/broken", broken),
    Route("/d/{domain}/lost", lost),
    Route("/d/{domain}/events", events),
    Route("/d/{domain}/disavow", disavow),
    Route("/d/{domain}/disavow.txt", disavow_txt),
]
