"""Pages the store could not take, kept on local disk until it can.

When MongoDB stays away longer than ``MONGO_OUTAGE_TIMEOUT`` the crawl ends, and
what it fetched but could not store goes here instead of being dropped, as a
Kafka producer or a Logstash persistent queue would keep it: one JSON line per
item (``PageItem`` or ``TargetItem``), appended, under ``SPILL_DIR``. The file is
named for the store (``MONGO_DATABASE`` and a hash of where the server is), so
the next crawl of the *same* store finds it, writes it first and deletes it.
Writing an item twice stores nothing twice (the pipeline's writes are idempotent),
so a replay cut short by another outage is simply done again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from backlinkspider.items import Link, PageItem, SiteUpdate, TargetItem
from backlinkspider.redact import redact


class SpillFile:
    """The spill file of one store: append items, read them back, remove it."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @classmethod
    def for_store(cls, settings: BaseSettings) -> SpillFile:
        """The spill file of the store ``settings`` name: the embedded server's directory, or
        ``MONGO_URI`` without its credentials and options, and ``MONGO_DATABASE``."""
        uri = settings.get("MONGO_URI")
        where = (
            redact(uri).split("?")[0]
            if uri
            else f"embedded:{Path(settings.get('EMBEDDED_MONGO_DIR')).expanduser().resolve()}"
        )
        database = settings.get("MONGO_DATABASE")
        digest = hashlib.sha256(f"{where}\n{database}".encode()).hexdigest()[:12]
        return cls(Path(settings.get("SPILL_DIR")).expanduser() / f"{database}-{digest}.jsonl")

    def exists(self) -> bool:
        return self.path.is_file()

    def append(self, items: Iterable[PageItem | TargetItem]) -> int:
        """Write ``items`` to the end of the file, synced to disk; how many."""
        lines = [json.dumps(_record(item), ensure_ascii=False) + "\n" for item in items]
        if not lines:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.writelines(lines)
            f.flush()
            os.fsync(f.fileno())
        return len(lines)

    def read(self) -> Iterator[PageItem | TargetItem]:
        """Every item, in the order written; a line cut short by a crash is skipped."""
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    yield _item(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def _record(item: PageItem | TargetItem) -> dict[str, Any]:
    record = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    record.pop("lease", None)  # a lease means nothing to a later crawl
    record["type"] = "page" if isinstance(item, PageItem) else "target"
    if isinstance(item, PageItem):
        record["fetched_at"] = item.fetched_at.isoformat()
        record["links"] = [dataclasses.asdict(link) for link in item.links]
        record["targets"] = sorted(item.targets)
        record["site_updates"] = [_site_record(update) for update in item.site_updates]
    else:
        record["checked_at"] = item.checked_at.isoformat()
    return record


def _known(cls: type, record: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``record`` that ``cls`` has: a file kept by an older version still reads."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in record.items() if k in names}


def _item(record: dict[str, Any]) -> PageItem | TargetItem:
    kind = record.pop("type")
    if kind == "target":
        record["checked_at"] = datetime.fromisoformat(record["checked_at"])
        return TargetItem(**_known(TargetItem, record))
    record["fetched_at"] = datetime.fromisoformat(record["fetched_at"])
    record["links"] = [Link(**_known(Link, {**link, "rel": tuple(link["rel"])})) for link in record["links"]]
    record["targets"] = frozenset(record["targets"])
    record["site_updates"] = [_site_update(update) for update in record.get("site_updates", ())]
    return PageItem(**_known(PageItem, record))


def _site_record(update: SiteUpdate) -> dict[str, Any]:
    record = dataclasses.asdict(update)
    record["first_seen"] = update.first_seen.isoformat() if update.first_seen else None
    return record


def _site_update(record: dict[str, Any]) -> SiteUpdate:
    if record.get("first_seen"):
        record["first_seen"] = datetime.fromisoformat(record["first_seen"])
    return SiteUpdate(**_known(SiteUpdate, record))
