"""What a crawl's exit status says: 0 only when everything it fetched is in the store.

A crawl run by cron, systemd or a Kubernetes Job is judged by its exit status
alone, so a crawl whose results did not all reach MongoDB must not exit 0.
Every command that crawls (``scrapy crawl backlinks``, ``backlinks demo``,
``backlinks check-targets``) ends with :func:`of` on the crawl's stats:

== =====================================================================================
0  everything fetched is in the store
1  the crawl could not run (Scrapy's own: a spider or setting error at start)
2  bad command line (Scrapy's and argparse's usage errors)
3  the crawl ended early because MongoDB or Redis was away longer than its outage
   timeout; nothing is lost: unstored pages are in the spill file (the next crawl of
   the store writes them first) or back in the Redis frontier
4  some results could not be stored and are lost (a write MongoDB refused: see
   ``backlinks/mongo/*_lost`` and the errors logged)
== =====================================================================================
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

OK, KEPT, LOST = 0, 3, 4


def of(stats: Mapping[str, Any]) -> tuple[int, str]:
    """The exit status a crawl with these stats ends with, and the last log line that says why."""
    lost = sum(
        v
        for k, v in stats.items()
        if k.startswith("backlinks/mongo/") and k.endswith("_lost") and k != "backlinks/mongo/batches_lost"
    )
    if lost:
        return LOST, (f"{lost} documents fetched by this crawl could not be stored and are lost "
                      "(backlinks/mongo/*_lost; the errors above say why)")  # fmt: skip
    kept = []
    if stats.get("backlinks/mongo/spilled"):
        kept.append(f"{stats['backlinks/mongo/spilled']} pages not stored were kept in "
                    f"{stats.get('backlinks/mongo/spill_file')}: the next crawl of this store writes them")  # fmt: skip
    if stats.get("backlinks/mongo/released"):
        kept.append(f"{stats['backlinks/mongo/released']} pages not stored went back to the Redis frontier")
    if stats.get("frontier/redis_outage"):
        kept.append("Redis was unreachable for longer than REDIS_OUTAGE_TIMEOUT: this worker's "
                    "unfinished pages are crawled again by the others or the next run")  # fmt: skip
    if kept:
        return KEPT, "; ".join(kept)
    return OK, ""


def reported(stats: Mapping[str, Any]) -> int:
    """:func:`of`, with its reason logged as the crawl's last line when it is not 0."""
    status, why = of(stats)
    if why:
        logger.error("Exit status %d: %s", status, why)
    return status
