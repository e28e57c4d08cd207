"""What a crawl covers and what it keeps: the two scope rules, written once.

* A page's *site* is its registered domain, every host under it
  (``www.``, ``blog.``, …). The spider follows links inside the site, the
  redirect middleware follows redirects inside it, and the frontier refuses a
  request whose host left it: all three ask :func:`in_site`.
* A link is *stored* (a backlink) when it points into a target, or, when the
  crawl has no targets, when it leaves the page's site: :func:`stores`. The
  spider asks it to extract details only for such links, the classify pipeline
  to keep them, and the change planner to know which stored backlinks a visit
  could have seen again.
"""

from __future__ import annotations

from collections.abc import Set


def in_site(host: str, site: str) -> bool:
    """Whether ``host`` is ``site`` (a registered domain) or a host under it."""
    return host == site or host.endswith("." + site)


def stores(domain: str, page_domain: str, targets: Set[str]) -> bool:
    """Whether a link to registered domain ``domain`` from a page of ``page_domain`` is kept.

    With ``targets``, the links into a target (internal ones too); without,
    every external link.
    """
    return domain in targets if targets else domain != page_domain
