"""Real servers for the tests: SecantusDB over TCP, valkey for Redis, and the test web's proxy.

Helpers the tests share live in ``tests/support/``.
"""

from __future__ import annotations

import uuid

import pymongo
import pytest

from backlinkspider.demo.proxy import WebProxy
from backlinkspider.embedded import EmbeddedMongo
from tests.support.redis_server import RedisServer
from tests.web import sites


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory):
    server = EmbeddedMongo(tmp_path_factory.mktemp("mongo"))
    yield server.start()
    server.stop()


@pytest.fixture
def db(mongo_uri):
    client = pymongo.MongoClient(mongo_uri, tz_aware=True)
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture(scope="session")
def web():
    proxy = WebProxy(sites.resolve).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def redis_server(tmp_path):
    """A fresh Redis-protocol server (valkey) for one test, stopped cleanly after it."""
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
