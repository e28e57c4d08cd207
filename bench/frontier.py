"""The Redis frontier: round trips per page, bytes per seen URL, pages/s.

One run, one generated web (``bench/crawl.py``'s: ``--pages`` pages over
``--sites`` sites, served from its own process), one Redis (valkey-server),
one SecantusDB; each crawl on a fresh database and a reset frontier:

* ``single``: ``scrapy crawl backlinks`` without REDIS_URL (the baseline),
* ``redis×1`` and ``redis×2``: the same crawl with REDIS_URL, 1 and 2 workers,
* ``stock``: stock scrapy-redis 0.9.1 (its Scheduler, RFPDupeFilter, pickle)
  under a bare RedisSpider that only downloads and follows links, for
  reference: it stores nothing, so its pages/s flatter it.

Then the same ``redis×1`` and ``stock`` crawls again with Redis behind a proxy
that delays every packet (``--latency-ms``, round trip; 2.7 ms is a Redis in
another zone), for ``--latency-pages`` pages: a blocking client pays the
latency on every command, ours overlaps it with the crawl.

Redis round trips come from ``INFO commandstats``. Commands that our Lua
scripts call run inside Redis, so ours are counted as the calls a client sends:
EVALSHA/EVAL plus every command our scripts never use; stock scrapy-redis
sends every command it makes. Pages/s is pages over the time from the first
to the last page request the web server saw.

    python bench/frontier.py [--pages 5000] [--sites 10] [--latency-ms 2.7]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import crawl as web  # noqa: E402  (bench/crawl.py: the generated web)

SETTINGS = {**web.COMMON, "BACKLINKS_REPORT": "0", "MAX_IDLE_TIME_BEFORE_CLOSE": "2"}
# Commands our scripts run inside Redis; a client sending one is a round trip too,
# but only at start-up (seeds, targets, the filter's parameters), never per page.
SCRIPT_COMMANDS = {
    "time",
    "lpush",
    "zadd",
    "hincrby",
    "hdel",
    "hvals",
    "del",
    "hgetall",
    "zrem",
    "setbit",
    "rpush",
    "incrby",
    "expire",
    "hget",
    "rpop",
    "zrangebyscore",
    "lpop",
    "hset",
    "llen",
    "zrange",
    "hmget",
}


def stats_server(port_file: str, pages: int, sites: int, links: int) -> None:
    """bench/crawl.py's web, plus http://bench-stats/ answering what it served."""
    from backlinkspider.demo.proxy import Response, WebProxy

    served = []

    def resolve(host, path):
        if host == "bench-stats":  # /<n>: how many served, and when the n-th and the last
            since = int(path.strip("/") or 0)
            body = json.dumps(
                {
                    "count": len(served),
                    "first": served[since] if len(served) > since else 0,
                    "last": served[-1] if served else 0,
                }
            )
            return Response(200, body.encode(), [("Content-Type", "application/json")])
        if path != "/robots.txt":
            served.append(time.monotonic())
        if path == "/":
            path = "/p/0.html"
        if not host.startswith("www.bench-site-") or not path.startswith("/p/"):
            return None
        return Response(
            200,
            web.page_html(host, int(path[3:-5]), pages, sites, links),
            [("Content-Type", "text/html; charset=utf-8")],
        )

    proxy = WebProxy(resolve)
    Path(port_file).write_text(proxy.url)
    proxy.serve_forever()


def delay_proxy(port_file: str, target_port: int, one_way_ms: float) -> None:
    """Forward TCP to 127.0.0.1:target_port, every chunk delayed by one_way_ms (order kept)."""
    import asyncio

    async def pump(reader, writer):
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def send():
            while (item := await queue.get()) is not None:
                deadline, data = item
                await asyncio.sleep(max(0.0, deadline - loop.time()))
                writer.write(data)
                await writer.drain()
            writer.close()

        sender = asyncio.ensure_future(send())
        while data := await reader.read(65536):
            queue.put_nowait((loop.time() + one_way_ms / 1000, data))
        queue.put_nowait(None)
        await sender

    async def handle(client_reader, client_writer):
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(
            pump(client_reader, server_writer), pump(server_reader, client_writer), return_exceptions=True
        )

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
        await server.serve_forever()

    asyncio.run(main())


