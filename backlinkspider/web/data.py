"""What the dashboard and the API read from the store.

Per-request queries (the domain list, the backlinks table, lookups) run on
PyMongo's asyncio client, on the server's own event loop. The profile and the
daily history are the very functions ``backlinks report`` runs (so the API's
profile is byte for byte ``report --json``); they are synchronous and run in a
worker thread on a client of their own until per-target summaries replace them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from anyio import to_thread
from pymongo import AsyncMongoClient, MongoClient

from backlinkspider import __version__, store
from backlinkspider.anchors import Categorizer
from backlinkspider.store.queries import targets_pipeline
from backlinkspider.store.reads import export_row
from backlinkspider.store.schema import BACKLINKS, DOMAINS, EVENTS, REFERRING_DOMAINS, TARGETS
from backlinkspider.store.targets import target_from
from backlinkspider.web.filters import MAX_PAGE, BacklinkQuery

_PREFERENCE = {  # ``reads._preference`` as sort keys: followed, in the content, visible, oldest
    "_follow": {"$cond": [{"$in": ["follow", {"$ifNull": ["$link_types", []]}]}, 1, 0]},
    "_content": {"$cond": [{"$eq": ["$placement", "content"]}, 1, 0]},
    "_visible": {"$cond": [{"$eq": ["$hidden", True]}, 0, 1]},
}


class Store:
    """One store, as the web app reads it."""

    def __init__(self, uri: str, database: str):
        name = f"backlinkspider-serve/{__version__}"
        self.client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True, appname=name)
        self.db = self.client[database]
        self.sync_client: MongoClient = MongoClient(uri, tz_aware=True, appname=name)
        self.sync_db = self.sync_client[database]

    async def close(self) -> None:
        await self.client.close()
        self.sync_client.close()

    async def targets(self, search: str = "", limit: int = 100) -> list[dict]:
        cursor = await self.db[BACKLINKS].aggregate(targets_pipeline(search, limit), allowDiskUse=True)
        return [{"authority": None, **row} async for row in cursor]

    async def known(self, domain: str) -> bool:
        """Whether any backlink points into ``domain`` (else the API answers 404)."""
        found = await self.db[BACKLINKS].find_one({"target_domain": domain}, {"_id": 1})
        return found is not None or await self.db[TARGETS].find_one({"_id": domain}, {"_id": 1}) is not None

    async def profile(self, domain: str, top: int = 10) -> dict[str, Any]:
        return await to_thread.run_sync(lambda: store.profile(self.sync_db, domain, top=top))

    async def history(self, domain: str) -> dict[str, list[dict]]:
        return await to_thread.run_sync(store.history, self.sync_db, domain)

    async def referring_domains(self, domain: str) -> list[dict]:
        return await to_thread.run_sync(store.referring_domain_authority, self.sync_db, domain)

    async def events(
        self, domain: str, after: tuple | None = None, limit: int = 100
    ) -> tuple[list[dict], tuple | None]:
        """``domain``'s events (new, lost, recovered, changed), newest first, after the cursor pair;
        and the pair of the last one shown when more follow."""
        rest: dict = {"$expr": {"$ne": ["$source_domain", "$target_domain"]}}  # a site's own links are not backlinks
        if after is not None:
            time, last_id = after
            rest["$or"] = [{"time": {"$lt": time}}, {"time": time, "_id": {"$lt": last_id}}]
        pipeline: list[dict] = [
            {"$match": {"target_domain": domain}},
            {"$match": rest},
            {"$sort": {"time": -1, "_id": -1}},
            {"$limit": limit + 1},
            {"$project": {"backlink_id": 0}},
        ]
        found = [doc async for doc in await self.db[EVENTS].aggregate(pipeline)]
        following = (found[limit - 1]["time"], found[limit - 1]["_id"]) if len(found) > limit else None
        return found[:limit], following

    async def toxicity(self, domain: str) -> dict[str, float]:
        """Referring domain -> toxicity, for those ``backlinks score`` rated (empty: never scored)."""
        cursor = self.db[REFERRING_DOMAINS].find(
            {"target_domain": domain, "toxicity": {"$ne": None}}, {"_id": 0, "source_domain": 1, "toxicity": 1}
        )
        return {d["source_domain"]: d["toxicity"] async for d in cursor}

    async def categorizer(self, domain: str) -> Categorizer:
        found = target_from(domain, await self.db[TARGETS].find_one({"_id": domain}))
        return Categorizer(found["brand"], found["keywords"])

    async def _documents(self, query: BacklinkQuery) -> list[dict]:
        """One page of stored backlinks (one more than the page, to know if another follows)."""
        rest = query.page_match()
        pipeline: list[dict] = [{"$match": {"target_domain": query.domain}}, {"$match": rest}]
        if query.one_per_domain:
            pipeline += [
                {"$set": _PREFERENCE},
                {"$sort": {"source_domain": 1, "_follow": -1, "_content": -1, "_visible": -1, "first_seen": 1}},
                {"$group": {"_id": "$source_domain", "doc": {"$first": "$$ROOT"}}},
                {"$replaceRoot": {"newRoot": "$doc"}},
            ]
        pipeline += [{"$sort": dict(query.sort_spec())}, {"$limit": query.limit + 1}]
        cursor = await self.db[BACKLINKS].aggregate(pipeline, allowDiskUse=True)
        return [doc async for doc in cursor]

    async def rows(self, docs: list[dict], domain: str) -> list[dict]:
        """The export's row of each document, with authority and scores looked up once."""
        sources = sorted({d["source_domain"] for d in docs})
        authority = {
            d["domain"]: d.get("authority")
            async for d in self.db[DOMAINS].find({"domain": {"$in": sources}}, {"_id": 0, "domain": 1, "authority": 1})
        }
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

    async def backlinks(self, query: BacklinkQuery) -> tuple[list[dict], str | None]:
        """A page of rows and the cursor of the next page (None on the last)."""
        docs = await self._documents(query)
        more = len(docs) > query.limit
        docs = docs[: query.limit]
        following = query.cursor_after(docs[-1]) if more and docs else None
        return await self.rows(docs, query.domain), following

    async def all_backlinks(self, query: BacklinkQuery) -> AsyncIterator[dict]:
        """Every row the filters keep, page after page (the CSV download streams these)."""
        page = replace(query, limit=MAX_PAGE)
        while True:
            docs = await self._documents(page)
            if not docs:
                return
            shown = docs[: page.limit]
            for row in await self.rows(shown, query.domain):
                yield row
            if len(docs) <= page.limit:
                return
            page = page.next_page(shown[-1])
