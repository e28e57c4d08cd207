"""Retry-After for the whole cluster: a host that asks one worker to wait is left alone by all.

``backoff.RetryAfterMiddleware`` makes one process's download slot wait; the
other workers would go on leasing and sending the host's requests. Here the
wait also goes to Redis in one script (``scripts.BACKOFF``): the host's place in
``P:requests`` moves to the time the server named, so no worker leases its
requests before then, and its turn (``P:polite:<host>``) is taken until then, so
a request another worker already holds waits too (with ``DOWNLOAD_DELAY`` above
zero, when ``ClusterPolitenessMiddleware`` takes turns). The retry is queued
like any request and leased once the wait is over.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from scrapy.crawler import Crawler
from scrapy.http import Request, Response

from backlinkspider.backoff import RetryAfterMiddleware
from backlinkspider.frontier import scripts
from backlinkspider.frontier.connection import async_client
from backlinkspider.keys import HOST

logger = logging.getLogger(__name__)


class ClusterRetryAfterMiddleware(RetryAfterMiddleware):
    """``RetryAfterMiddleware``, with the wait shared through the frontier."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.redis = async_client(crawler.settings)
        self._back_off = self.redis.register_script(scripts.BACKOFF)

    async def process_response(self, request: Request, response: Response) -> Response:  # type: ignore[override]
        wait = self.back_off(request, response)
        host = request.meta.get(HOST)
        if wait and host and self.crawler.spider is not None:
            try:
                await self._back_off(args=[self.crawler.spider.name, host, int(wait * 1000)])
            except RedisError as exc:  # this worker still waits; the others may not
                logger.warning("Could not share the wait %s asked for (%s): only this worker waits", host, exc)
        return response
