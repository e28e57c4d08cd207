"""The items a crawl produces: one ``PageItem`` per fetched page, holding its ``Link``s.

One item per page, not per link: the pipelines see a page's whole link set at once
(what de-duplication and, later, lost-link detection need) and per-item overhead is
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
    kind: str  # "text" or "image"
    host: str = ""  # lower-case, punycode; set with the canonical URL
    # Filled by the pipelines:
    domain: str = ""  # registered domain
    link_types: list[str] | None = None
    internal: bool = False


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
    links_external: int = 0  # http(s) links off the page's site
    links: list[Link] = field(default_factory=list)
    # Filled by the pipelines:
    host: str = ""
    domain: str = ""
    # Distributed mode: the frontier lease to end once this page is stored. Not stored.
    lease: str | None = None
