"""Where the store is: one way, from settings, for the crawl and every command.

``MONGO_URI`` names the server; empty, the embedded one is started
(``backlinkspider.embedded``). ``MONGO_DATABASE`` names the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo import MongoClient
from pymongo.database import Database
from scrapy.settings import BaseSettings

from backlinkspider import __version__
from backlinkspider.embedded import ensure_server


def mongo_uri(settings: BaseSettings) -> str:
    """``MONGO_URI``, or the URI of the embedded server when it is empty."""
    return settings.get("MONGO_URI") or ensure_server(settings.get("EMBEDDED_MONGO_DIR"))


def connect(settings: BaseSettings) -> MongoClient:
    """A client for the configured store; datetimes come back UTC-aware."""
    return MongoClient(mongo_uri(settings), tz_aware=True, appname=f"backlinkspider/{__version__}")


def open_database(settings: BaseSettings) -> Database:
    """The configured database on a client of its own: close it with ``db.client.close()``.

    May start the embedded server: seconds of blocking work the first time.
    """
    return connect(settings)[settings.get("MONGO_DATABASE")]


@contextmanager
def database(settings: BaseSettings) -> Iterator[Database]:
    """``open_database`` for a ``with`` block: the client is closed at its end."""
    db = open_database(settings)
    try:
        yield db
    finally:
        db.client.close()
