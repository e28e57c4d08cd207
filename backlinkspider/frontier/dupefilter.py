"""The cluster's seen-URL set: a Bloom filter on a Redis bitmap (``DUPEFILTER_CLASS``).

scrapy-redis keeps every request fingerprint as 40 hex characters in a Redis
set, about 88 bytes a URL: 88 GB per billion. A Bloom filter of ``m`` bits
with ``k`` hash functions answers "seen?" in m/n bits a URL, at the price of
a false-positive rate ``p`` (a new URL taken for seen, so never crawled):
``m = -n·ln p / ln²2`` and ``k = m/n · ln 2``. With the defaults
(``FRONTIER_BLOOM_CAPACITY`` = 10 million URLs, ``FRONTIER_BLOOM_ERROR_RATE`` =
0.001) that is 14.4 bits, 1.8 bytes, a URL and k = 10; past its capacity the
rate climbs (2 × capacity: about 2 %), so size it for the crawl.

The k bit positions come from the request fingerprint by double hashing
(``h1 + i·h2 mod m``); the check-and-set itself runs in the frontier's flush
script, atomically with the enqueue, so two workers finding the same link at
once enqueue it once. The first worker fixes ``m`` and ``k`` in
``P:dupefilter:params``; the others read them there, so one filter is never
probed with two geometries.
"""

from __future__ import annotations

import logging
import math

from scrapy.utils.request import RequestFingerprinter

from backlinkspider.keys import bloom_params

logger = logging.getLogger(__name__)

MAX_BITS = 2**32  # a Redis string holds at most 512 MB


def geometry(capacity: int, error_rate: float) -> tuple[int, int]:
    """Bits ``m`` and hash count ``k`` for ``capacity`` URLs at ``error_rate``."""
    if capacity < 1 or not 0 < error_rate < 1:
        raise ValueError("FRONTIER_BLOOM_CAPACITY must be ≥ 1 and FRONTIER_BLOOM_ERROR_RATE in (0, 1)")
    m = math.ceil(-capacity * math.log(error_rate) / math.log(2) ** 2)
    if m > MAX_BITS:
        raise ValueError(
            f"a Bloom filter for {capacity} URLs at {error_rate} needs {m} bits; "
            f"one Redis string holds {MAX_BITS}: raise the error rate or lower the capacity"
        )
    return m, max(1, round(m / capacity * math.log(2)))


def false_positive_rate(m: int, k: int, n: int) -> float:
    """The filter's false-positive rate after ``n`` distinct URLs."""
    return (1 - math.exp(-k * n / m)) ** k


def fingerprint_hashes(fp: bytes) -> tuple[int, int]:
    """Two 32-bit hashes of a SHA-1 fingerprint for double hashing (h2 odd, never 0)."""
    return int.from_bytes(fp[:4], "big"), int.from_bytes(fp[4:8], "big") | 1


class BloomDupeFilter:
    """Seen-URL set shared by all workers; the flush script does the checking."""

    def __init__(self, server, key: str, capacity: int, error_rate: float, fingerprinter=None, debug=False):
        self.server = server
        self.key = key
        self.fingerprinter = fingerprinter or RequestFingerprinter()
        self.debug = debug
        self.m, self.k = geometry(capacity, error_rate)
        params = bloom_params(key)
        server.hsetnx(params, "m", self.m)
        server.hsetnx(params, "k", self.k)
        stored = server.hmget(params, "m", "k")
        m, k = int(stored[0]), int(stored[1])
        if (m, k) != (self.m, self.k):
            logger.warning(
                "Bloom filter %s already has m=%d bits, k=%d (settings ask m=%d, k=%d); using the stored geometry",
                key,
                m,
                k,
                self.m,
                self.k,
            )
            self.m, self.k = m, k
        # Allocate the bitmap once, at its full size: grown bit by bit, Redis
        # would over-allocate it. Adding 0 to the last bit changes nothing.
        server.bitfield(key).incrby("u1", self.m - 1, 0).execute()

    @classmethod
    def from_spider(cls, spider):
        settings = spider.crawler.settings
        from scrapy_redis.connection import get_redis_from_settings

        key = settings.get("SCHEDULER_DUPEFILTER_KEY", "%(spider)s:dupefilter") % {"spider": spider.name}
        return cls(
            get_redis_from_settings(settings),
            key,
            settings.getint("FRONTIER_BLOOM_CAPACITY"),
            settings.getfloat("FRONTIER_BLOOM_ERROR_RATE"),
            fingerprinter=spider.crawler.request_fingerprinter,
            debug=settings.getbool("DUPEFILTER_DEBUG"),
        )

    def hashes(self, request) -> tuple[int, int]:
        return fingerprint_hashes(self.fingerprinter.fingerprint(request))

    def request_seen(self, request) -> bool:
        """Check-and-set one request (a blocking round trip: the scheduler batches instead)."""
        h1, h2 = self.hashes(request)
        pipe = self.server.pipeline(transaction=True)
        for i in range(self.k):
            pipe.setbit(self.key, (h1 + i * h2) % self.m, 1)
        return all(pipe.execute())

    def __contains__(self, request) -> bool:
        """Whether ``request`` looks seen, without marking it (for tools and tests)."""
        h1, h2 = self.hashes(request)
        pipe = self.server.pipeline(transaction=False)
        for i in range(self.k):
            pipe.getbit(self.key, (h1 + i * h2) % self.m)
        return all(pipe.execute())

    def open(self):
        pass

    def close(self, reason=""):
        pass

    def clear(self):
        """Forget every URL (``backlinks reset`` only)."""
        self.server.delete(self.key, bloom_params(self.key))

    def log(self, request, spider):
        if self.debug:
            logger.debug("Filtered duplicate request: %(request)s", {"request": request})
