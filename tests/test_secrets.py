"""Credentials in MONGO_URI, REDIS_URL or any URL never reach logs, status output or errors."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from backlinkspider.redact import RedactingFilter, redact
from tests.support.cli import BACKLINKS
from tests.support.crawls import ROOT, run_crawl
from tests.support.distributed import Worker
from tests.support.redis_server import RedisServer
from tests.web import sites

SECRET = "s3cret-Pa55"


def test_redact_hides_the_user_info_of_every_url():
    text = (
        f"mongodb://admin:{SECRET}@db.internal:27017/?tls=true and rediss://:{SECRET}@redis:6380/0, "
        f"mongodb+srv://u:{SECRET}@cluster.example.net/x 'http://user:{SECRET}@proxy:3128'"
    )
    clean = redact(text)
    assert SECRET not in clean
    assert "mongodb://***@db.internal:27017/?tls=true" in clean and "rediss://***@redis:6380/0" in clean
    assert redact("no credentials: http://example.com/a@b") == "no credentials: http://example.com/a@b"


def test_the_filter_redacts_messages_arguments_and_tracebacks():
    try:
        raise ValueError(f"cannot reach mongodb://root:{SECRET}@db/")
    except ValueError:
        import sys as _sys

        exc_info = _sys.exc_info()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "connect %s", (f"redis://:{SECRET}@r/0",), exc_info)
    RedactingFilter().filter(record)
    assert SECRET not in record.getMessage() and SECRET not in record.exc_text


def test_a_crawl_never_logs_a_credential(mongo_uri, db, web):
    # A seed the spider refuses is logged as written: with its password, but for the filter.
    crawl = run_crawl(mongo_uri, db.name, web, "-a", f"seeds=ftp://user:{SECRET}@files.example.com/,{sites.SEEDS[0]}")
    assert "Ignoring seed" in crawl.stderr
    assert SECRET not in crawl.stderr and SECRET not in crawl.stdout


def test_a_worker_and_status_with_a_redis_password(mongo_uri, db, web, tmp_path):
    server = RedisServer(tmp_path / "redis", password=SECRET).start()
    try:
        crawl = Worker(
            mongo_uri, db, web.url, server.url, "-a", f"seeds={sites.SEEDS[0]}", "-a", "targets=acme-tools.com"
        )
        done = crawl.wait()
        assert SECRET not in done.stderr
        assert db.backlinks.count_documents({}) > 0  # it did authenticate and crawl
        status = subprocess.run([BACKLINKS, "status", "--redis-url", server.url, "--json"], capture_output=True,
                                text=True, timeout=60, check=True)  # fmt: skip
        assert json.loads(status.stdout)["seen_urls"] > 0 and SECRET not in status.stdout
        text = subprocess.run([BACKLINKS, "status", "--redis-url", server.url], capture_output=True, text=True,
                              timeout=60, check=True)  # fmt: skip
        assert SECRET not in text.stdout
        wrong = server.url.replace(SECRET, "wrong-" + SECRET)
        failed = subprocess.run([BACKLINKS, "status", "--redis-url", wrong], capture_output=True, text=True, timeout=60)
        assert failed.returncode == 1 and "Traceback" not in failed.stderr
        assert SECRET not in failed.stderr + failed.stdout
    finally:
        server.stop()


def test_an_unreachable_store_with_credentials_is_one_line_without_them():
    uri = f"mongodb://admin:{SECRET}@127.0.0.1:1/?serverSelectionTimeoutMS=300"
    done = subprocess.run([BACKLINKS, "report", "acme-tools.com", "--mongo-uri", uri], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 1 and SECRET not in done.stderr and done.stderr.count("\n") == 1


def test_a_query_document_as_a_domain_is_a_string_not_a_query(mongo_uri, db):
    db.backlinks.insert_one({"target_domain": "acme-tools.com", "source_url": "http://a.org/", "target_url": "x"})
    uri = mongo_uri
    for arg in ('{"$ne": null}', '{"$gt": ""}', "acme-tools.com' || '1'=='1"):
        command = [sys.executable, "-m", "backlinkspider.cli", "report", arg, "--json", "--mongo-uri", uri]
        done = subprocess.run([*command, "--database", db.name], capture_output=True, text=True, timeout=60, cwd=ROOT)
        # Either refused as no domain, or looked up as a name that matches nothing: never every backlink.
        assert done.returncode in (0, 1), done.stderr
        if done.returncode == 0:
            assert json.loads(done.stdout)["backlinks"]["total"] == 0
        else:
            assert "is not a domain" in done.stderr
