"""429 and 503 with Retry-After: the host gets no request before then, others go on."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from backlinkspider.backoff import retry_after
from backlinkspider.demo.proxy import Response, WebProxy, html
from tests.support.crawls import run_crawl

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value, seconds",
    [(b"120", 120.0), ("0", 0.0), (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
     ("Wed, 02 Dec 2026 11:00:00 GMT", 0.0), (b"soon", None), (None, None), ("", None)],
)  # fmt: skip
def test_retry_after_values(value, seconds):
    assert retry_after(value, NOW) == seconds


BUSY, CALM = "www.busy-site.com", "www.calm-site.com"
WAIT = 2


class BusyWeb:
    """Answers /limited.html with 429 (then 503) and Retry-After the first two times."""

    def __init__(self):
        self.lock = threading.Lock()
        self.asked = 0

    def resolve(self, host, path):
        if host == BUSY and path == "/":
            return html('<a href="/limited.html">l</a>')
        if host == BUSY and path == "/limited.html":
            with self.lock:
                self.asked += 1
                asked = self.asked
            if asked <= 2:
                return Response(429 if asked == 1 else 503, b"busy", [("Retry-After", str(WAIT))])
            return html('<a href="https://acme-tools.com/patient">patient</a>')
        if host == CALM and path != "/robots.txt":
            n = int(path.strip("/").split(".")[0] or 0)
            return html(f'<a href="/{n + 1}.html">next</a>' if n < 40 else "end")
        return None


def test_a_host_that_asks_to_wait_is_waited_for_and_others_go_on(mongo_uri, db):
    busy = BusyWeb()
    web = WebProxy(busy.resolve).start()
    try:
        run_crawl(mongo_uri, db.name, web, "-a", f"seeds=http://{BUSY}/,http://{CALM}/", "-a",
                  "targets=acme-tools.com", RETRY_TIMES="2")  # fmt: skip
        arrivals = [(t, h, p) for t, h, p in web.arrivals if h in (BUSY, CALM) and p != "/robots.txt"]
    finally:
        web.stop()
    limited = [t for t, h, p in arrivals if h == BUSY and p == "/limited.html"]
    assert len(limited) == 3
    for earlier, later in zip(limited, limited[1:], strict=False):
        assert later - earlier >= WAIT - 0.05  # asked to wait WAIT seconds: waited
    # The calm site was crawled meanwhile.
    assert any(limited[0] < t < limited[1] for t, h, _ in arrivals if h == CALM)
    page = db.pages.find_one({"url": f"http://{BUSY}/limited.html"})
    assert page["status"] == 200
    assert db.backlinks.count_documents({"target_url": "https://acme-tools.com/patient"}) == 1


def test_a_distributed_worker_waits_as_asked(mongo_uri, db, redis_server):
    from tests.support.distributed import Worker

    busy = BusyWeb()
    web = WebProxy(busy.resolve).start()
    try:
        Worker(mongo_uri, db, web.url, redis_server.url, "-a", f"seeds=http://{BUSY}/", "-a",
               "targets=acme-tools.com", RETRY_TIMES="2").wait()  # fmt: skip
        limited = [t for t, h, p in web.arrivals if h == BUSY and p == "/limited.html"]
    finally:
        web.stop()
    assert len(limited) == 3
    assert all(later - earlier >= WAIT - 0.05 for earlier, later in zip(limited, limited[1:], strict=False))
    assert db.backlinks.count_documents({"target_url": "https://acme-tools.com/patient"}) == 1


class ClusterBusyWeb:
    """A site whose /limited.html answers 429 with Retry-After once, among 30 other pages."""

    def __init__(self):
        self.lock = threading.Lock()
        self.asked = 0

    def resolve(self, host, path):
        if host != BUSY or path == "/robots.txt":
            return None
        if path == "/":
            return html('<a href="/limited.html">l</a>' + "".join(f'<a href="/p{n}.html">{n}</a>' for n in range(30)))
        if path == "/limited.html":
            with self.lock:
                self.asked += 1
                if self.asked == 1:
                    return Response(429, b"slow down", [("Retry-After", str(CLUSTER_WAIT))])
        return html('<a href="https://acme-tools.com/patient">patient</a>')


CLUSTER_WAIT = 3


def test_every_worker_waits_when_one_is_asked_to(mongo_uri, db, redis_server):
    """Two workers share a host; the one that gets the 429 tells the other through the frontier."""
    from tests.support.distributed import Worker

    web = WebProxy(ClusterBusyWeb().resolve).start()
    try:
        args = ("-a", f"seeds=http://{BUSY}/", "-a", "targets=acme-tools.com")
        workers = [Worker(mongo_uri, db, web.url, redis_server.url, *args, DOWNLOAD_DELAY="0.2", RETRY_TIMES="2")
                   for _ in range(2)]  # fmt: skip
        crawls = [w.wait() for w in workers]
        arrivals = [(t, p) for t, h, p in web.arrivals if h == BUSY and p != "/robots.txt"]
    finally:
        web.stop()
    # Both workers fetched the host, and only one was told to wait.
    assert all(c.stats.get("downloader/response_status_count/200", 0) >= 5 for c in crawls)
    assert sorted(c.stats.get("backlinks/backoff/retry_after", 0) for c in crawls) == [0, 1]
    asked = next(t for t, p in arrivals if p == "/limited.html")
    during = [p for t, p in arrivals if asked + 0.3 < t < asked + CLUSTER_WAIT - 0.1]
    assert during == [], f"requests while the host had asked every crawler to wait: {during}"
    retried = [t for t, p in arrivals if p == "/limited.html"][1]
    assert retried >= asked + CLUSTER_WAIT - 0.05
    assert db.pages.count_documents({"status": 200}) == 32
