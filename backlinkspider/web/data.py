"""What the dashboard and the API read from the store.

Every figure of a domain comes from its summary (``store/summaries.py``): one document
read by ``_id``, not a pass over the domain's backlinks. A summary that a crawl has made
stale is still shown (the page says as of when) until the crawl's end computes it again:
the app never writes to the store. A domain with no stored summary yet (a store written by
an older version, or a script) is summarized in memory on its first click and kept for
``MEMORY_TTL`` seconds. Tables page through index windows (``web/windows.py``) cut by the
summary's histograms. Queries run on PyMongo's asyncio client; the summary functions, which
are synchronous, in a worker thread on a client of their own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from anyio import to_thread
from pymongo import AsyncMongoClient, MongoClient

from backlinkspider import __version__
from backlinkspider.anchors import Categorizer
from backlinkspider.store import summaries
from backlinkspider.store.freshness import FORMAT, TARGETS_ID, is_fresh
from backlinkspider.store.reads import export_row, history_from, profile_from
from backlinkspider.store.schema import BACKLINKS, DOMAINS, EVENTS, REFERRING_DOMAINS, SUMMARIES, TARGETS
from backlinkspider.store.targets import target_from
from backlinkspider.web import windows
from backlinkspider.web.filters import MAX_PAGE, BacklinkQuery
from backlinkspider.web.windows import read_windows

MEMORY_TTL = 60.0  # seconds a summary built in memory (none stored) is reused
MEMORY_KEEP = 16  # such summaries held at most

_PREFERENCE = {  # ``reads._preference`` as sort keys: followed, in the content, visible, oldest
    "_follow": {"$cond": [{"$in": ["follow", {"$ifNull": ["$link_types", []]}]}, 1, 0]},
    "_content": {"$cond": [{"$eq": ["$placement", "content"]}, 1, 0]},
    "_visible": {"$cond": [{"$eq": ["$hidden", True]}, 0, 1]},
}
# Sort fields with an index after ``target_domain`` and a histogram in the summary.
_WINDOWED = {"last_seen": windows.DATES, "first_seen": windows.DATES, "relevance": windows.POINTS}


class Store:
    """One store, as the web app reads it."""

    def __init__(self, uri: str, database: str):
        name = f"backlinkspider-serve/{__version__}"
        self.client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True, appname=name)
        self.db = self.client[database]
        self.sync_client: MongoClient = MongoClient(uri, tz_aware=True, appname=name)
        self.sync_db = self.sync_client[database]
        self._memory: dict[str, tuple[float, dict]] = {}  # summaries built here, none stored

    async def close(self) -> None:
        await self.client.close()
        self.sync_client.close()

    # --- Summaries --------------------------------------------------------------------

    async def _built(self, key: str, build: Any) -> dict:
        """A summary built in memory (``build`` in a worker thread), reused for ``MEMORY_TTL``."""
        held = self._memory.get(key)
        if held is not None and time.monotonic() - held[0] < MEMORY_TTL:
            return held[1]
        doc = await to_thread.run_sync(build, self.sync_db)
        self._memory[key] = (time.monotonic(), doc)
        while len(self._memory) > MEMORY_KEEP:
            del self._memory[min(self._memory, key=lambda k: self._memory[k][0])]
        return doc

    async def summary(self, domain: str) -> dict:
        """``domain``'s summary, with ``stale`` saying whether a write came after it."""
        found = await self.db[SUMMARIES].find_one({"_id": domain})
        if found is None or found.get("format") != FORMAT:
            found = await self._built(domain, lambda db: summaries.build(db, domain))
        return {**found, "stale": not is_fresh(found)}

    async def targets(self, search: str = "", limit: int = 100) -> tuple[list[dict], dict]:
        """The targets table's rows (with authority) and its header (``computed_from``, ``stale``)."""
        header = await self.db[SUMMARIES].find_one({"_id": TARGETS_ID})
        if header is None or header.get("format") != FORMAT:
            header = await self._built(TARGETS_ID, summaries.build_targets)
        rows = await to_thread.run_sync(summaries.target_rows, self.sync_db, header, search, limit)
        rated = await self.authority(r["domain"] for r in rows)
        return [{**r, "authority": rated.get(r["domain"])} for r in rows], {**header, "stale": not is_fresh(header)}

    async def authority(self, domains: Any) -> dict[str, float | None]:
        names = sorted(set(domains))
        cursor = self.db[DOMAINS].find({"domain": {"$in": names}}, {"_id": 0, "domain": 1, "authority": 1})
        return {d["domain"]: d.get("authority") async for d in cursor}

    async def known(self, domain: str) -> bool:
        """Whether any backlink points into ``domain`` (else the API answers 404)."""
        for collection in (SUMMARIES, TARGETS):
            if await self.db[collection].find_one({"_id": domain}, {"_id": 1}) is not None:
                return True
        return await self.db[BACKLINKS].find_one({"target_domain": domain}, {"_id": 1}) is not None

    async def profile(self, domain: str, top: int = 10, summary: dict | None = None) -> dict[str, Any]:
        """``backlinks report --json``: from the summary (a ``top`` over its lists: from the backlinks)."""
        now = datetime.now(timezone.utc)
        if top > summaries.SUMMARY_TOP:
            return await to_thread.run_sync(lambda: summaries.profile(self.sync_db, domain, top, now))
        facts = summaries.facts(summary or await self.summary(domain))
        return await to_thread.run_sync(lambda: profile_from(self.sync_db, domain, facts, top, now))

    async def history(self, domain: str, summary: dict | None = None) -> dict[str, list[dict]]:
        return history_from((summary or await self.summary(domain))["history"])

    async def referring_domains(self, domain: str, start: int = 0, stop: int | None = None) -> tuple[list[dict], int]:
        """Referring domains ``[start:stop]`` (``domain``, ``authority``, ``backlinks``, ``live``,
        ``toxicity``; highest authority first, then by name) and how many there are."""
        found = await self.summary(domain)
        rows = await to_thread.run_sync(summaries.referring, self.sync_db, found, start, stop)
        return [{k: v for k, v in r.items() if k != "best"} for r in rows], found["referring"]["count"]

    async def disavow_candidates(self, domain: str, search: str, summary: dict) -> tuple[list[dict], int]:
        """Referring domains as the disavow form lists them (most toxic first, then weakest):
        the first ``summaries.DISAVOW_FIRST``, or every one whose name contains ``search``;
        and how many match."""
        if not search:
            held = summary["referring"]
            return held["disavow_first"], held["count"]
        rows = await to_thread.run_sync(summaries.referring_matching, self.sync_db, summary, search)
        return summaries.disavow_order(rows)[: summaries.DISAVOW_FIRST], len(rows)

    # --- Tables -----------------------------------------------------------------------

    async def events(
        self, domain: str, after: tuple | None = None, limit: int = 100
    ) -> tuple[list[dict], tuple | None]:
        """``domain``'s events (new, lost, recovered, changed), newest first, after the cursor pair;
        and the pair that goes on from the last one shown when more follow."""
        rest: dict = {"$expr": {"$ne": ["$source_domain", "$target_domain"]}}  # a site's own links are not backlinks
        if after is not None:
            time_, last_id = after
            rest["$or"] = [{"time": {"$lt": time_}}]
            if last_id is not None:  # None: the page before was cut short by its budget, below ``time_``
                rest["$or"].append({"time": time_, "_id": {"$lt": last_id}})
        histogram = summaries.histogram(await self.summary(domain), "events")
        found, resume = await read_windows(
            self.db[EVENTS],
            {"target_domain": domain},
            rest,
            "time",
            histogram,
            windows.DATES,
            after[0] if after else None,
            after is not None and after[1] is None,
            limit + 1,
        )
        for doc in found:
            doc.pop("backlink_id", None)
        if resume is not None:
            return found, (resume, None)
        following = (found[limit - 1]["time"], found[limit - 1]["_id"]) if len(found) > limit else None
        return found[:limit], following

    async def categorizer(self, domain: str) -> Categorizer:
        found = target_from(domain, await self.db[TARGETS].find_one({"_id": domain}))
        return Categorizer(found["brand"], found["keywords"])

    async def _best_of_each(self, query: BacklinkQuery) -> list[dict]:
        """One link per domain, no other filter: the summary's best backlink of each referring
        domain, highest authority first, from the cursor's position on (one more than the page)."""
        start = query.after[0] if query.after else 0
        found = await self.summary(query.domain)
        rows = await to_thread.run_sync(summaries.referring, self.sync_db, found, start, start + query.limit + 1)
        ids = [r["best"] for r in rows]
        docs = {d["_id"]: d async for d in self.db[BACKLINKS].find({"_id": {"$in": ids}})}
        return [{**docs[i], "_position": start + n} for n, i in enumerate(ids) if i in docs]

    async def _by_authority(self, query: BacklinkQuery) -> tuple[list[dict], int | None]:
        """Backlinks by their referring domain's authority (the summary's order of referring
        domains), newest stored first within one: from the cursor's (place, ``_id``) on, a few
        referring domains at a time through the ``source_domain`` index, until the page is
        full or their backlinks here pass the reading budget; then also the place to go on from."""
        start, below = query.after if query.after else (0, None)
        found = await self.summary(query.domain)
        want, rest = query.limit + 1, query.match()
        docs: list[dict] = []
        read, place = 0, start
        while len(docs) < want:
            rows = await to_thread.run_sync(summaries.referring, self.sync_db, found, place, place + want)
            if not rows:
                return docs, None
            names, here = [], 0
            for row in rows:
                names.append(row["domain"])
                here += row["backlinks"]
                if here >= want - len(docs) or read + here >= windows.BUDGET:
                    break
            read += here
            where = {name: place + n for n, name in enumerate(names)}
            pipeline: list[dict] = [{"$match": {"source_domain": {"$in": names}}}, {"$match": rest}]
            batch = [
                {**d, "_position": where[d["source_domain"]]}
                async for d in await self.db[BACKLINKS].aggregate(pipeline)
            ]
            if below is not None:  # the first domain's rows down to that ``_id`` were shown
                batch = [d for d in batch if d["_position"] > start or d["_id"] < below]
                below = None
            docs += sorted(batch, key=lambda d: (d["_position"], -int(str(d["_id"]), 16)))
            place += len(names)
            if len(docs) < want and read >= windows.BUDGET:
                return docs, place
        return docs, None

    async def _documents(self, query: BacklinkQuery) -> tuple[list[dict], Any]:
        """One page of stored backlinks (one more than the page, to know if another follows),
        and where the next page goes on when the reading budget ended this one early."""
        if query.one_per_domain and query.only_one_per_domain():
            return await self._best_of_each(query), None
        if query.sort == "authority" and not query.one_per_domain:
            return await self._by_authority(query)
        if query.sort in _WINDOWED and not query.one_per_domain and not query.referring_domain:
            histogram = summaries.histogram(await self.summary(query.domain), query.sort)
            keyed = {"target_domain": query.domain}
            after, resumed = (query.after[0], query.after[1] is None) if query.after else (None, False)
            return await read_windows(
                self.db[BACKLINKS],
                keyed,
                query.page_match(),
                query.sort,
                histogram,
                _WINDOWED[query.sort],
                after,
                resumed,
                query.limit + 1,
                nulls=query.sort == "relevance",  # never scored, or nothing to compare: last
                among_nulls=query.after is not None and after is None,
            )
        rest = query.page_match()
        # A referring domain's backlinks: its own index (all its links), not the target's.
        first = {"source_domain": query.referring_domain} if query.referring_domain else {"target_domain": query.domain}
        pipeline: list[dict] = [{"$match": first}, {"$match": rest}]
        if query.one_per_domain:
            pipeline += [
                {"$set": _PREFERENCE},
                {"$sort": {"source_domain": 1, "_follow": -1, "_content": -1, "_visible": -1, "first_seen": 1}},
                {"$group": {"_id": "$source_domain", "doc": {"$first": "$$ROOT"}}},
                {"$replaceRoot": {"newRoot": "$doc"}},
            ]
        pipeline += [{"$sort": dict(query.sort_spec())}, {"$limit": query.limit + 1}]
        cursor = await self.db[BACKLINKS].aggregate(pipeline, allowDiskUse=True)
        return [doc async for doc in cursor], None

    async def rows(self, docs: list[dict], domain: str) -> list[dict]:
        """The export's row of each document, with authority and scores looked up once."""
        sources = sorted({d["source_domain"] for d in docs})
        authority = await self.authority(sources)
        scores = {
            d["source_domain"]: d
            async for d in self.db[REFERRING_DOMAINS].find(
                {"target_domain": domain, "source_domain": {"$in": sources}},
                {"_id": 0, "source_domain": 1, "relevance": 1, "toxicity": 1, "toxic_reasons": 1},
            )
        }
        categorize = (await self.categorizer(domain)).category
        return [
            export_row(d, authority.get(d["source_domain"]), scores.get(d["source_domain"], {}), categorize)
            for d in docs
        ]

    def _following(self, query: BacklinkQuery, docs: list[dict], resume: Any) -> BacklinkQuery | None:
        """The query of the page after ``docs`` (this page's rows), or None on the last."""
        if resume is not None:  # read up to the budget: go on strictly below what was read
            return replace(query, after=(resume, None))
        if len(docs) > query.limit:
            return query.next_page(docs[query.limit - 1])
        return None

    async def backlinks(self, query: BacklinkQuery) -> tuple[list[dict], str | None]:
        """A page of rows and the cursor of the next page (None on the last)."""
        docs, resume = await self._documents(query)
        following = self._following(query, docs, resume)
        cursor = following.cursor() if following is not None else None
        return await self.rows(docs[: query.limit], query.domain), cursor

    async def all_backlinks(self, query: BacklinkQuery) -> AsyncIterator[dict]:
        """Every row the filters keep, page after page (the CSV download streams these)."""
        page: BacklinkQuery | None = replace(query, limit=MAX_PAGE, after=None)
        while page is not None:
            docs, resume = await self._documents(page)
            for row in await self.rows(docs[: page.limit], query.domain):
                yield row
            page = self._following(page, docs, resume)
