"""The exit status of a crawl: 0 only when everything fetched reached the store."""

from __future__ import annotations

import pytest

from backlinkspider import exit_status


@pytest.mark.parametrize(
    "stats, code, says",
    [
        ({"backlinks/mongo/bulk_writes": 12}, 0, ""),
        ({"backlinks/mongo/spilled": 40, "backlinks/mongo/spill_file": "/d/spill/b-1.jsonl"}, 3, "/d/spill/b-1.jsonl"),
        ({"backlinks/mongo/released": 7}, 3, "back to the Redis frontier"),
        ({"frontier/redis_outage": 640}, 3, "REDIS_OUTAGE_TIMEOUT"),
        ({"backlinks/mongo/events_lost": 2, "backlinks/mongo/spilled": 5}, 4, "2 documents"),
        ({"backlinks/mongo/batches_lost": 1, "backlinks/mongo/pages_lost": 200}, 4, "200 documents"),
    ],
)
def test_exit_status(stats, code, says):
    got, why = exit_status.of(stats)
    assert got == code and says in why
