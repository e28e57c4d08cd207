"""A MongoDB server the tests can kill (``kill -9``) and start again on the same data and port."""

from __future__ import annotations

from pathlib import Path

import pymongo

from backlinkspider.embedded import STATE_FILE, EmbeddedMongo
from tests.support.redis_server import free_port


class KillableMongo(EmbeddedMongo):
    """An embedded server on a fixed port; its URI gives up server selection after 2 s."""

    def __init__(self, data_dir: Path):
        super().__init__(data_dir, port=free_port())

    @property
    def uri(self) -> str:
        return super().uri + "&serverSelectionTimeoutMS=2000"

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush; only what is journaled survives."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.process = None
        (self.data_dir / STATE_FILE).unlink(missing_ok=True)

    def client(self) -> pymongo.MongoClient:
        return pymongo.MongoClient(self.uri, tz_aware=True)
