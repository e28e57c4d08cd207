"""The ``backlinks`` console script.

Crawls themselves run with Scrapy's own ``scrapy crawl backlinks``; this script
holds what is not a crawl: ``backlinks demo`` serves the demo web on loopback
and crawls it, so a new user sees the whole path from pages to MongoDB to
report with one command and nothing else installed; ``backlinks check-targets``
finds broken backlinks; ``backlinks status`` and ``backlinks reset`` look after
a distributed crawl's Redis frontier.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from importlib.resources import files

DEMO_SEEDS = [
    "http://www.gardening-weekly.co.uk/",
    "http://janedoe.blogspot.com/",
    "http://forum.diy-talk.net/",
]
DEMO_TARGETS = "acme-tools.com"


def demo(args: argparse.Namespace) -> int:
    """Serve the demo web through a loopback proxy and crawl it into the store."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from backlinkspider.demo.proxy import WebProxy, static_files

    proxy = WebProxy(static_files(files("backlinkspider.demo") / "web")).start()
    os.environ["http_proxy"] = proxy.url  # Scrapy's HttpProxyMiddleware reads it
    os.environ.pop("no_proxy", None)
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "backlinkspider.settings")
    settings = get_project_settings()
    # The demo web is ours and on loopback: no need to be gentle with it.
    # The demo is a single-machine crawl even where REDIS_URL is set.
    settings.setdict({"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "REDIS_URL": "",
                      "REDIS_HOST": "", "LOG_LEVEL": args.log_level}, priority="cmdline")
    print(f"Serving the demo web at {proxy.url}; crawling {', '.join(DEMO_SEEDS)}", flush=True)
    process = CrawlerProcess(settings)
    process.crawl("backlinks", seeds=",".join(DEMO_SEEDS), targets=args.targets)
    process.start()
    proxy.stop()
    return 0


def check_targets(args: argparse.Namespace) -> int:
    """Check every stored target URL of the given domains: status, final URL, broken."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "backlinkspider.settings")
    settings = get_project_settings()
    # One process, whatever REDIS_URL says: a command that ends when its checks do.
    settings.setdict({"REDIS_URL": "", "REDIS_HOST": "", "LOG_LEVEL": args.log_level}, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl("backlinks", targets=",".join(args.domains), check_targets="1")
    process.start()
    return 0


def _settings(args: argparse.Namespace):
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "backlinkspider.settings")
    settings = get_project_settings()
    if getattr(args, "redis_url", None):
        settings.set("REDIS_URL", args.redis_url, priority="cmdline")
    return settings


def _redis(settings):
    from backlinkspider.frontier.connection import blocking_client, enabled

    if not enabled(settings):
        raise SystemExit("backlinks: REDIS_URL is not set (environment or --redis-url): "
                         "there is no distributed crawl to look at")
    return blocking_client(settings)


def _backlinks_count(settings) -> int | None:
    if not settings.get("MONGO_URI"):
        return None  # never start the embedded server just to count
    from backlinkspider import store

    client = store.connect(settings)
    try:
        return client[settings.get("MONGO_DATABASE")][store.BACKLINKS].estimated_document_count()
    finally:
        client.close()


def status(args: argparse.Namespace) -> int:
    """Print the distributed crawl's state; with --watch, keep printing it."""
    from backlinkspider.frontier.status import cluster_status, format_status

    settings = _settings(args)
    server = _redis(settings)
    while True:
        state = cluster_status(server, args.crawl)
        backlinks = _backlinks_count(settings)
        if args.json:
            print(json.dumps({**state, "backlinks_stored": backlinks}), flush=True)
        else:
            if args.watch:
                print("\x1b[H\x1b[2J", end="")  # home, clear: a live view
            print(format_status(state, backlinks), flush=True)
        if not args.watch:
            return 0
        try:
            time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0


def reset(args: argparse.Namespace) -> int:
    """Delete a distributed crawl's frontier, seen-set and counters from Redis."""
    from backlinkspider.frontier.queue import clear
    from backlinkspider.frontier.status import cluster_status

    settings = _settings(args)
    server = _redis(settings)
    alive = cluster_status(server, args.crawl)["workers_alive"]
    if alive and not args.force:
        print(f"backlinks reset: {alive} worker(s) are still crawling {args.crawl!r}; stop them "
              "first, or pass --force", file=sys.stderr)
        return 1
    deleted = clear(server, args.crawl)
    print(f"Deleted {deleted} Redis keys of crawl {args.crawl!r}; MongoDB is untouched.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="backlinks",
        description="backlinkspider: your own backlink index. Crawl with "
        "`scrapy crawl backlinks -a seeds=URL[,URL…] -a targets=DOMAIN[,DOMAIN…]`.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "demo",
        help="crawl the bundled demo web (served on loopback) into MongoDB and print the report",
        description="Serve the bundled demo web through a loopback HTTP proxy, crawl it with "
        "the backlinks spider into MONGO_URI (or the embedded server when unset) and print "
        "the report.",
    )
    p.add_argument("--targets", default=DEMO_TARGETS,
                   help=f"target domains to report on (default: {DEMO_TARGETS})")
    p.add_argument("--log-level", default="WARNING", help="Scrapy log level (default: WARNING)")
    p.set_defaults(func=demo)

    p = sub.add_parser(
        "check-targets",
        help="check the stored target URLs of DOMAIN: HTTP status, final URL, broken backlinks",
        description="Request each distinct target URL of the backlinks into DOMAIN once (HEAD, "
        "GET where HEAD is refused; robots.txt and the crawl's politeness settings apply) and "
        "store target_status, target_final_url, target_checked_at and broken on the backlinks. "
        "The same as `scrapy crawl backlinks -a targets=DOMAIN -a check_targets=1`, in one "
        "process even when REDIS_URL is set.",
    )
    p.add_argument("domains", nargs="+", metavar="DOMAIN", help="target domain(s) to check")
    p.add_argument("--log-level", default="INFO", help="Scrapy log level (default: INFO)")
    p.set_defaults(func=check_targets)

    cluster = argparse.ArgumentParser(add_help=False)  # what status and reset share
    cluster.add_argument("--redis-url", help="Redis of the distributed crawl "
                         "(default: the REDIS_URL setting or environment variable)")
    cluster.add_argument("--crawl", default="backlinks",
                         help="key prefix, the spider name (default: backlinks)")
    p = sub.add_parser(
        "status",
        parents=[cluster],
        help="show a distributed crawl: queue, leases, seen URLs, workers, pages/min, backlinks",
        description="Show the state of the distributed crawl in REDIS_URL: queued requests, "
        "in-flight leases, seen URLs, workers alive (heartbeats), pages per minute and, when "
        "MONGO_URI is set, backlinks stored.",
    )
    p.add_argument("--watch", action="store_true", help="refresh the view until Ctrl-C")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default: 2)")
    p.add_argument("--json", action="store_true", help="print JSON (one object a refresh)")
    p.set_defaults(func=status)

    p = sub.add_parser(
        "reset",
        parents=[cluster],
        help="delete a distributed crawl's Redis state (frontier, seen URLs, leases, robots cache)",
        description="Delete every Redis key of the distributed crawl, so the next crawl starts "
        "afresh. Workers never clear the shared frontier themselves; this is the only way. "
        "MongoDB is left alone.",
    )
    p.add_argument("--force", action="store_true", help="reset even while workers are alive")
    p.set_defaults(func=reset)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
