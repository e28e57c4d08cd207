"""Crawl throughput, CPU a page and MongoDB round trips: ours against bare Scrapy and Crawlee.

Serves a generated web (``--pages`` pages over ``--sites`` sites, each page
linking to ``--links`` pages of its site and to a few external sites) from a
proxy in its own process, starts SecantusDB, then crawls it with:

* ``bare``: a plain Scrapy spider that only downloads pages and follows their
  links (``response.css("a::attr(href)")`` + ``response.follow``),
* ``ours``: ``scrapy crawl backlinks``, storing every backlink in MongoDB, and
* ``crawlee``: Crawlee for Python's ``ParselCrawler`` (the ``bench`` extra), as
  issue 20 configured it: concurrency pinned at 32, robots.txt respected, one
  ``enqueue_links`` pass, nothing stored,

each in a fresh process at the same concurrency (32 requests, and a per-site
limit of ``--per-site``, 32 by default: Crawlee has none), alternating for
``--rounds`` rounds. Ours counts every MongoDB command it sends (pymongo
command monitoring): that is its number of round trips. ``--journal`` adds a
third crawler, ours with the pipeline's writes unjournaled (``w: 1`` alone), to
show what acknowledged-means-on-disk costs; ``--variant 'NAME=VALUE [NAME=VALUE]'``
one more crawler per variant, ours with those settings (``--variant PAGE_TERMS=0``
shows what ``pages.terms`` costs; ``--variant CONCURRENT_ITEMS=100`` what Scrapy's
default would). Each line gives pages/s, CPU a page of the crawler process, of the
MongoDB server and of the web server, the crawler's peak memory, and how long ours
took from its last page to its end (``closing``: the store's backlog, the sitewide
pass, the summaries); ``--profile DIR`` samples the crawlers and the store server
with py-spy and shares their CPU out by component (download, engine, middlewares,
scheduler, extraction, classification, pipeline; the store's by command).

    python bench/crawl.py [--pages 5000] [--rounds 2] [--journal] [--profile DIR] [--no-crawlee]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMON = {
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "SITE_PAGE_LIMIT": 0,
}
EXTERNAL = ["acme-tools.com", "greenthumb-supplies.com", "janedoe.blogspot.com", "notacme-tools.com"]


# -- the generated web --------------------------------------------------------


def site_of(i: int, sites: int) -> str:
    return f"www.bench-site-{i % sites}.com"


def page_html(host: str, n: int, pages: int, sites: int, links: int) -> bytes:
    """Page n of a site: text, `links` internal links, three external ones."""
    rng = random.Random(f"{host}/{n}")
    per_site = pages // sites
    body = [f"<html><head><title>{host} page {n}</title></head><body><h1>Page {n}</h1>"]
    for k in range(links):
        target = (n + 1 + k) % per_site if k < 2 else rng.randrange(per_site)  # a chain: every page reachable
        body.append(
            f"<p>Lorem ipsum dolor sit amet, {k} consectetur adipiscing elit. "
            f'<a href="/p/{target}.html">Read page {target}</a></p>'
        )
    for _ in range(3):
        ext = rng.choice(EXTERNAL)
        rel = rng.choice(["", ' rel="nofollow"', ' rel="ugc"', ' rel="sponsored"'])
        body.append(f'<p>See <a href="https://www.{ext}/item/{rng.randrange(50)}"{rel}>{ext} item</a></p>')
    body.append("</body></html>")
    return "".join(body).encode()


def serve(port_file: str, pages: int, sites: int, links: int) -> None:
    from backlinkspider.demo.proxy import Response, WebProxy

    def resolve(host, path):
        if not host.startswith("www.bench-site-"):
            return None
        if path == "/":
            path = "/p/0.html"
        if not path.startswith("/p/") or not path.endswith(".html"):
            return None
        n = int(path[3:-5])
        return Response(200, page_html(host, n, pages, sites, links), [("Content-Type", "text/html; charset=utf-8")])

    proxy = WebProxy(resolve)
    Path(port_file).write_text(proxy.url)
    proxy.serve_forever()


# -- the crawlers (run in child processes) -------------------------------------


def cpu_seconds() -> float:
    """User + system CPU of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of another process (the MongoDB server), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_crawlee(seeds: list[str], proxy: str) -> dict:
    """Crawlee for Python's ParselCrawler, configured as issue 20 measured it.

    Concurrency pinned at 32 (no per-host limit: Crawlee has none), robots.txt
    respected, one ``enqueue_links`` pass a page (same hostname, like bare's
    ``allowed_domains``), nothing stored; its request queue in memory.
    """
    import asyncio

    from crawlee import ConcurrencySettings
    from crawlee.crawlers import ParselCrawler, ParselCrawlingContext
    from crawlee.proxy_configuration import ProxyConfiguration
    from crawlee.storage_clients import MemoryStorageClient

    crawler = ParselCrawler(
        concurrency_settings=ConcurrencySettings(min_concurrency=32, max_concurrency=32, desired_concurrency=32),
        respect_robots_txt_file=True,
        proxy_configuration=ProxyConfiguration(proxy_urls=[proxy]),
        storage_client=MemoryStorageClient(),
        max_request_retries=2,
        configure_logging=False,
    )

    @crawler.router.default_handler
    async def parse(context: ParselCrawlingContext) -> None:
        await context.enqueue_links()

    logging.getLogger("crawlee").setLevel(logging.WARNING)
    cpu0, t0 = cpu_seconds(), time.monotonic()
    final = asyncio.run(crawler.run(seeds))
    elapsed, cpu = time.monotonic() - t0, cpu_seconds() - cpu0
    pages = final.requests_finished
    return {"kind": "crawlee", "pages": pages, "elapsed": elapsed, "pages_per_s": pages / elapsed, "cpu": cpu,
            "peak_mb": peak_mb(), "commands": {}}  # fmt: skip


