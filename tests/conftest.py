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


@pytest.fixture(scope="session")
def served_store(mongo_uri, web):
    """A store for ``backlinks serve``: the monitoring web crawled, changed and recrawled
    (lost backlinks with reasons, events, broken targets), then the test web crawled
    (more referring domains; nofollow, ugc, sponsored, image and redirect links)."""
    from tests.support.crawls import run_crawl
    from tests.web import monitoring

    site = monitoring.MonitoredWeb()
    proxy = WebProxy(site).start()
    name = f"serve_{uuid.uuid4().hex[:8]}"
    args = ("-a", f"seeds={monitoring.SEED}", "-a", f"targets={monitoring.TARGET}", "-a", "check_targets=1")
    run_crawl(mongo_uri, name, proxy, *args)
    site.stage = 2
    run_crawl(mongo_uri, name, proxy, *args, "-a", "recrawl=1")
    proxy.stop()
    run_crawl(mongo_uri, name, web, "-a", f"seeds={','.join(sites.SEEDS)}", "-a", f"targets={sites.TARGET}")
    client = pymongo.MongoClient(mongo_uri, tz_aware=True)
    yield client[name]
    client.drop_database(name)
    client.close()


@pytest.fixture(scope="session")
def served(mongo_uri, served_store):
    """``backlinks serve`` on ``served_store``."""
    from tests.support.serve import Served

    server = Served(mongo_uri, served_store.name).start()
    yield server
    server.stop()
