"""Back off when a server asks: ``429`` and ``503`` with ``Retry-After``.

Scrapy's ``RetryMiddleware`` retries a 429 or 503 at once, so a server that
says "not before two minutes" gets hit again within milliseconds, as many times
as ``RETRY_TIMES`` allows. Here the host's download slot takes no request before
the time the server named (seconds, or an HTTP date), capped at
``RETRY_AFTER_MAX``; the retry waits in the slot like any other request of that
host, and other hosts go on. The slot's own delay is back as soon as the host
answers something else. A page that still fails after ``RETRY_TIMES`` is a
failed visit, as any 5xx is.

In distributed mode the wait holds for the whole cluster: ``frontier/backoff.py``
moves the host's turn in Redis too.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy.crawler import Crawler
from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

BACKOFF_STATUSES = (429, 503)


def retry_after(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date); None if unreadable."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RetryAfterMiddleware:
    """Downloader middleware, before ``RetryMiddleware`` in response order (priority 560 > 550)."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX")
        self._paces: dict[str, tuple[float, bool]] = {}  # slot -> its delay and randomizing, before

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        self.back_off(request, response)
        return response

    def back_off(self, request: Request, response: Response) -> float | None:
        """Make the host's slot wait as the response asks; the seconds waited, or None."""
        key = request.meta.get("download_slot")
        engine = self.crawler.engine
        slot = engine.downloader.slots.get(key) if isinstance(key, str) and engine is not None else None
        if slot is None or not isinstance(key, str):
            return None
        if response.status not in BACKOFF_STATUSES:
            if key in self._paces:  # the host answers again: its own pace is back
                slot.delay, slot.randomize_delay = self._paces.pop(key)
            return None
        wait = retry_after(response.headers.get("Retry-After"))
        if wait is None:
            return None
        wait = min(wait, self.max_wait)
        self._paces.setdefault(key, (slot.delay, slot.randomize_delay))
        # The slot takes its next request ``delay`` after ``lastseen``: no request before
        # then (not randomized: RANDOMIZE_DOWNLOAD_DELAY could halve it).
        slot.delay = max(slot.delay, wait)
        slot.randomize_delay = False
        slot.lastseen = time.monotonic()
        self.crawler.stats.inc_value("backlinks/backoff/retry_after")
        logger.info("%s asked to wait %.0f s (HTTP %d, Retry-After): its requests wait", key, wait, response.status)
        return wait
