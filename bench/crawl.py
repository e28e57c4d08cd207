"""Crawl throughput and MongoDB round trips, against a bare Scrapy spider.

Serves a generated web (``--pages`` pages over ``--sites`` sites, each page
linking to ``--links`` pages of its site and to a few external sites) from a
proxy in its own process, starts SecantusDB, then crawls it with:

* ``bare``: a plain Scrapy spider that only downloads pages and follows their
  links (``response.css("a::attr(href)")`` + ``response.follow``), and
* ``ours``: ``scrapy crawl backlinks``, storing every backlink in MongoDB,

each in a fresh process with the same downloader settings, alternating for
``--rounds`` rounds. Ours counts every MongoDB command it sends (pymongo
command monitoring): that is its number of round trips. ``--journal`` adds a
third crawler, ours with the pipeline's writes unjournaled (``w: 1`` alone), to
show what acknowledged-means-on-disk costs; ``--terms`` one without term counting
(``PAGE_TERMS=0``), to show what ``pages.terms`` costs.

    python bench/crawl.py [--pages 5000] [--rounds 2] [--journal]
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
CONCURRENT_ITEMS_DEFAULT = 100  # Scrapy's; what `ours` runs with unless the project sets it
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


def run_crawler(kind: str, seeds: list[str], mongo_uri: str, database: str, items: int = 0) -> dict:
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
    settings = get_project_settings()
    settings.setdict(
        {**COMMON, "MONGO_URI": mongo_uri, "MONGO_DATABASE": database, "BACKLINKS_REPORT": False}, priority="cmdline"
    )
    if kind == "bare":
        settings.setdict({"ITEM_PIPELINES": {}, "EXTENSIONS": {}}, priority="cmdline")
    if kind == "no_terms":
        settings.set("PAGE_TERMS", 0, priority="cmdline")
    if kind == "items":
        settings.set("CONCURRENT_ITEMS", items, priority="cmdline")
    if kind == "unjournaled":
        from pymongo.write_concern import WriteConcern

        from pipelines import mongo

        mongo.JOURNALED = WriteConcern(w=1)  # what the pipeline wrote with before
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider if kind == "bare" else "backlinks")
    process.crawl(crawler, seeds=seeds if kind == "bare" else ",".join(seeds))
    process.start()
    stats = crawler.stats.get_stats()
    elapsed = (stats["finish_time"] - stats["start_time"]).total_seconds()
    pages = stats.get("response_received_count", 0)
    return {
        "kind": kind,
        "pages": pages,
        "elapsed": elapsed,
        "pages_per_s": pages / elapsed,
        "commands": counter.commands,
    }


# -- the orchestration ---------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="pages in the generated web")
    parser.add_argument("--sites", type=int, default=10, help="sites the pages are spread over")
    parser.add_argument("--links", type=int, default=12, help="internal links per page")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of bare and ours")
    parser.add_argument("--journal", action="store_true", help="also crawl with unjournaled writes, to compare")
    parser.add_argument("--terms", action="store_true", help="also crawl without term counting (PAGE_TERMS=0)")
    parser.add_argument("--items", type=int, default=0, help="also crawl ours with CONCURRENT_ITEMS set to this")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        serve(args.serve, args.pages, args.sites, args.links)
        return
    if args.child:
        job = json.loads(args.child)
        print(json.dumps(run_crawler(**job)))
        return

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
        print(f"web: {args.pages} pages over {args.sites} sites, {args.links} internal + 3 external links a page")
        results = []
        for r in range(args.rounds):
            stored = (
                ["ours"] + ["unjournaled"] * args.journal + ["no_terms"] * args.terms + ["items"] * bool(args.items)
            )
            if r % 2:  # the server slows as its databases grow: alternate which arm goes first
                stored.reverse()
            kinds = ["bare", *stored]
            for kind in kinds:
                job = {"kind": kind, "seeds": seeds, "mongo_uri": mongo_uri, "database": f"bench_{r}_{kind}",
                       "items": args.items}  # fmt: skip
                out = subprocess.run(
                    [sys.executable, __file__, "--child", json.dumps(job)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                res = json.loads(out.stdout.strip().splitlines()[-1])
                results.append(res)
                line = (
                    f"round {r + 1} {kind:<11} {res['pages']:>6} pages {res['elapsed']:7.1f} s "
                    f"{res['pages_per_s']:7.1f} pages/s"
                )
                if kind != "bare":
                    total = sum(res["commands"].values())
                    line += (
                        f"   MongoDB round trips {total} ({total / res['pages'] * 50:.2f} per 50 pages:"
                        f" {json.dumps(res['commands'], sort_keys=True)})"
                    )
                print(line, flush=True)
        best = {k: max(x["pages_per_s"] for x in results if x["kind"] == k) for k in {x["kind"] for x in results}}
        print(
            f"best pages/s: bare {best['bare']:.1f}, ours {best['ours']:.1f}: "
            f"ours = {best['ours'] / best['bare']:.2f}x bare (target: at least 0.9x)"
        )
        if args.items:
            print(
                f"CONCURRENT_ITEMS={args.items}: {best['items']:.1f} pages/s against ours' {best['ours']:.1f} "
                f"(Scrapy's default, {CONCURRENT_ITEMS_DEFAULT}): {best['items'] / best['ours']:.2f}x"
            )
        if args.terms:
            print(
                f"term counting: ours {best['ours']:.1f} pages/s, without terms {best['no_terms']:.1f}: "
                f"{best['ours'] / best['no_terms']:.2f}x"
            )
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
