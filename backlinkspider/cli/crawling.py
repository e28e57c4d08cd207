"""The commands that crawl: ``demo`` and ``check-targets``.

Crawls themselves run with Scrapy's own ``scrapy crawl backlinks``; these two
run the same spider in this process, for a purpose of their own.
"""

from __future__ import annotations

import argparse
import os
from importlib.resources import files

from backlinkspider.cli.base import Command, log_level_option, settings

DEMO_SEEDS = [
    "http://www.gardening-weekly.co.uk/",
    "http://janedoe.blogspot.com/",
    "http://forum.diy-talk.net/",
]
DEMO_TARGETS = "acme-tools.com"


def _crawl(found, **spider_args) -> int:
    """Run the backlinks spider in this process with ``found`` settings; its exit status."""
    from scrapy.crawler import CrawlerProcess

    from backlinkspider import exit_status

    process = CrawlerProcess(found)
    crawler = process.create_crawler("backlinks")
    process.crawl(crawler, **spider_args)
    process.start()
    if process.bootstrap_failed:
        return 1
    return exit_status.reported(crawler.stats.get_stats() if crawler.stats else {})


class Demo(Command):
    """A new user sees the whole path, pages to MongoDB to report, with one command
    and nothing else installed: the demo web is served on loopback."""

    name = "demo"
    help = "crawl the bundled demo web (served on loopback) into MongoDB and print the report"
    description = (
        "Serve the bundled demo web through a loopback HTTP proxy, crawl it with "
        "the backlinks spider into MONGO_URI (or the embedded server when unset), with "
        "crawl_targets=1 (the targets' own site too, for `backlinks score`), and print "
        "the report."
    )

    def add_options(self, parser):
        parser.add_argument(
            "--targets", default=DEMO_TARGETS, help=f"target domains to report on (default: {DEMO_TARGETS})"
        )
        log_level_option(parser, "WARNING")

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider.demo.proxy import WebProxy, static_files

        proxy = WebProxy(static_files(files("backlinkspider.demo") / "web")).start()
        os.environ["http_proxy"] = proxy.url  # Scrapy's HttpProxyMiddleware reads it
        os.environ.pop("no_proxy", None)
        found = settings(args)
        # The demo web is ours and on loopback: no need to be gentle with it.
        # The demo is a single-machine crawl even where REDIS_URL is set.
        found.setdict(
            {
                "DOWNLOAD_DELAY": 0,
                "AUTOTHROTTLE_ENABLED": False,
                "REDIS_URL": "",
                "REDIS_HOST": "",
                "LOG_LEVEL": args.log_level,
            },
            priority="cmdline",
        )
        print(f"Serving the demo web at {proxy.url}; crawling {', '.join(DEMO_SEEDS)}", flush=True)
        status = _crawl(found, seeds=",".join(DEMO_SEEDS), targets=args.targets, crawl_targets="1")
        proxy.stop()
        first = args.targets.split(",")[0].strip()
        print(f"\nSee it in a browser: run `backlinks serve`, then open http://127.0.0.1:8708/d/{first}", flush=True)
        return status


class CheckTargets(Command):
    """Broken backlinks: is each stored target URL still there?"""

    name = "check-targets"
    help = "check the stored target URLs of DOMAIN: HTTP status, final URL, broken backlinks"
    description = (
        "Request each distinct target URL of the backlinks into DOMAIN once (HEAD, "
        "GET where HEAD is refused; robots.txt and the crawl's politeness settings apply) and "
        "store target_status, target_final_url, target_checked_at and broken on the backlinks. "
        "The same as `scrapy crawl backlinks -a targets=DOMAIN -a check_targets=1`, in one "
        "process even when REDIS_URL is set."
    )

    def add_options(self, parser):
        parser.add_argument("domains", nargs="+", metavar="DOMAIN", help="target domain(s) to check")
        log_level_option(parser, "INFO")

    def run(self, args: argparse.Namespace) -> int:
        found = settings(args)
        # One process, whatever REDIS_URL says: a command that ends when its checks do.
        found.setdict({"REDIS_URL": "", "REDIS_HOST": "", "LOG_LEVEL": args.log_level}, priority="cmdline")
        return _crawl(found, targets=",".join(args.domains), check_targets="1")
