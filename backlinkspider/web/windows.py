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

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from backlinkspider.store.reads import to_ms

HOUR_MS = 3_600_000
BUDGET = 1_000  # rows one request reads at most (by the histogram): about 100 ms on the embedded server


def lower_bound(
    histogram: list[tuple[int, int]], upper: float | None, want: int, inclusive: bool = False
) -> tuple[int | None, int]:
    """Going down from ``upper`` (None: from the top; ``inclusive``: its own bucket too), the
    start of the bucket where ``want`` rows have been passed, and how many rows that is;
    None when fewer remain."""
    seen = 0
    for bucket, n in reversed(histogram):
        if upper is not None and (bucket > upper if inclusive else bucket >= upper):
            continue
        seen += n
        if seen >= want:
            return bucket, seen
    return None, seen


def moment(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


@dataclass(frozen=True)
class Scale:
    """How a sort field's values map onto its histogram's buckets and back."""

    to_bucket: Callable[[Any], float]
    to_value: Callable[[float], Any]


DATES = Scale(to_ms, moment)  # hourly buckets of milliseconds since the epoch
POINTS = Scale(float, float)  # whole relevance points


async def read_windows(
    collection: AsyncCollection,
    keyed: dict,
    rest: dict,
    field: str,
    histogram: list[tuple[int, int]],
    scale: Scale,
    after: Any,
    resumed: bool,
    want: int,
    nulls: bool = False,
    among_nulls: bool = False,
) -> tuple[list[dict], Any]:
    """Up to ``want`` documents that match ``keyed`` (indexed fields only: the index's first
    stage) and ``rest``, ``field`` descending then ``_id``, from ``after`` down: the cursor's
    value, the last row's (``rest`` says which rows of that value were shown) or, ``resumed``,
    where a page cut short stopped (every row below it is still to read); ``nulls``: then the
    rows without a value (they sort last), newest ``_id`` first; ``among_nulls``: the cursor
    is among those already. Also, when ``BUDGET`` ends the scan before ``want`` are found,
    the value to go on strictly below."""
    found: list[dict] = []
    if not among_nulls:
        upper = None if after is None else scale.to_bucket(after)
        inclusive = after is not None and not resumed  # rows of the cursor's own value may be left
        ask, read = want, 0
        while True:
            lower, counted = lower_bound(histogram, upper, ask, inclusive)
            span: dict = {}
            if lower is not None:
                span["$gte"] = scale.to_value(lower)
            if upper is not None:
                span["$lte" if inclusive else "$lt"] = scale.to_value(upper)
            if nulls and lower is None:  # they come last, on their own: a number bound leaves them out
                span["$gte"] = float("-inf")  # ($ne: null would cost the embedded server its index)
            window = {**keyed, **({field: span} if span else {})}
            found += await _read(collection, window, rest, field, want - len(found))
            read += counted
            if len(found) >= want or lower is None:
                break
            if read >= BUDGET:
                return found, scale.to_value(lower)
            upper, ask, inclusive = lower, ask * 2, False
    if nulls and len(found) < want:
        found += await _read(collection, {**keyed, field: None}, rest, field, want - len(found))
    return found, None


async def _read(collection: AsyncCollection, keyed: dict, rest: dict, field: str, limit: int) -> list[dict]:
    pipeline: list[dict] = [{"$match": keyed}, {"$match": rest}, {"$sort": {field: -1, "_id": -1}}, {"$limit": limit}]
    return [doc async for doc in await collection.aggregate(pipeline)]
