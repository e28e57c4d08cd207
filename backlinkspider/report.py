"""The short report a crawl prints when it ends (``BACKLINKS_REPORT``).

It reads what the crawl stored, not what it counted in memory, so it shows what
a user will find in MongoDB. It runs on ``spider_closed``, which Scrapy sends
after the item pipelines have closed, i.e. after the last batch is written.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone

from pymongo.errors import PyMongoError
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_to_future
from twisted.internet.threads import deferToThread

from backlinkspider import store
from backlinkspider.display import visible

logger = logging.getLogger(__name__)


class CrawlReport:
    """Print the crawl's backlink summary to standard output."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.top = crawler.settings.getint("BACKLINKS_REPORT_TOP")

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("BACKLINKS_REPORT"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    async def spider_closed(self, spider, reason):
        if reason == "store_unreachable":  # the pipeline said why, and where the pages went
            logger.warning("No report: MongoDB is unreachable")
            return
        started = self.crawler.stats.get_value("start_time") or datetime.now(timezone.utc)
        targets = sorted(getattr(spider, "targets", ()) or ())
        try:
            text = await deferred_to_future(deferToThread(self.render, started, targets, reason))
        except PyMongoError as exc:
            logger.warning("No report: MongoDB could not be read (%s)", exc)
            return
        sys.stdout.write(text)
        sys.stdout.flush()

    def render(self, started: datetime, targets: list[str], reason: str) -> str:
        stats = self.crawler.stats
        with store.database(self.crawler.settings) as db:
            done = store.crawl_summary(db, started)
            lines = [
                "",
                f"backlinkspider report ({reason}, database {db.name!r})",
                f"  pages fetched {done['pages']} ({done['failed']} without links: errors, non-HTML)"
                f"   backlinks seen {done['seen']} ({done['new']} new, {done['lost']} lost)"
                f"   lost writes {sum(v for k, v in stats.get_stats().items() if k.endswith('_lost'))}",
            ]
            if targets:
                for domain in targets:
                    lines += _domain_lines(store.profile(db, domain, self.top))
            else:
                lines.append("  most linked external domains this crawl:")
                lines += [f"    {n:6d}  {visible(d)}" for d, n in store.top_target_domains(db, started, self.top)]
        return "\n".join(lines) + "\n\n"


def _domain_lines(p: dict) -> list[str]:
    """A few lines of ``store.profile``; ``backlinks report DOMAIN`` shows all of it."""
    types = "   ".join(f"{t} {n}" for t, n in p["link_types"].items())
    lines = [
        f"  backlinks into {p['domain']}: {p['backlinks']['total']} ({p['backlinks']['live']} live)"
        f"   referring domains {p['referring_domains']['live']}"
        f"   referring pages {p['referring_pages']['live']}"
        f"   lost {p['backlinks']['lost']}   broken {p['broken']['backlinks']}",
        f"    live: {types}",
        "    placed: "
        + "   ".join(f"{k} {n}" for k, n in p["placements"].items() if n or k != "unknown")
        + f"   hidden {p['hidden']}   sitewide {p['sitewide']['backlinks']}",
    ]
    if p["top_referring_domains"]:
        lines.append(
            "    top referring domains: "
            + ", ".join(f"{visible(r['domain'])} ({r['backlinks']})" for r in p["top_referring_domains"])
        )
    if p["top_anchors"]:
        anchors = ", ".join(f"{visible(repr(r['anchor']))} ({r['backlinks']})" for r in p["top_anchors"])
        lines.append("    top anchors: " + anchors)
    lines.append(f"    the whole profile: backlinks report {p['domain']}")
    return lines
