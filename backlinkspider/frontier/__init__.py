"""Distributed mode: many workers, one Redis frontier, nothing lost.

Setting ``REDIS_URL`` turns it on (:class:`FrontierAddon`); without it the
crawl is the single-machine one. What this package plugs into scrapy-redis's
extension points, and why:

* ``scheduler.FrontierScheduler``: batched, non-blocking Redis traffic; leases; no wipes
* ``queue.LeasedQueue``: per-host queues, cluster-wide concurrency, leases, reclaim
* ``dupefilter.BloomDupeFilter``: the seen-URL set in under 2 bytes a URL
* ``serializer``: requests as JSON, never pickle
* ``robots.SharedRobotsTxtMiddleware``: robots.txt once per host per day, cluster-wide
* ``politeness.ClusterPolitenessMiddleware``: ``DOWNLOAD_DELAY`` for the whole cluster
* ``backoff.ClusterRetryAfterMiddleware``: a host's ``Retry-After`` for every worker
* ``spider.FrontierSpiderMixin``: seeds and targets shared through Redis
* ``scripts``: the Lua scripts, one atomic round trip each, and the key layout
"""

from backlinkspider.frontier.connection import enabled

_HERE = "backlinkspider.frontier"
# Above "cmdline" (40): these must win over -s, which set the values they replace.
_OVER_CMDLINE = 45


class FrontierAddon:
    """A Scrapy add-on: with ``REDIS_URL`` set, swap in the Redis frontier.

    An add-on runs after every settings source (``settings.py``, the
    environment, ``-s``) is read, so ``-s REDIS_URL=…`` switches the mode as
    surely as the environment variable does.
    """

    def update_settings(self, settings):
        if not enabled(settings):
            return
        for name, value in (
            ("SCHEDULER", f"{_HERE}.scheduler.FrontierScheduler"),
            ("SCHEDULER_QUEUE_CLASS", f"{_HERE}.queue.LeasedQueue"),
            ("DUPEFILTER_CLASS", f"{_HERE}.dupefilter.BloomDupeFilter"),
            ("SCHEDULER_SERIALIZER", f"{_HERE}.serializer"),
        ):
            settings.set(name, value, "addon")
        middlewares = settings["DOWNLOADER_MIDDLEWARES"]
        middlewares["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] = None
        middlewares["backlinkspider.robots_errors.RFC9309RobotsTxtMiddleware"] = None
        middlewares[f"{_HERE}.robots.SharedRobotsTxtMiddleware"] = 100  # Scrapy's own slot
        # The delay becomes cluster-wide; per-process waits after a host's turn
        # is taken would bunch requests from different workers together.
        middlewares[f"{_HERE}.politeness.ClusterPolitenessMiddleware"] = 900
        middlewares["backlinkspider.backoff.RetryAfterMiddleware"] = None
        middlewares[f"{_HERE}.backoff.ClusterRetryAfterMiddleware"] = 560
        settings.set("FRONTIER_DOWNLOAD_DELAY", settings.getfloat("DOWNLOAD_DELAY"), _OVER_CMDLINE)
        settings.set("DOWNLOAD_DELAY", 0, _OVER_CMDLINE)
        settings.set("AUTOTHROTTLE_ENABLED", False, _OVER_CMDLINE)


__all__ = ["FrontierAddon", "enabled"]
