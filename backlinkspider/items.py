"""The items a crawl produces: one ``PageItem`` per fetched page, holding its ``Link``s,
and one ``TargetItem`` per target URL checked (``-a check_targets=1``).

One item per page, not per link: the pipelines see a page's whole link set at once
(what de-duplication and lost-link detection need) and per-item overhead is
paid once a page. Plain dataclasses, which itemadapter reads like any Scrapy item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class Link:
    """One ``<a href>`` or ``<area href>`` of a page, to an http(s) URL."""

    url: str  # absolute, canonical (backlinkspider.urls.canonicalize)
    anchor: str  # visible text, or the alt of images inside; may be ""
    rel: tuple[str, ...]  # distinct lower-case rel tokens, in the order written
    kind: str  # "text", "image", or "redirect" (through another domain, see redirect_url)
    host: str = ""  # lower-case, punycode; set with the canonical URL
    redirect_url: str = ""  # kind "redirect": the URL the page links to, which redirects to ``url``
    # Where it sits and what surrounds it (backlinkspider.layout, backlinkspider.link_context):
    placement: str = "content"  # content, nav, header, footer, aside or comment
    hidden: bool = False  # a reader cannot see it
    context_before: str = ""  # up to 80 characters of the reader's text before the anchor
    context_after: str = ""  # …and after it, in the same block element
    # Filled by the pipelines:
    domain: str = ""  # registered domain
    link_types: list[str] | None = None
    internal: bool = False
    sitewide: bool | None = None  # the running guess (pipelines/sitewide.py); None: not yet


@dataclass(slots=True)
class PageItem:
    """A fetched page: where it ended up, what it said about robots, its links."""

    url: str  # final URL, after redirects
    status: int  # HTTP status; 0 when no response came (see error)
    fetched_at: datetime  # UTC
    error: str = ""  # why no links were taken: timeout, too_large, binary, not_html…
    title: str = ""
    page_nofollow: bool = False
    page_noindex: bool = False
    links_found: int = 0  # every <a>/<area> with an href, http(s) or not
    external_links: int = 0  # distinct http(s) URLs off the page's site it links to
    language: str | None = None  # ISO 639-1 (backlinkspider.language); None when unknown
    words: int = 0  # words of visible text
    terms: dict[str, int] = field(default_factory=dict)  # main-text term counts (backlinkspider.terms)
    links: list[Link] = field(default_factory=list)
    # Canonical URLs that redirected to this page: the backlinks stored from them are lost.
    redirected_from: list[str] = field(default_factory=list)
    # The target domains the spider judged the page by (empty: every external link is
    # kept). Carried on the item because the distributed heartbeat may change the
    # spider's targets while the page is in the pipelines. Not stored.
    targets: frozenset[str] = frozenset()
    # Filled by the pipelines:
    host: str = ""
    domain: str = ""
    # Distributed mode: the frontier lease to end once this page is stored. Not stored.
    lease: str | None = None
    # ``expand``: what the crawl learned about sites by the time of this page (written to
    # ``sites`` with it, so a site's record is as safe as the page's).
    site_updates: list[SiteUpdate] = field(default_factory=list)


@dataclass(slots=True)
class SiteUpdate:
    """A change to one ``sites`` document (``expand``): each write is idempotent."""

    domain: str  # registered domain
    state: str = ""  # queued, crawling, done, refused, robots_unavailable ("" = unchanged)
    pages_crawled: int = 0  # pages of the site fetched so far (kept as the maximum seen)
    # Set once, when the site is first met:
    hop: int | None = None
    discovered_from: str = ""
    first_seen: datetime | None = None
    priority: float | None = None


@dataclass(slots=True)
class TargetItem:
    """The answer of one target URL (a stored backlink's ``target_url``) to a check."""

    url: str  # the target URL as stored in ``backlinks.target_url``
    checked_at: datetime  # UTC
    status: int | None = None  # final HTTP status after redirects; None when no answer came
    final_url: str = ""  # canonical URL after redirects ("" when not redirected)
    error: str = ""  # dns, timeout, connection_refused, robots_disallowed, too_many_redirects…
    lease: str | None = None  # distributed mode, as PageItem.lease

    @property
    def broken(self) -> bool | None:
        """4xx/5xx, or no answer at all; a check robots.txt forbade says nothing (False);
        None when we did not look (the guard refused the address: ``private_network``)."""
        if self.status is not None:
            return self.status >= 400
        if self.error in ("private_network", "robots_unavailable"):
            return None
        return self.error != "robots_disallowed"
