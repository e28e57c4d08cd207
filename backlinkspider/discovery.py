"""Which site to crawl next when the crawl expands past its seeds (``-a expand=N``).

A self-hosted index cannot crawl the web; it can spend its page budget where backlinks
into the targets are likely. Each site met in a link (not a seed's, not a target's)
waits here until the crawl has room for it; then the best waiting site is *opened*: its
linked URL and home page are requested and it is walked as a seed is, up to
``DISCOVERED_SITE_PAGE_LIMIT`` pages. Within a site, pages are ordered as they always are.

"Best", with ``DISCOVERY_ORDER=focused`` (the default), is a site's *cash*, after OPIC
(Abiteboul, Preda and Cobena, "Adaptive on-line page importance computation", WWW 2003):
every fetched page hands out one unit, split evenly among the sites it links to, and a
site's priority is what it received, counting from each linking site only that site's
best page (so the distinct sites linking to it count, not a sitewide footer's pages):

    share    = 1 / (sites the page links to)
             × (1 + DISCOVERY_COCITATION_BOOST   if the page also links to a target)
             × (1 + DISCOVERY_RELEVANCE_BOOST × cosine(page's terms, the targets' profile))
    priority = Σ over linking sites of their best share × DISCOVERY_HOP_DECAY ^ (hop − 1)

The targets' profile is the sum of the (sublinear, normalized) term vectors of the
targets' own pages in the store (``crawl_targets``, ``backlinks score``'s input) and of
every page found linking to a target: the crawl learns what its backlinks' pages read
like as it goes. ``DISCOVERY_ORDER=bfs`` opens sites in the order they were met instead,
the breadth-first baseline the bench compares with.

This module is the order only: the spider (``spiders/backlinks.py``) feeds it what pages
link to and asks it for sites to open; the state pickles, so a crawl kept in ``JOBDIR``
(a spent ``max_pages`` budget) goes on where it stopped.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from scrapy.settings import BaseSettings

FOCUSED = "focused"
BFS = "bfs"
ORDERS = (FOCUSED, BFS)

#: ``sites.state`` values, in the order a site goes through them.
QUEUED, CRAWLING, DONE, REFUSED, ROBOTS_UNAVAILABLE = "queued", "crawling", "done", "refused", "robots_unavailable"


@dataclass(slots=True)
class Site:
    """A site the crawl met in a link: where and when first, and what speaks for it."""

    domain: str
    hop: int  # links from the nearest seed site (a seed site is hop 0)
    entry: str  # the URL first linked to: the site is entered there and at its home page
    discovered_from: str  # the page that first linked to it
    first_seen: datetime
    order: int  # the how-manieth site met: the breadth-first order
    shares: dict[str, float] = field(default_factory=dict)  # linking site -> its best page's share
    priority: float = 0.0
    opened: bool = False


@dataclass(slots=True)
class Profile:
    """A running sum of normalized term vectors and its norm: what the targets' pages read like."""

    weights: dict[str, float] = field(default_factory=dict)
    sum_squares: float = 0.0
    pages: int = 0

    def add(self, terms: Mapping[str, int]) -> None:
        vector = unit_vector(terms)
        weights = self.weights
        for term, weight in vector.items():
            old = weights.get(term, 0.0)
            new = old + weight
            weights[term] = new
            self.sum_squares += new * new - old * old
        self.pages += bool(vector)

    def cosine(self, terms: Mapping[str, int]) -> float:
        """Cosine of a page's terms with the profile; 0 when either is empty."""
        if not self.sum_squares or not terms:
            return 0.0
        vector = unit_vector(terms)
        weights = self.weights
        dot = sum(weight * weights.get(term, 0.0) for term, weight in vector.items())
        return max(0.0, min(1.0, dot / math.sqrt(self.sum_squares)))


def unit_vector(terms: Mapping[str, int]) -> dict[str, float]:
    """Sublinear term frequencies (1 + log n), scaled to length 1, as ``relevance.py`` weighs them."""
    vector = {term: 1.0 + math.log(count) for term, count in terms.items() if count > 0}
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {term: w / norm for term, w in vector.items()} if norm else {}


@dataclass
class Weights:
    """The priority's knobs (settings ``DISCOVERY_*``)."""

    cocitation_boost: float = 4.0
    relevance_boost: float = 4.0
    hop_decay: float = 0.8

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Weights:
        return cls(
            cocitation_boost=settings.getfloat("DISCOVERY_COCITATION_BOOST"),
            relevance_boost=settings.getfloat("DISCOVERY_RELEVANCE_BOOST"),
            hop_decay=settings.getfloat("DISCOVERY_HOP_DECAY"),
        )


