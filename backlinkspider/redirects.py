"""Redirects that leave a page's site reach the spider as they are.

The spider never leaves its seeds' sites, so a redirect off the site is not
followed. Scrapy's OffsiteMiddleware (or the frontier) would drop it without
a word, and a referring page that now redirects elsewhere would look like a
page never visited. Instead, its 3xx response goes to the spider, which
records the page as redirected and its backlinks as lost (``page_redirected``).
In-site redirects are followed, past the seen-set; requests without a ``site`` in meta
(target and redirect checks) may go anywhere.
"""

from __future__ import annotations

from backlinkspider.keys import REDIRECT_OFFSITE, REDIRECT_URLS, SITE
from backlinkspider.scope import in_site
from backlinkspider.urls import canonicalize_with_host


class SiteRedirectMiddleware:
    """Downloader middleware whose ``process_response`` runs *before* ``RedirectMiddleware``'s.

    Responses travel from the downloader to the engine, through middlewares in
    decreasing priority: at 650 this one sees a 3xx before ``RedirectMiddleware``
    (600) does, which is why setting ``dont_redirect`` here takes effect.
    """

    def __init__(self, crawler):
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        site = request.meta.get(SITE)
        if not site or not 300 <= response.status < 400 or "Location" not in response.headers:
            return response
        location = response.headers["Location"].decode("latin-1")
        found = canonicalize_with_host(location, request.url)
        if found is None:
            return response
        if in_site(found[1], site):
            # Followed even if its target was crawled already: only the target's
            # item tells the pipelines that this URL redirects now. A loop back
            # into the chain is left to the seen-set, which ends it.
            chain = {canonicalize_with_host(u) for u in (*request.meta.get(REDIRECT_URLS, ()), request.url)}
            request.dont_filter = found not in chain
            return response
        request.meta["dont_redirect"] = True  # RedirectMiddleware hands the 3xx on
        request.meta[REDIRECT_OFFSITE] = found[0]
        self.stats.inc_value("backlinks/pages/redirect_offsite")
        return response