def stock_child(redis_url: str, sites: list[str]) -> None:
    """Stock scrapy-redis, as its README sets it up."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy_redis.spiders import RedisSpider

    class StockSpider(RedisSpider):
        name = "stock"
        allowed_domains = [s.split("/")[2] for s in sites]

        def parse(self, response):
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, self.parse)

    settings = {
        **web.COMMON,
        "REDIS_URL": redis_url,
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,
        "MAX_IDLE_TIME_BEFORE_CLOSE": 2,
        "TELNETCONSOLE_ENABLED": False,
        "CLOSESPIDER_PAGECOUNT": int(os.environ.get("BENCH_PAGE_LIMIT", 0)),
    }
    process = CrawlerProcess(settings)
    process.crawl(StockSpider)
    process.start()
    _ = scrapy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--links", type=int, default=12)
    parser.add_argument("--latency-ms", type=float, default=2.7, help="Redis round-trip latency of the second part")
    parser.add_argument("--latency-pages", type=int, default=1000, help="pages crawled in the second part")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--delay", help=argparse.SUPPRESS)
    parser.add_argument("--stock", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seeds = [f"http://{web.site_of(i, args.sites)}/" for i in range(args.sites)]
    if args.serve:
        return stats_server(args.serve, args.pages, args.sites, args.links)
    if args.delay:
        port_file, target = args.delay.split(",")
        return delay_proxy(port_file, int(target), args.latency_ms / 2)
    if args.stock:
        return stock_child(args.stock, seeds)

    import urllib.request

    import pymongo
    import redis

    from backlinkspider.embedded import EmbeddedMongo
    from backlinkspider.frontier.queue import clear
    from tests.support.redis_server import RedisServer

    tmp = Path(tempfile.mkdtemp(prefix="bench-frontier-"))
    mongo = EmbeddedMongo(tmp / "mongo")
    mongo_uri = mongo.start()
    server = RedisServer(tmp / "redis").start()
    client = server.client()
    port_file = tmp / "proxy"
    webserver = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(port_file),
            "--pages",
            str(args.pages),
            "--sites",
            str(args.sites),
            "--links",
            str(args.links),
        ]
    )
    while not port_file.exists() or not port_file.read_text():
        time.sleep(0.05)
    proxy_url = port_file.read_text()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy_url}))

    def served(since: int = 0):
        return json.loads(opener.open(f"http://bench-stats/{since}").read())

    env = {**os.environ, "http_proxy": proxy_url, "MONGO_URI": mongo_uri}
    for name in ("no_proxy", "NO_PROXY", "REDIS_URL"):
        env.pop(name, None)
    print(
        f"web: {args.pages} pages over {args.sites} sites, {args.links} internal + 3 external links a page; "
        f"CONCURRENT_REQUESTS={web.COMMON['CONCURRENT_REQUESTS']}, no delay; {os.cpu_count()} cores"
    )

    def crawl(name: str, workers: int, distributed: bool, redis_url: str = server.url, page_limit: int = 0) -> dict:
        clear(client, "backlinks")
        clear(client, "stock")
        client.config_resetstat()
        before = served()
        database = f"bench_{name.replace('×', 'x')}"
        pymongo.MongoClient(mongo_uri).drop_database(database)
        procs = []
        for i in range(workers):
            if name == "stock":
                if i == 0:
                    client.lpush("stock:start_urls", *[json.dumps({"url": s}) for s in seeds])
                cmd = [sys.executable, __file__, "--stock", redis_url]
            else:
                cmd = [sys.executable, "-m", "scrapy", "crawl", "backlinks"]
                if i == 0:
                    cmd += ["-a", "seeds=" + ",".join(seeds)]
                # The seen-set sized for this web, as an operator sizes it for a crawl.
                for key, value in {
                    **SETTINGS,
                    "FRONTIER_BLOOM_CAPACITY": args.pages,
                    "CLOSESPIDER_PAGECOUNT": page_limit,
                }.items():
                    cmd += ["-s", f"{key}={value}"]
            procs.append(
                subprocess.Popen(
                    cmd,
                    cwd=ROOT,
                    env={
                        **env,
                        "MONGO_DATABASE": database,
                        "BENCH_PAGE_LIMIT": str(page_limit),
                        **({"REDIS_URL": redis_url} if distributed else {}),
                    },
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
            if i == 0 and workers > 1:  # the others join once the seeds are in
                while not client.exists("backlinks:stats"):
                    time.sleep(0.05)
        for p in procs:
            _, err = p.communicate(timeout=1800)
            if p.returncode:
                sys.exit(f"{name} failed:\n{err[-3000:]}")
        after = served(before["count"])
        pages = after["count"] - before["count"]
        seconds = after["last"] - after["first"]
        commands = {k[len("cmdstat_") :]: v["calls"] for k, v in client.info("commandstats").items()}
        if name == "stock":
            trips = sum(n for c, n in commands.items() if c not in {"info", "config|resetstat", "config"})
        else:
            trips = sum(
                n
                for c, n in commands.items()
                if c in {"evalsha", "eval"}
                or c not in SCRIPT_COMMANDS
                and not c.startswith(("info", "config", "scan", "unlink", "flushall"))
            )
        out = {
            "name": name,
            "pages": pages,
            "seconds": seconds,
            "pages_per_s": pages / seconds if seconds else 0,
            "round_trips": trips,
            "commands": commands,
        }
        if distributed and name != "stock":
            seen = int(client.hget("backlinks:stats", "seen") or 0)
            out["seen"] = seen
            out["filter_bytes"] = client.memory_usage("backlinks:dupefilter")
        if name == "stock":
            out["seen"] = client.scard("stock:dupefilter")
            out["filter_bytes"] = client.memory_usage("stock:dupefilter", samples=0)
        return out

    try:
        results = []
        for name, workers, distributed in (
            ("single", 1, False),
            ("redis×1", 1, True),
            ("redis×2", 2, True),
            ("stock", 1, True),
        ):
            res = crawl(name, workers, distributed)
            results.append(res)
            line = f"{name:<8} {res['pages']:>6} pages {res['seconds']:6.1f} s {res['pages_per_s']:7.1f} pages/s"
            if distributed:
                line += f"   Redis round trips {res['round_trips'] / res['pages']:5.2f} a page"
                line += f"   seen-set {res['filter_bytes'] / res['seen']:6.1f} bytes a URL ({res['seen']} URLs)"
            print(line, flush=True)
        ours, stock = results[1], results[3]
        per_url = ours["filter_bytes"] / ours["seen"]
        print(
            f"seen-set per billion URLs: ours {per_url:.1f} GB (Bloom filter at capacity, "
            f"false-positive rate 0.001), stock {stock['filter_bytes'] / stock['seen']:.1f} GB"
        )
        base = results[0]["pages_per_s"]
        print(
            "pages/s against the single-machine crawl: "
            + ", ".join(f"{r['name']} {r['pages_per_s'] / base:.2f}x" for r in results[1:])
        )
        delayed_port = tmp / "delayed"
        delayer = subprocess.Popen(
            [sys.executable, __file__, "--delay", f"{delayed_port},{server.port}", "--latency-ms", str(args.latency_ms)]
        )
        while not delayed_port.exists() or not delayed_port.read_text():
            time.sleep(0.05)
        slow_url = f"redis://127.0.0.1:{delayed_port.read_text()}/0"
        client_slow = redis.Redis.from_url(slow_url)
        client_slow.ping()  # connected
        pings = []
        for _ in range(50):
            started = time.monotonic()
            client_slow.ping()
            pings.append(time.monotonic() - started)
        pings.sort()
        print(
            f"Redis behind a {args.latency_ms} ms proxy (measured: median PING {pings[25] * 1000:.1f} ms), "
            f"first {args.latency_pages} pages:"
        )
        slow = []
        for name in ("redis×1", "stock"):
            res = crawl(name, 1, True, redis_url=slow_url, page_limit=args.latency_pages)
            slow.append(res)
            print(
                f"{name:<8} {res['pages']:>6} pages {res['seconds']:6.1f} s {res['pages_per_s']:7.1f} pages/s",
                flush=True,
            )
        delayer.terminate()
        print(
            f"at {args.latency_ms} ms: ours {slow[0]['pages_per_s'] / ours['pages_per_s']:.2f}x its loopback "
            f"pages/s, stock {slow[1]['pages_per_s'] / stock['pages_per_s']:.2f}x its loopback pages/s"
        )
        print(
            "our commands: "
            + json.dumps(
                {
                    c: n
                    for c, n in sorted(ours["commands"].items())
                    if c in {"evalsha", "eval"} or c not in SCRIPT_COMMANDS
                }
            )
        )
        print("stock commands: " + json.dumps(dict(sorted(stock["commands"].items()))))
    finally:
        webserver.terminate()
        server.stop()
        mongo.stop()


if __name__ == "__main__":
    main()
