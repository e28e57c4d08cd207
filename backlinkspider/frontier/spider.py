"""The spider side of distributed mode: seeds and targets live in Redis.

Built on scrapy-redis's ``RedisMixin`` (its ``P:start_urls`` key, encoding
and idle settings). What changes:

* ``-a seeds=…`` given to any worker is pushed into ``P:start_urls``; so can
  anyone with ``redis-cli lpush backlinks:start_urls URL``. The scheduler's
  pop script takes seeds on every pop, so they never wait for the queue to
  drain (scrapy-redis reads them only when a worker is idle).
* ``-a targets=…`` given to any worker replaces ``P:targets``; every worker
  reads it at each heartbeat, so one command sets what the whole crawl keeps.
* Seeds go through the seen-set like any link: pushing a crawled seed again
  is a no-op until ``backlinks reset``.
* No ``start_requests`` (gone in Scrapy 2.19): the spider's ``start()`` pushes.
"""

from __future__ import annotations

import json

from scrapy_redis.spiders import RedisMixin
from scrapy_redis.utils import bytes_to_str

from backlinkspider import signals as our_signals
from backlinkspider.keys import RedisKeys
from backlinkspider.urls import domain_of, user_url


def read_targets(members, logger) -> frozenset[str]:
    """The registered domains of a ``P:targets`` set; members that are not one are dropped."""
    found = set()
    for member in members:
        try:
            domain = domain_of(member.decode("utf-8") if isinstance(member, bytes) else member)
        except UnicodeDecodeError:
            domain = ""
        if domain:
            found.add(domain)
        else:
            logger.warning("Ignoring a member of the targets set that is no domain: %.200r", member)
    return frozenset(found)


class FrontierSpiderMixin(RedisMixin):
    """Mix into a spider that has ``seed_request(url)``, ``seed_urls`` and ``targets``."""

    targets: frozenset[str]  # the spider's
    distributed = False

    def setup_frontier(self, crawler):
        self.distributed = True
        self.setup_redis(crawler)

    def start_requests(self):  # scrapy-redis's; Scrapy 2.19 calls start() instead
        return []

    def share_seeds_and_targets(self, targets_given: bool, push_seeds: bool = True) -> None:
        """Push this worker's ``-a seeds`` (unless told not to) and ``-a targets`` for the whole cluster."""
        key = RedisKeys(self.name).targets
        if targets_given:
            with self.server.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if self.targets:
                    pipe.sadd(key, *sorted(self.targets))
                pipe.execute()
            self.logger.info("Targets for the whole crawl: %s", ", ".join(sorted(self.targets)) or "(none)")
        else:
            shared = self.server.smembers(key)
            found = read_targets(shared, self.logger) if shared else frozenset()
            if found:  # a set of nothing but garbage does not mean "every external link"
                self.targets = found
        if not push_seeds:
            return
        if self.seed_urls:
            self.server.lpush(self.redis_key, *self.seed_urls)
            self.logger.info("Pushed %d seeds to %s", len(self.seed_urls), self.redis_key)
            self.crawler.signals.send_catch_log(our_signals.seeds_pushed)
        else:
            self.logger.info("No seeds given: joining the crawl in %s", self.redis_key)

    def make_request_from_data(self, data):
        """A request from a ``P:start_urls`` entry: a URL, or scrapy-redis JSON with ``url``.

        Anyone who reaches Redis can push anything: an entry that is not text, not
        a URL, or longer than ``MAX_URL_LENGTH`` is dropped with a log line and a stat.
        """
        try:
            text = bytes_to_str(data, self.redis_encoding).strip()
        except UnicodeDecodeError:
            text = ""
        url = text
        if text.startswith("{"):
            try:
                url = json.loads(text).get("url")
            except (ValueError, AttributeError, RecursionError):
                url = None
        limit = self.crawler.settings.getint("MAX_URL_LENGTH")
        if not isinstance(url, str) or not url or (limit and len(url) > limit) or user_url(url) is None:
            self.logger.warning("Ignoring a start_urls entry that is no URL: %.200r", data)
            self.crawler.stats.inc_value("frontier/unreadable_seeds")
            return []
        request = self.seed_request(url)
        return [request] if request is not None else []

    def spider_idle(self):
        """Nothing: the FrontierScheduler decides when the whole cluster is idle."""
