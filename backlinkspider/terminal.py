"""``backlinks report`` in the terminal: a backlink profile as rich tables.

It only lays out what ``store.profile`` returns; every figure has the same name
in ``--json``.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from backlinkspider.display import visible
from backlinkspider.export import iso
from backlinkspider.store import EVENT_TYPES, KINDS, LINK_TYPES


def _table(title: str, *columns: str, numeric_from: int = 1) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD, min_width=len(title))
    for i, name in enumerate(columns):
        table.add_column(
            name, justify="right" if i >= numeric_from else "left", overflow="fold", no_wrap=i >= numeric_from
        )
    return table


def _num(value) -> str:
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:.1f}"


def _web(value) -> Text:
    """A string from a crawled page or URL: plain text (rich markup is not read in it),
    control characters shown (``display.visible``)."""
    return Text(visible(str(value)))


def _share(n: int, of: int) -> str:
    return f"{100 * n / of:.0f}%" if of else "–"


def _day(value) -> str:
    return iso(value)[:10] if value else "–"


def render(profile: dict) -> Group:
    """The tables of one profile, top to bottom."""
    live = profile["backlinks"]["live"]
    authority = profile["authority"]
    title = Text.assemble(
        ("Backlink profile of ", "bold"),
        (visible(profile["domain"]), "bold cyan"),
        f"   authority {_num(authority) if authority is not None else 'not ranked'}   {iso(profile['generated_at'])}",
    )
    parts: list[RenderableType] = [title]

    overview = _table("Overview", "", "total", "live", "lost")
    for key in ("backlinks", "referring_domains", "referring_pages"):
        row = profile[key]
        overview.add_row(key.replace("_", " "), _num(row["total"]), _num(row["live"]), _num(row["lost"]))
    if profile.get("discovered_referring_domains") is not None:  # a crawl of the store expanded
        overview.add_row("  found by expanding", _num(profile["discovered_referring_domains"]), "", "")
    parts.append(overview)

    split = _table("Live backlinks by type", "", "backlinks", "share")
    for t in LINK_TYPES:
        split.add_row(t, _num(profile["link_types"][t]), _share(profile["link_types"][t], live))
    split.add_section()
    for k in KINDS:
        split.add_row(k, _num(profile["kinds"][k]), _share(profile["kinds"][k], live))
    parts.append(split)

    where = _table("Live backlinks by placement", "", "backlinks", "share")
    for placement, n in profile["placements"].items():
        if placement != "unknown" or n:  # unknown: stored before placements were, until a recrawl
            where.add_row(placement, _num(n), _share(n, live))
    parts.append(where)

    sitewide = profile["sitewide"]
    apart = _table("Hidden and sitewide", "", "backlinks", "share", "referring domains")
    apart.add_row("hidden", _num(profile["hidden"]), _share(profile["hidden"], live), "")
    apart.add_row(
        "sitewide",
        _num(sitewide["backlinks"]),
        _share(sitewide["backlinks"], live),
        _num(sitewide["referring_domains"]),
    )
    parts.append(apart)

    categories = _table("Anchors by category", "", "backlinks", "referring domains")
    for category, row in profile["anchor_categories"].items():
        categories.add_row(category.replace("_", " "), _num(row["backlinks"]), _num(row["referring_domains"]))
    parts.append(categories)

    languages = _table("Languages of referring pages", "", "referring pages")
    for row in profile["languages"]:
        languages.add_row(_web(row["language"]) if row["language"] else Text("unknown", style="dim"),
                          _num(row["referring_pages"]))  # fmt: skip
    parts.append(languages)

    changes = profile["new_and_lost"]
    source = "" if changes["source"] == "events" else " (from first_seen/lost_at: no events stored)"
    new_lost = _table(f"New and lost{source}", "", "last 7 days", "last 30 days")
    for t in EVENT_TYPES:
        new_lost.add_row(t.replace("_", " "), _num(changes["last_7_days"][t]), _num(changes["last_30_days"][t]))
    parts.append(new_lost)

    rows = profile["top_referring_domains"]
    scored = any(row.get("toxicity") is not None for row in rows)  # after `backlinks score`
    # short names for the scored columns: the table still fits 80 columns
    columns = ("domain", "authority", *(("relev.", "toxic") if scored else ()), "backlinks", "followed")
    domains = _table("Top referring domains", *columns, "first seen")
    for row in rows:
        scores = (_num(row["relevance"]), _num(row["toxicity"])) if scored else ()
        domains.add_row(
            _web(row["domain"]), _num(row["authority"]), *scores, _num(row["backlinks"]), _num(row["follow"]),
            _day(row["first_seen"]),
        )  # fmt: skip
    parts.append(domains)

    anchors = _table("Top anchors", "anchor", "referring domains", "backlinks")
    for row in profile["top_anchors"]:
        anchors.add_row(
            _web(row["anchor"]) if row["anchor"] else Text("(no text)", style="dim"),
            _num(row["referring_domains"]),
            _num(row["backlinks"]),
        )
    parts.append(anchors)

    pages = _table("Top linked pages", "target URL", "referring domains", "backlinks", "status")
    for row in profile["top_target_pages"]:
        pages.add_row(
            _web(row["target_url"]), _num(row["referring_domains"]), _num(row["backlinks"]), _num(row["target_status"])
        )
    parts.append(pages)

    broken = profile["broken"]
    table = _table(
        f"Broken backlinks: {broken['backlinks']:,} live backlinks point at pages that fail",
        "target URL",
        "status",
        "referring domains",
        "backlinks",
    )
    for row in broken["target_pages"]:
        status = _num(row["target_status"]) if row["target_status"] is not None else _web(row["target_error"])
        table.add_row(_web(row["target_url"]), status, _num(row["referring_domains"]), _num(row["backlinks"]))
    parts.append(table)
    return Group(*parts)


def print_profile(profile: dict, console: Console | None = None) -> None:
    (console or Console()).print(render(profile))


def render_audit(audit: dict) -> Group:
    """``backlinks audit``'s tables: bands, the most relevant backlinks, the most toxic domains, reasons."""
    title = Text.assemble(
        ("Relevance and toxicity of ", "bold"),
        (visible(audit["domain"]), "bold cyan"),
        f"   scored {iso(audit['scored_at']) if audit['scored_at'] else 'never: run `backlinks score`'}",
    )
    parts: list[RenderableType] = [title]
    bands = _table("Distribution", "band", "live backlinks by relevance", "referring domains by toxicity")
    for name in audit["relevance"]:
        bands.add_row(name, _num(audit["relevance"][name]), _num(audit["toxicity"][name]))
    parts.append(bands)

    relevant = _table(
        "Most relevant followed content backlinks", "referring page", "target URL", "relevance", "basis", numeric_from=2
    )
    for row in audit["most_relevant"]:
        relevant.add_row(
            _web(row["source_url"]), _web(row["target_url"]), _num(row["relevance"]), row["relevance_basis"] or "–"
        )
    parts.append(relevant)

    toxic = _table("Most toxic referring domains", "referring domain", "toxicity", numeric_from=1)
    toxic.columns[0].no_wrap = True
    toxic.add_column("reasons", justify="left", overflow="fold", ratio=1)
    for row in audit["most_toxic"]:
        reasons = "\n".join(visible(f"{r['code']} (+{r['weight']}): {r['detail']}") for r in row["toxic_reasons"])
        toxic.add_row(_web(row["source_domain"]), _num(row["toxicity"]), Text(reasons or "–"))
    parts.append(toxic)

    share = _table("What each reason touches", "reason", "weight", "referring domains", "share", "backlinks", "share")
    share.columns[0].no_wrap = True
    for code, row in audit["reasons"].items():
        share.add_row(
            code,
            f"+{row['weight']}",
            _num(row["referring_domains"]),
            _share(row["referring_domains"], audit["referring_domains"]),
            _num(row["backlinks"]),
            f"{100 * row['backlinks_share']:.0f}%",
        )
    parts.append(share)
    return Group(*parts)
