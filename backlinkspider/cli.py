"""The ``backlinks`` console script.

Crawls themselves run with Scrapy's own ``scrapy crawl backlinks``; this script
holds what is not a crawl, starting with ``backlinks demo``: serve the demo
web on loopback and crawl it, so a new user sees the whole path from pages to
MongoDB to report with one command and nothing else installed.
"""

from __future__ import annotations

import argparse
import os
import sys
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
    settings.setdict({"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                      "LOG_LEVEL": args.log_level}, priority="cmdline")
    print(f"Serving the demo web at {proxy.url}; crawling {', '.join(DEMO_SEEDS)}", flush=True)
    process = CrawlerProcess(settings)
    process.crawl("backlinks", seeds=",".join(DEMO_SEEDS), targets=args.targets)
    process.start()
    proxy.stop()
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
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