def run_crawler(kind: str, seeds: list[str], mongo_uri: str, database: str, variant: str = "") -> dict:
    os.environ["SCRAPY_SETTINGS_MODULE"] = "backlinkspider.settings"
    import scrapy
    from pymongo import monitoring
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    class Counter(monitoring.CommandListener):
        def __init__(self):
            self.commands: dict[str, int] = {}

        def started(self, event):
            self.commands[event.command_name] = self.commands.get(event.command_name, 0) + 1

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    class BareSpider(scrapy.Spider):
        """Downloads pages and follows their links; nothing else."""

        name = "bare"

        def __init__(self, seeds, **kwargs):
            super().__init__(**kwargs)
            self.seeds = seeds
            self.allowed_domains = [s.split("/")[2] for s in seeds]

        async def start(self):
            for url in self.seeds:
                yield scrapy.Request(url)

        def parse(self, response):
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, self.parse)

    counter = Counter()
    monitoring.register(counter)
    idle = [0.0]  # when the crawl last ran out of requests: closing (the store's end passes) starts
    settings = get_project_settings()
    settings.setdict(
        {**COMMON, "MONGO_URI": mongo_uri, "MONGO_DATABASE": database, "BACKLINKS_REPORT": False}, priority="cmdline"
    )
    if kind == "bare":
        settings.setdict({"ITEM_PIPELINES": {}, "EXTENSIONS": {}}, priority="cmdline")
    for pair in variant.split():
        name, _, value = pair.partition("=")
        settings.set(name, json.loads(value) if value.startswith("{") else value, priority="cmdline")
    if kind == "unjournaled":
        from pymongo.write_concern import WriteConcern

        from pipelines import mongo

        mongo.JOURNALED = WriteConcern(w=1)  # what the pipeline wrote with before
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider if kind == "bare" else "backlinks")

    def ran_out():
        idle[0] = time.time()

    crawler.signals.connect(ran_out, signal=scrapy.signals.spider_idle)
    process.crawl(crawler, seeds=seeds if kind == "bare" else ",".join(seeds))
    cpu0 = cpu_seconds()
    process.start()
    cpu = cpu_seconds() - cpu0
    stats = crawler.stats.get_stats()
    elapsed = (stats["finish_time"] - stats["start_time"]).total_seconds()
    pages = stats.get("response_received_count", 0)
    return {
        "kind": kind,
        "pages": pages,
        "elapsed": elapsed,
        "pages_per_s": pages / elapsed,
        "closing": stats["finish_time"].timestamp() - idle[0],
        "cpu": cpu,
        "peak_mb": peak_mb(),
        "commands": counter.commands,
    }


