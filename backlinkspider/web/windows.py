"""One page of a long sorted table, read through narrow index windows.

``find({target_domain: d}).sort({last_seen: -1}).limit(51)`` should stop after 51
index entries, and MongoDB's does; the embedded server fetches every document of the
domain before it sorts (88,094 for the largest domain of ``bench/store.py``: 9 s). So a
page asks for a range of the sort field instead: the domain's summary holds how many rows
fall in each hour (``store/summaries.py``, ``histograms``), and the window is the fewest
hours below the cursor that hold the rows wanted. Each window is one index range scan on
both servers. A filter that keeps few rows widens the window, doubling, until the page is
full or ``BUDGET`` rows have been read; then the page ends early, and its cursor goes on
below the last window (no row is skipped or shown twice: the next page starts strictly
below what this one read). A stale histogram only makes windows less even, never wrong.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pymongo.asynchronous.collection import AsyncCollection

from backlinkspider.store.reads import to_ms

HOUR_MS = 3_600_000
BUDGET = 1_000  # rows one request reads at most (by the histogram): about 100 ms on the embedded server


def lower_bound(histogram: list[tuple[int, int]], upper: int | None, want: int) -> tuple[int | None, int]:
    """Going down from ``upper`` (exclusive; None: from the top), the start of the bucket where
    ``want`` rows have been passed, and how many rows that is; None when fewer remain."""
    seen = 0
    for bucket, n in reversed(histogram):
        if upper is not None and bucket >= upper:
            continue
        seen += n
        if seen >= want:
            return bucket, seen
    return None, seen


def moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


async def read_windows(
    collection: AsyncCollection,
    keyed: dict,
    rest: dict,
    field: str,
    histogram: list[tuple[int, int]],
    after: datetime | None,
    resumed: bool,
    want: int,
) -> tuple[list[dict], datetime | None]:
    """Up to ``want`` documents that match ``keyed`` (indexed fields only: the index's first
    stage) and ``rest``, ``field`` descending then ``_id``, from ``after`` down: the cursor's
    value, the last row's (``rest`` says which rows of that value were shown) or, ``resumed``,
    where a page cut short stopped (every row below it is still to read); and, when
    ``BUDGET`` ends the scan before ``want`` are found, the value to go on strictly below."""
    found: list[dict] = []
    upper = None if after is None else to_ms(after) + (0 if resumed else 1)
    ask, read = want, 0
    while True:
        lower, counted = lower_bound(histogram, upper, ask)
        span: dict = {}
        if lower is not None:
            span["$gte"] = moment(lower)
        if upper is not None:
            span["$lt"] = moment(upper)
        pipeline: list[dict] = [
            {"$match": {**keyed, **({field: span} if span else {})}},
            {"$match": rest},
            {"$sort": {field: -1, "_id": -1}},
            {"$limit": want - len(found)},
        ]
        found += [doc async for doc in await collection.aggregate(pipeline)]
        read += counted
        if len(found) >= want or lower is None:
            return found, None
        if read >= BUDGET:
            return found, moment(lower)
        upper, ask = lower, ask * 2
