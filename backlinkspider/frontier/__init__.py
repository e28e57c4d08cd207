"""Distributed mode: many workers, one Redis frontier, nothing lost.

Setting ``REDIS_URL`` turns it on (:class:`FrontierAddon`); without it the
crawl is the single-machine one. What this package plugs into scrapy-redis's
extension points, and why:

=============================== =========================================================
``scheduler.FrontierScheduler``  batched, non-blocking Redis traffic; leases; no wipes
``queue.LeasedQueue``            per-host queues, cluster-wide politeness, leases, reclaim
``dupefilter.BloomDupeFilter``   seen-URL set in ≤ 2 bytes a URL
``serializer``                   requests as JSON, never pickle
``robots.SharedRobotsTxtMiddleware``  robots.txt once per host per day, cluster-wide
``spider.FrontierSpiderMixin``   seeds and targets shared through Redis
``scripts``                      the Lua scripts: one atomic round trip each
=============================== =========================================================
"""

from backlinkspider.frontier.connection import enabled

_HERE = "backlinkspider.frontier"


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
        middlewares[f"{_HERE}.robots.SharedRobotsTxtMiddleware"] = 100  # Scrapy's own slot


__all__ = ["FrontierAddon", "enabled"]
