"""Every name two modules must agree on: request meta fields and Redis keys.

A meta field set by the spider and read by a middleware, or a Redis key
written by a Lua script and read by ``backlinks status``, is a contract between
modules; a typo in one of them fails silently. So each is named here once and
imported wherever it is used.

Redis keys hang off the crawl's prefix (the spider name, ``backlinks``),
following scrapy-redis (``P:start_urls``, ``P:requests``, ``P:dupefilter``).
The Lua scripts (``frontier/scripts.py``) receive the prefix and build the
same names server-side, so one script call can touch any host's queue; the
layout below is theirs too:

=========================== ===========================================================
``P:start_urls``            list: seeds anyone may push (URLs or scrapy-redis JSON)
``P:requests``              sorted set: host -> when it may be fetched next (ms, Redis clock)
``P:requests:<host>``       list: that host's queued requests, FIFO (JSON entries)
``P:dupefilter``            string: the Bloom filter's bits (``P:dupefilter:params``: m, k)
``P:leases:<worker>``       hash: lease id -> "host<TAB>entry", requests a worker holds
``P:lease_seq``             counter: the last lease id handed out
``P:slots``                 hash: host -> requests in flight, cluster-wide
``P:slots:<worker>``        hash: the same, for one worker, so its slots can be given back
``P:workers``               sorted set: worker -> heartbeat deadline (ms); ``:info`` hash
``P:sites``                 hash: site -> pages admitted (SITE_PAGE_LIMIT, cluster-wide)
``P:targets``               set: the crawl's target domains
``P:robots:<origin>``       string: a robots.txt body, expires after ROBOTS_CACHE_TTL (``:lock``: who fetches it)
``P:polite:<host>``         string: the host's turn (DOWNLOAD_DELAY, or Retry-After), expires with it
``P:backoff:<host>``        string: until when (ms) the host asked to be left alone (Retry-After)
``P:stats``                 hash: queued, leased, seen, duplicates, capped, pages
``P:pages:<minute>``        counter of pages fetched in that minute (expires)
``P:discovery``             sorted set: site met by ``expand`` -> priority (bfs: minus the order met), until opened
``P:discovery:hops``        hash: site -> hop (the shortest way found)
``P:discovery:entries``     hash: site -> its entry requests, JSON ``[[h1, h2, host, entry], …]``
``P:discovery:links``       set: "linking site<TAB>site", each credited once
``P:discovery:evidence``    hash: site -> the summed evidence of the sites linking to it (``:linkers``: how many)
``P:discovery:opened``      list: the sites opened, in the order they were (``:seq``: sites met)
``P:discovery:state``       hash: site -> 1 once opened (credits no longer count)
=========================== ===========================================================
"""

from __future__ import annotations

# --- Request meta fields ------------------------------------------------------------

#: the registered domain a page request belongs to; requests without it (target and
#: redirect checks, robots.txt) may go anywhere.
SITE = "site"
#: the URL as the link gave it (the WHATWG form we store), when Scrapy's request URL
#: differs (Scrapy re-encodes ``[``, ``|``, ``{`` … and drops an empty ``?``).
LINK_URL = "link_url"
#: set by SiteRedirectMiddleware: where a redirect off the page's site leads.
REDIRECT_OFFSITE = "redirect_offsite"
#: a target check: the stored target URL it checks.
TARGET_CHECK = "target_check"
#: a GET that only asks where a URL leads stops once the headers are in.
HEADERS_ONLY = "headers_only"
#: Scrapy's: a request OffsiteMiddleware lets through.
ALLOW_OFFSITE = "allow_offsite"
#: Scrapy's: the URLs a response was redirected from, oldest first.
REDIRECT_URLS = "redirect_urls"
#: distributed mode: the frontier lease a request was taken under (never stored in Redis).
LEASE = "frontier_lease"
#: distributed mode: the host queue a leased request came from.
HOST = "frontier_host"
#: ``expand``: the hop of the page's site (a seed's site is 0).
HOP = "hop"


# --- Redis keys ----------------------------------------------------------------------


def bloom_params(bloom_key: str) -> str:
    """The hash beside a Bloom filter's bitmap that fixes its geometry (m bits, k hashes)."""
    return f"{bloom_key}:params"


class RedisKeys:
    """The Redis keys of one crawl (``prefix``: the spider name)."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.start_urls = f"{prefix}:start_urls"
        self.requests = f"{prefix}:requests"
        self.dupefilter = f"{prefix}:dupefilter"
        self.dupefilter_params = bloom_params(self.dupefilter)
        self.workers = f"{prefix}:workers"
        self.workers_info = f"{self.workers}:info"
        self.sites = f"{prefix}:sites"
        self.targets = f"{prefix}:targets"
        self.stats = f"{prefix}:stats"
        self.discovery = f"{prefix}:discovery"
        self.discovery_opened = f"{self.discovery}:opened"
        self.discovery_hops = f"{self.discovery}:hops"
        self.all = f"{prefix}:*"  # a SCAN pattern: every key of the crawl

    def host_queue(self, host: str) -> str:
        return f"{self.requests}:{host}"

    def robots(self, origin: str) -> str:
        """``origin``: ``scheme://host[:port]``, the port only when not the default."""
        return f"{self.prefix}:robots:{origin}"

    def robots_lock(self, origin: str) -> str:
        return f"{self.robots(origin)}:lock"

    def polite(self, host: str) -> str:
        return f"{self.prefix}:polite:{host}"

    def pages(self, minute: int) -> str:
        return f"{self.prefix}:pages:{minute}"
