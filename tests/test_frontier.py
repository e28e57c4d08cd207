"""The frontier's parts against a real Redis: serializer, Bloom filter, scripts."""

from __future__ import annotations

import pickle

import pytest
from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict
from scrapy.utils.test import get_crawler

from backlinkspider.frontier import serializer
from backlinkspider.frontier.dupefilter import BloomDupeFilter, false_positive_rate, geometry


class _Spider(Spider):
    name = "backlinks"

    def parse(self, response):
        pass

    def on_error(self, failure):
        pass


def test_requests_round_trip_as_compact_json():
    spider = _Spider()
    request = Request(
        "http://a.example/x?y=1",
        callback=spider.parse,
        errback=spider.on_error,
        meta={"site": "a.example", "depth": 2, "frontier_lease": "7", "obj": object()},
        priority=-2,
    )
    data = serializer.dumps(request.to_dict(spider=spider))
    assert data.startswith("{") and len(data) < 150, data
    assert "frontier_lease" not in data and "obj" not in data  # process-local meta stays home
    again = request_from_dict(serializer.loads(data), spider=spider)
    assert (again.url, again.callback, again.errback, again.priority) == (
        request.url,
        spider.parse,
        spider.on_error,
        -2,
    )
    assert again.meta == {"site": "a.example", "depth": 2}


@pytest.mark.parametrize(
    "entry",
    [
        pickle.dumps({"url": "http://a.example/"}),  # scrapy-redis's default format: refused
        b'{"url": "http://a.example/", "_class": "os.system"}',  # would import and call anything
        b'{"url": "http://a.example/", "callback": "__init__"}',
        b'["not", "a", "request"]',
    ],
)
def test_foreign_entries_are_refused(entry):
    with pytest.raises(serializer.SerializationError):
        serializer.loads(entry)


def test_bloom_geometry_is_under_two_bytes_a_url():
    m, k = geometry(10_000_000, 0.001)
    assert m / 10_000_000 / 8 <= 2
    assert k == 10
    assert false_positive_rate(m, k, 10_000_000) == pytest.approx(0.001, rel=0.05)


def test_bloom_filter_on_redis_has_the_rate_it_was_sized_for(redis_server):
    crawler = get_crawler(
        _Spider, {"REDIS_URL": redis_server.url, "FRONTIER_BLOOM_CAPACITY": 5000, "FRONTIER_BLOOM_ERROR_RATE": 0.01}
    )
    spider = _Spider.from_crawler(crawler)
    seen = BloomDupeFilter.from_spider(spider)
    seen.clear()
    seen = BloomDupeFilter.from_spider(spider)
    added = [Request(f"http://site.example/page/{i}") for i in range(5000)]
    # While it fills, a new URL is taken for seen at most at the final rate.
    assert sum(seen.request_seen(r) for r in added) < 0.01 * len(added)
    assert all(seen.request_seen(r) for r in added)  # no false negatives, ever
    probes = [Request(f"http://other.example/{i}") for i in range(5000)]
    false_positives = sum(r in seen for r in probes)
    assert false_positives / len(probes) < 0.015  # sized for 1 %
    used = redis_server.client().memory_usage(seen.key)
    assert used / 5000 <= 2.0 + 0.1  # bytes a URL, Redis's own overhead included


def test_a_second_worker_keeps_the_filters_geometry(redis_server):
    crawler = get_crawler(
        _Spider, {"REDIS_URL": redis_server.url, "FRONTIER_BLOOM_CAPACITY": 1000, "FRONTIER_BLOOM_ERROR_RATE": 0.01}
    )
    first = BloomDupeFilter.from_spider(_Spider.from_crawler(crawler))
    first.clear()
    first = BloomDupeFilter.from_spider(_Spider.from_crawler(crawler))
    other = get_crawler(
        _Spider, {"REDIS_URL": redis_server.url, "FRONTIER_BLOOM_CAPACITY": 99_000, "FRONTIER_BLOOM_ERROR_RATE": 0.001}
    )
    second = BloomDupeFilter.from_spider(_Spider.from_crawler(other))
    assert (second.m, second.k) == (first.m, first.k)


def test_queue_encodes_spider_callbacks_by_name(redis_server):
    from backlinkspider.frontier.queue import LeasedQueue

    crawler = get_crawler(_Spider, {"REDIS_URL": redis_server.url})
    spider = _Spider.from_crawler(crawler)
    queue = LeasedQueue(redis_server.client(), spider, "backlinks:requests")
    request = Request("http://a.example/", callback=spider.parse, errback=spider.on_error, meta={"site": "a.example"})
    again = queue.decode(queue.encode(request))
    assert (again.url, again.callback, again.errback, again.meta) == (
        request.url,
        spider.parse,
        spider.on_error,
        {"site": "a.example"},
    )
    with pytest.raises(ValueError):  # a callable that is not the spider's cannot be stored
        queue.encode(Request("http://a.example/", callback=lambda r: None))