# -- the profile ----------------------------------------------------------------

PROFILE_RATE = 250  # samples a second: the sampler's own CPU stays out of the figures


def spy(output: str) -> list[str]:
    """py-spy record, collapsed stacks (one line per stack, root first), native frames off."""
    return ["py-spy", "record", "--rate", str(PROFILE_RATE), "--format", "raw", "--output", output, "--nonblocking"]


#: A sample is charged to the first rule, from the innermost frame outwards, whose
#: text occurs in the frame ("function (file:line)"). Order matters within a frame
#: only; the innermost matching frame decides.
COMPONENTS = [
    ("startup and shutdown", ["<frozen importlib", "_find_and_load"]),
    ("store: MongoDB client (pymongo, BSON)", ["pymongo/", "bson/"]),
    ("pipeline: write plan (mongo, changes, sitewide)", ["pipelines/mongo.py", "pipelines/changes.py",
                                                         "pipelines/sitewide.py", "pipelines/spill.py"]),
    ("classification (normalize, classify)", ["pipelines/normalize.py", "pipelines/classify.py", "tldextract/",
                                              "backlinkspider/urls.py", "backlinkspider/keys.py"]),
    ("extraction (links, terms, language)", ["backlinkspider/links.py", "backlinkspider/terms.py", "selectolax",
                                             "backlinkspider/language.py", "backlinkspider/link_context.py",
                                             "py3langid", "snowballstemmer", "backlinkspider/anchors.py",
                                             "backlinkspider/layout.py", "backlinkspider/spiders/", "parsel/",
                                             "crawlee/crawlers/_parsel/", "crawlee/_utils/urls.py"]),
    ("scheduler and dupefilter", ["scrapy/core/scheduler.py", "scrapy/dupefilters.py", "scrapy/squeues.py",
                                  "scrapy/utils/request.py", "queuelib/", "scrapy/pqueues.py",
                                  "backlinkspider/frontier/", "scrapy_redis/", "crawlee/storage_clients/",
                                  "crawlee/storages/", "crawlee/request_loaders/"]),
    ("robots.txt", ["robots", "protego"]),
    ("download (Twisted HTTP, the handler)", ["scrapy/core/downloader/handlers", "twisted/web/",
                                              "twisted/internet/tcp.py", "twisted/protocols/", "scrapy/core/http2",
                                              "scrapy/core/downloader/webclient", "twisted/internet/endpoints.py",
                                              "scrapy/core/downloader/contextfactory", "crawlee/http_clients/",
                                              "impit"]),
    ("spider middlewares", ["scrapy/spidermiddlewares/", "scrapy/core/spidermw.py"]),
    ("downloader middlewares", ["scrapy/downloadermiddlewares/", "scrapy/core/downloader/middleware.py",
                                "backlinkspider/guard.py", "backlinkspider/redirects.py", "backlinkspider/backoff.py"]),
    ("Scrapy's tasks for each response's output (CONCURRENT_ITEMS)", ["_parallel_asyncio"]),
    ("stats, logging and signals", ["scrapy/statscollectors.py", "logging/", "scrapy/signalmanager.py",
                                    "pydispatch/", "scrapy/utils/signal.py"]),
]  # fmt: skip

#: What no component above claims: the engine, the reactor and the event loop.
ENGINE = ("engine, reactor and event loop", ["scrapy/", "backlinkspider/", "itemadapter/", "w3lib/", "parsel/",
                                             "twisted/", "asyncio/", "selectors.py", "crawlee/"])  # fmt: skip


#: The store server's samples, by the command they serve (the outermost matching frame).
STORE_COMMANDS = [
    ("store: inserts", ["_insert (secantus/commands.py"]),
    ("store: updates and upserts", ["_update (secantus/commands.py"]),
    ("store: reads (find, aggregate, getMore)", ["_find (secantus/commands.py", "_aggregate (secantus/commands.py",
                                                 "_get_more (secantus/commands.py", "_count (secantus/commands.py"]),
    ("store: the wire, threads and the rest", [""]),  # matches any frame: only the last rule may
]  # fmt: skip


