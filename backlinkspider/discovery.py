"""Which site to crawl next when the crawl expands past its seeds (``-a expand=N``).

A self-hosted index cannot crawl the web; it can spend its page budget where backlinks
into the targets are likely. Each site met in a link (not a seed's, not a target's)
waits here until the crawl has room for it; then the best waiting site is *opened*: its
linked URL and home page are requested and it is walked as a seed is, up to
``DISCOVERED_SITE_PAGE_LIMIT`` pages. Within a site, pages are ordered as they always are.

"Best", with ``DISCOVERY_ORDER=focused`` (the default), weighs what the crawl knows of a
waiting site: what the pages linking to it say about it (a focused crawler's topical
locality: pages link mostly to pages on their own subject), how many distinct sites link
to it, and what it can still lead to. Every fetched page gives each site it links to its
*evidence*; from each linking site only its best page counts, so a sitewide footer counts
once:

    evidence = (1 + DISCOVERY_COCITATION_BOOST   if the page also links to a target)
             × (1 + DISCOVERY_RELEVANCE_BOOST × cosine(page's terms, the targets' profile))
    priority = (mean evidence of the linking sites − 1  + DISCOVERY_REACH_BOOST × (expand − hop))
             × (1 + DISCOVERY_INDEGREE_WEIGHT × ln(linking sites))

The first term is the site's own promise; the second, its reach: a site at the last hop
leads nowhere, one nearer the seeds is the way to sites further on, and a site nobody's
pages vouch for is worth opening for that alone. In-degree counts through a logarithm:
a popular site off the subject (what OPIC's cash, Abiteboul, Preda and Cobena, WWW 2003,
ranks first) must not outrank a less-linked one the targets' neighbours cite
(``bench/discovery.py`` measured both).

The targets' profile is the sum of the (sublinear, normalized) term vectors of the
targets' own pages in the store (``crawl_targets``, ``backlinks score``'s input) and of
every page found linking to a target: the crawl learns what its backlinks' pages read
like as it goes; it is compared in TF-IDF space (``Profile``). A page at the last hop
meets no new site, but its evidence counts for the sites already met.
``DISCOVERY_ORDER=bfs`` opens sites in the order they were met instead, the
breadth-first baseline the bench compares with.

This module is the order only: the spider (``spiders/backlinks.py``) feeds it what pages
link to and asks it for sites to open; the state pickles, so a crawl kept in ``JOBDIR``
(a spent ``max_pages`` budget) goes on where it stopped.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from scrapy.settings import BaseSettings

FOCUSED = "focused"
BFS = "bfs"
ORDERS = (FOCUSED, BFS)

#: document frequencies kept: a crawl of millions of pages meets millions of words, most
#: of them once; past this many, the rarest are forgotten (their IDF is then the highest)
MAX_DF_TERMS = 1_000_000

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
    evidence: dict[str, float] = field(default_factory=dict)  # linking site -> its best page's evidence
    priority: float = 0.0
    opened: bool = False


@dataclass(slots=True)
class Profile:
    """What the targets' pages read like, compared in TF-IDF space.

    A running sum of the unit (sublinear) term vectors of the targets' pages and of the
    pages found linking to them. Terms are weighed by their inverse document frequency
    among the pages this crawl has read (``count``): words on every page (a template's
    "more", "home", "share") say nothing about a subject and weigh nothing, words of the
    targets' niche weigh most. Without it, a web of look-alike templates makes every page
    seem relevant. The profile's norm is recomputed as the frequencies drift (5 %).
    """

    weights: dict[str, float] = field(default_factory=dict)
    pages: int = 0  # pages added
    df: Counter[str] = field(default_factory=Counter)  # pages read containing each term
    docs: int = 0  # pages read
    _norm: float = 0.0
    _norm_docs: int = -1  # ``docs`` when ``_norm`` was computed; -1: the profile changed since

    def add(self, terms: Mapping[str, int]) -> None:
        vector = unit_vector(terms)
        weights = self.weights
        for term, weight in vector.items():
            weights[term] = weights.get(term, 0.0) + weight
        self.pages += bool(vector)
        self._norm_docs = -1

    def count(self, terms: Mapping[str, int]) -> None:
        """A page the crawl read: its terms' document frequencies."""
        if terms:
            self.docs += 1
            self.df.update(terms.keys())
            if len(self.df) > MAX_DF_TERMS:
                self.df = Counter(dict(self.df.most_common(MAX_DF_TERMS // 2)))

    def idf(self, term: str) -> float:
        """ln((1 + pages read) / (1 + pages with the term)): 0 for a term on every page."""
        return math.log((1 + self.docs) / (1 + self.df.get(term, 0)))

    def cosine(self, terms: Mapping[str, int]) -> float:
        """Cosine of a page's terms with the profile, both weighed by IDF; 0 when either is empty."""
        if not self.weights or not terms or not self.docs:
            return 0.0
        if self._norm_docs < 0 or self.docs > self._norm_docs * 1.05:
            idf = self.idf
            self._norm = math.sqrt(sum((weight * idf(term)) ** 2 for term, weight in self.weights.items()))
            self._norm_docs = self.docs
        if not self._norm:
            return 0.0
        weights, idf = self.weights, self.idf
        dot = norm = 0.0
        for term, count in terms.items():
            if count <= 0:
                continue
            term_idf = idf(term)
            weight = (1.0 + math.log(count)) * term_idf
            norm += weight * weight
            dot += weight * weights.get(term, 0.0) * term_idf
        return max(0.0, min(1.0, dot / (math.sqrt(norm) * self._norm))) if norm else 0.0


def unit_vector(terms: Mapping[str, int]) -> dict[str, float]:
    """Sublinear term frequencies (1 + log n), scaled to length 1, as ``relevance.py`` weighs them."""
    vector = {term: 1.0 + math.log(count) for term, count in terms.items() if count > 0}
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {term: w / norm for term, w in vector.items()} if norm else {}


@dataclass
class Weights:
    """The priority's knobs (settings ``DISCOVERY_*``)."""

    cocitation_boost: float = 4.0
    relevance_boost: float = 8.0
    reach_boost: float = 1.0
    indegree_weight: float = 0.1

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Weights:
        return cls(
            cocitation_boost=settings.getfloat("DISCOVERY_COCITATION_BOOST"),
            relevance_boost=settings.getfloat("DISCOVERY_RELEVANCE_BOOST"),
            reach_boost=settings.getfloat("DISCOVERY_REACH_BOOST"),
            indegree_weight=settings.getfloat("DISCOVERY_INDEGREE_WEIGHT"),
        )

    def priority(self, evidence: float, linking_sites: int, hop: int, expand: int) -> float:
        """A waiting site's priority from the summed evidence of its ``linking_sites``
        (the module's formula; ``frontier/scripts.py`` computes the same in Redis)."""
        promise = evidence / linking_sites - 1.0
        reach = self.reach_boost * (expand - hop)
        return (promise + reach) * (1.0 + self.indegree_weight * math.log(linking_sites))


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
        # What each crawled site links to (domain -> a URL, its pages' best evidence, that page):
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
        evidence = self.evidence(links_target, terms)
        out = self._out.setdefault(page_site, {})
        for domain, url in external.items():
            if domain not in out or out[domain][1] < evidence:
                out[domain] = (url, evidence, page_url)
        met: list[Site] = []
        self._credit(page_site, {domain: out[domain] for domain in external}, when, met)
        return met

    def evidence(self, links_target: bool, terms: Mapping[str, int]) -> float:
        """What a page says for each site it links to (1 when nothing); a page that links
        to a target also teaches the profile, after its own evidence is reckoned."""
        evidence = 1.0
        if links_target:
            evidence *= 1.0 + self.weights.cocitation_boost
        if self.weights.relevance_boost and self.order == FOCUSED:
            self.profile.count(terms)
            evidence *= 1.0 + self.weights.relevance_boost * self.profile.cosine(terms)
        if links_target and terms:
            self.profile.add(terms)
        return evidence

    def _credit(
        self, page_site: str, links: dict[str, tuple[str, float, str]], when: datetime, met: list[Site]
    ) -> None:
        """Credit the sites ``page_site`` links to (domain -> a URL in it, the best evidence a
        page of ``page_site`` gave it, that page); meet those new within ``expand`` hops."""
        hop = self.hops[page_site]
        last = hop >= self.expand  # its links bring no site within reach, but speak for those met
        for domain, (url, evidence, page_url) in links.items():
            site = self.sites.get(domain)
            closer = False
            if site is None:
                if last or domain in self.hops:
                    continue  # too far (kept in _out: a shorter way to page_site reaches it), or a seed
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
            if site.opened or (site.evidence.get(page_site, 0.0) >= evidence and not closer):  # nothing new
                continue
            site.evidence[page_site] = max(evidence, site.evidence.get(page_site, 0.0))
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
        site.priority = self.weights.priority(sum(site.evidence.values()), len(site.evidence), site.hop, self.expand)
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