class SiteQueue:
    """The sites waiting to be crawled, served best first (or first met, ``bfs``).

    A heap with lazy deletion: a site whose priority rose is pushed again, and stale
    entries are skipped when they surface, so an update costs a log-time push.
    """

    def __init__(self, expand: int, order: str = FOCUSED, weights: Weights | None = None):
        if order not in ORDERS:
            raise ValueError(f"DISCOVERY_ORDER must be one of {', '.join(ORDERS)}, not {order!r}")
        self.expand = expand
        self.order = order
        self.weights = weights or Weights()
        self.sites: dict[str, Site] = {}
        self.hops: dict[str, int] = {}  # every site with a known hop: seeds (0) and met ones
        self.profile = Profile()
        self._heap: list[tuple[float, int, str]] = []
        # What each crawled site links to (domain -> a URL, its pages' best share, that page):
        # an order other than breadth-first may meet a site by a long way first, and when
        # a shorter one turns up, the sites it links to are nearer too (or within reach).
        self._out: dict[str, dict[str, tuple[str, float, str]]] = {}

    def add_seed(self, domain: str) -> None:
        self.hops[domain] = 0

    def hop(self, domain: str) -> int | None:
        return self.hops.get(domain)

    def saw(
        self,
        page_url: str,
        page_site: str,
        external: Mapping[str, str],
        links_target: bool,
        terms: Mapping[str, int],
        when: datetime,
    ) -> list[Site]:
        """A page of ``page_site`` links to the sites ``external`` (registered domain ->
        a URL linked to in it; neither the page's site nor a target); the sites it met
        first, within ``expand`` hops, and those it found a shorter way to."""
        hop = self.hops.get(page_site)
        if hop is None or not external:
            return []
        share = self.share(len(external), links_target, terms)
        out = self._out.setdefault(page_site, {})
        for domain, url in external.items():
            if domain not in out or out[domain][1] < share:
                out[domain] = (url, share, page_url)
        met: list[Site] = []
        self._credit(page_site, {domain: out[domain] for domain in external}, when, met)
        return met

    def share(self, sites: int, links_target: bool, terms: Mapping[str, int]) -> float:
        """What a page linking to ``sites`` sites hands each (before the hop decay); a page
        that links to a target also teaches the profile, after its own share is reckoned."""
        share = 1.0 / sites
        if links_target:
            share *= 1.0 + self.weights.cocitation_boost
        if self.weights.relevance_boost and self.order == FOCUSED:
            share *= 1.0 + self.weights.relevance_boost * self.profile.cosine(terms)
        if links_target and terms:
            self.profile.add(terms)
        return share

    def _credit(
        self, page_site: str, links: dict[str, tuple[str, float, str]], when: datetime, met: list[Site]
    ) -> None:
        """Credit the sites ``page_site`` links to (domain -> a URL in it, the best share a
        page of ``page_site`` gave it, that page); meet those new within ``expand`` hops."""
        hop = self.hops[page_site]
        if hop >= self.expand:  # kept in _out: a shorter way to its site, found later, reaches them
            return
        for domain, (url, share, page_url) in links.items():
            site = self.sites.get(domain)
            closer = False
            if site is None:
                if domain in self.hops:
                    continue  # a seed
                site = Site(domain, hop + 1, url, page_url, when, len(self.sites))
                self.sites[domain] = site
                self.hops[domain] = site.hop
                met.append(site)
            elif hop + 1 < site.hop:  # a shorter way to it: what it links to is nearer too
                site.hop = self.hops[domain] = hop + 1
                met.append(site)
                closer = True
                if domain in self._out:
                    self._credit(domain, self._out[domain], when, met)
            if site.opened or (site.shares.get(page_site, 0.0) >= share and not closer):
                continue
            site.shares[page_site] = max(share, site.shares.get(page_site, 0.0))
            self._reprioritize(site)

    def learn(self, terms: Mapping[str, int]) -> None:
        """A target's own page: what backlinks' pages should read like."""
        self.profile.add(terms)

    def _reprioritize(self, site: Site) -> None:
        if self.order == BFS:
            if not site.priority:  # once: the order met
                site.priority = 1.0
                heapq.heappush(self._heap, (float(site.order), site.order, site.domain))
            return
        site.priority = sum(site.shares.values()) * self.weights.hop_decay ** (site.hop - 1)
        heapq.heappush(self._heap, (-site.priority, site.order, site.domain))

    def pop(self) -> Site | None:
        """The best site not yet opened, marked opened; None when none waits."""
        while self._heap:
            key, _, domain = heapq.heappop(self._heap)
            site = self.sites[domain]
            if site.opened or (self.order == FOCUSED and -key != site.priority):
                continue  # opened already, or a stale entry of a site whose priority rose
            site.opened = True
            return site
        return None

    def __len__(self) -> int:
        """Sites waiting (an upper bound: stale heap entries count until they surface)."""
        return len(self._heap)