def budget(raw: Path, cpu_seconds: float, pages: int) -> str:
    """CPU ms a page by component: the process's measured CPU, shared out as py-spy's samples fall."""
    store = raw.stem.endswith("-store")
    rules = STORE_COMMANDS if store else COMPONENTS
    counts: dict[str, int] = {}
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        part = "other"
        frames = stack.split(";")
        if store:  # the first command handler from the root; else the last rule
            part = next((n for f in frames for n, needles in rules[:-1] if any(k in f for k in needles)), rules[-1][0])
        else:  # the innermost frame that belongs to a component, else to the engine
            for group in (rules, [ENGINE]):
                part = next((n for f in reversed(frames) for n, k in group if any(x in f for x in k)), part)
                if part != "other":
                    break
        counts[part] = counts.get(part, 0) + int(n)
    total = sum(counts.values()) or 1
    rows = sorted(counts.items(), key=lambda kv: -kv[1])
    return "\n".join(
        f"    {raw.stem.rsplit('-', 1)[1]:<8} {name:<48} {cpu_seconds * n / total / pages * 1000:6.2f} ms a page"
        for name, n in rows
    )


# -- the orchestration ---------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="pages in the generated web")
    parser.add_argument("--sites", type=int, default=10, help="sites the pages are spread over")
    parser.add_argument("--links", type=int, default=12, help="internal links per page")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of bare and ours")
    parser.add_argument("--journal", action="store_true", help="also crawl with unjournaled writes, to compare")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="'NAME=VALUE [NAME=VALUE]'",
        help="also crawl ours with these settings (repeatable), e.g. PAGE_TERMS=0; a dict as JSON without spaces",
    )
    parser.add_argument(
        "--per-site",
        type=int,
        default=32,
        help="Scrapy's CONCURRENT_REQUESTS_PER_DOMAIN (default 32: no per-site limit below the 32 overall, as Crawlee)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="sample every crawler and the store server with py-spy into DIR, and print CPU a page by component",
    )
    parser.add_argument("--no-crawlee", action="store_true", help="leave Crawlee out (it needs the bench extra)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        serve(args.serve, args.pages, args.sites, args.links)
        return
    if args.child:
        job = json.loads(args.child)
        if job["kind"] == "crawlee":
            result = run_crawlee(job["seeds"], os.environ["http_proxy"])
        else:
            COMMON["CONCURRENT_REQUESTS_PER_DOMAIN"] = job.pop("per_site")
            result = run_crawler(**job)
        print(json.dumps(result))
        return

    if not args.no_crawlee and importlib.util.find_spec("crawlee") is None:
        print("Crawlee is not installed (pip install -e '.[bench]'): crawling without it")
        args.no_crawlee = True
    if args.profile and shutil.which("py-spy") is None:
        parser.error("--profile needs py-spy (pip install -e '.[bench]')")

    import bson
    from pymongo import MongoClient

    from backlinkspider.embedded import EmbeddedMongo

    tmp = Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    mongo = EmbeddedMongo(tmp / "mongo")
    mongo_uri = mongo.start()
    port_file = tmp / "proxy"
    server = subprocess.Popen(
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
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        env = {**os.environ, "http_proxy": port_file.read_text()}
        env.pop("no_proxy", None)
        seeds = [f"http://{site_of(i, args.sites)}/" for i in range(args.sites)]
        for i, variant in enumerate(args.variant, 1):
            print(f"ours+v{i}: ours with {variant}")
        print(f"web: {args.pages} pages over {args.sites} sites, {args.links} internal + 3 external links a page")
        results = []
        for r in range(args.rounds):
            stored = ["ours"] + ["unjournaled"] * args.journal + [f"ours+v{i + 1}" for i in range(len(args.variant))]
            if r % 2:  # the server slows as its databases grow: alternate which arm goes first
                stored.reverse()
            kinds = ["bare", *stored] + ["crawlee"] * (not args.no_crawlee)
            for kind in kinds:
                database = f"bench_{r}_{kind}".replace("+", "_")
                variant = args.variant[int(kind[6:]) - 1] if kind.startswith("ours+v") else ""
                job = {"kind": kind, "seeds": seeds, "mongo_uri": mongo_uri, "per_site": args.per_site,
                       "database": database, "variant": variant}  # fmt: skip
                store_cpu, web_cpu = process_cpu(mongo.process.pid), process_cpu(server.pid)
                command = [sys.executable, __file__, "--child", json.dumps(job)]
                spies = []
                if args.profile:
                    name = Path(args.profile) / f"round{r + 1}-{kind}"
                    name.parent.mkdir(parents=True, exist_ok=True)
                    command = [*spy(f"{name}-crawler.txt"), "--", *command]
                    if kind not in ("bare", "crawlee"):
                        spies.append(subprocess.Popen([*spy(f"{name}-store.txt"), "--pid", str(mongo.process.pid)]))
                out = subprocess.run(
                    command,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                res = json.loads([x for x in out.stdout.splitlines() if x.startswith("{")][-1])
                res["store_cpu"] = process_cpu(mongo.process.pid) - store_cpu
                res["web_cpu"] = process_cpu(server.pid) - web_cpu
                for s in spies:
                    s.send_signal(signal.SIGINT)  # py-spy writes its samples and exits
                    s.wait()
                results.append(res)
                ms = {part: res[part] / res["pages"] * 1000 for part in ("cpu", "store_cpu", "web_cpu")}
                line = (
                    f"round {r + 1} {kind:<11} {res['pages']:>6} pages {res['elapsed']:7.1f} s "
                    f"(closing {res.get('closing', 0):.1f}) {res['pages_per_s']:7.1f} pages/s  CPU a page: crawler "
                    f"{ms['cpu']:.2f} ms, store {ms['store_cpu']:.2f} (the web {ms['web_cpu']:.2f}); "
                    f"peak {res['peak_mb']:.0f} MB"
                )
                if kind not in ("bare", "crawlee"):
                    total = sum(res["commands"].values())
                    line += (
                        f"   MongoDB round trips {total} ({total / res['pages'] * 50:.2f} per 50 pages:"
                        f" {json.dumps(res['commands'], sort_keys=True)})"
                    )
                print(line, flush=True)
                if args.profile:
                    for part, cpu in (("crawler", res["cpu"]), ("store", res["store_cpu"])):
                        if Path(f"{name}-{part}.txt").exists():
                            print(budget(Path(f"{name}-{part}.txt"), cpu, res["pages"]), flush=True)
        best = {k: max(x["pages_per_s"] for x in results if x["kind"] == k) for k in {x["kind"] for x in results}}
        print(
            f"best pages/s: bare {best['bare']:.1f}, ours {best['ours']:.1f}: "
            f"ours = {best['ours'] / best['bare']:.2f}x bare (target: at least 0.9x)"
        )
        if "crawlee" in best:
            print(
                f"Crawlee {best['crawlee']:.1f} pages/s: ours = {best['ours'] / best['crawlee']:.2f}x Crawlee "
                f"(target: at least 1.0x); by round: "
                + ", ".join(
                    f"{o['pages_per_s'] / c['pages_per_s']:.2f}x"
                    for o, c in zip(
                        [x for x in results if x["kind"] == "ours"],
                        [x for x in results if x["kind"] == "crawlee"],
                        strict=True,
                    )
                )
            )
        for i, variant in enumerate(args.variant, 1):
            mine = best[f"ours+v{i}"]
            print(f"v{i} {variant}: {mine:.1f} pages/s against ours' {best['ours']:.1f}: {mine / best['ours']:.2f}x")
        if args.journal:
            print(
                f"journaled writes: ours {best['ours']:.1f} pages/s, unjournaled {best['unjournaled']:.1f}: "
                f"{best['ours'] / best['unjournaled']:.2f}x"
            )
        client = MongoClient(mongo_uri)
        print(
            f"stored: {client['bench_0_ours'].backlinks.count_documents({})} backlinks, "
            f"{client['bench_0_ours'].pages.count_documents({})} pages"
        )
        sizes = [len(bson.encode({"terms": p.get("terms") or {}})) - 13 for p in client["bench_0_ours"].pages.find()]
        print(f"terms: {sum(sizes) / max(len(sizes), 1):,.0f} bytes of BSON a page on average (target: at most 2 KB)")
        client.close()
    finally:
        server.terminate()
        mongo.stop()


if __name__ == "__main__":
    main()
