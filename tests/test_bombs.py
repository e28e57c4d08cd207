"""Decompression bombs and huge pages are dropped as too_large, in bounded memory, and the
crawl goes on: measured with /usr/bin/time on the crawl process."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from backlinkspider.demo.proxy import WebProxy
from tests.support.crawls import ROOT, Crawl, checked, crawl_command
from tests.support.distributed import worker_command
from tests.web import bombs

TIME = shutil.which("time") or "/usr/bin/time"


@pytest.fixture(scope="module")
def bomb_web():
    for encoding in ("gzip", "deflate", "br"):
        bombs._compressed(encoding)  # build them before the crawl's clock runs
    proxy = WebProxy(bombs.resolve).start()
    yield proxy
    proxy.stop()


@pytest.mark.skipif(not os.path.exists(TIME), reason="GNU time is not installed (apt-get install time)")
@pytest.mark.parametrize("mode", ["single", "distributed"])
def test_bombs_are_too_large_and_memory_stays_bounded(mode, mongo_uri, db, bomb_web, request):
    # The default DOWNLOAD_MAXSIZE (10 MiB), not the tests' small one: what users run.
    args = ("-a", f"seeds={bombs.SEED}", "-a", "targets=acme-tools.com")
    settings = {"DOWNLOAD_MAXSIZE": str(10 * 1024 * 1024), "DOWNLOAD_TIMEOUT": "60"}
    if mode == "single":
        cmd, env = crawl_command(mongo_uri, db.name, bomb_web.url, *args, **settings)
    else:
        redis_url = request.getfixturevalue("redis_server").url
        cmd, env = worker_command(mongo_uri, db, bomb_web.url, redis_url, *args, **settings)
    done = subprocess.run([TIME, "-v", *cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    crawl = checked(Crawl(done.returncode, done.stdout, done.stderr))
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", crawl.stderr).group(1))
    assert rss_kib < 400 * 1024, f"resident memory {rss_kib / 1024:.0f} MiB"
    errors = {p["url"].rsplit("/", 1)[1]: p["error"] for p in db.pages.find()}
    assert errors == {"": "", "fine.html": "", "gzip.html": "too_large", "deflate.html": "too_large",
                      "br.html": "too_large", "huge.html": "too_large"}  # fmt: skip
    assert crawl.stats["backlinks/pages/too_large"] == 4
    assert [d["target_url"] for d in db.backlinks.find()] == ["https://acme-tools.com/fine"]
