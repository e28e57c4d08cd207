"""``scrapy crawl``, exiting non-zero when the crawl's results did not all reach the store.

Scrapy's own command exits 0 whenever the crawl ran, even if the pipeline could
not store what it fetched. ``COMMANDS_MODULE`` lets a project replace a built-in
command; this one runs Scrapy's and then reads the crawl's stats
(``backlinkspider.exit_status``): 3 when results were kept for later (spill file,
Redis frontier), 4 when some are lost, with a last log line saying what and where.
Before the crawl starts it asks Redis and MongoDB whether they accept the
credentials given (``backlinkspider.credentials``): a refusal is one line and exit 1.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.crawler import Crawler
from scrapy.exceptions import UsageError
from scrapy.spiders import Spider

from backlinkspider import credentials, exit_status
from backlinkspider.spiders.site_discovery import whole_number


class Command(ScrapyCrawl):
    crawler: Crawler | None = None

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        self.crawler = super()._create_crawler(spidercls)
        return self.crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        # The spider would refuse these too, but from inside the reactor, as a traceback.
        for name in ("expand", "max_pages"):
            try:
                whole_number(name, opts.spargs.get(name))
            except ValueError as exc:
                raise UsageError(str(exc), print_help=False) from None
        assert self.settings is not None  # set by scrapy.cmdline before run()
        try:
            credentials.check(self.settings)
        except credentials.CredentialsRefused as exc:
            print(f"scrapy crawl: {exc}", file=sys.stderr)  # one line, password masked; no crawl starts
            self.exitcode = 1
            return
        super().run(args, opts)
        if self.exitcode == 0 and self.crawler is not None and self.crawler.stats is not None:
            self.exitcode = exit_status.reported(self.crawler.stats.get_stats())
