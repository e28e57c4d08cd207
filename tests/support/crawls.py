"""Crawls as users run them: ``scrapy crawl backlinks`` processes from the repo root.

Twisted's reactor cannot be restarted inside one process, and a crawl is what
users run, so every end-to-end test starts the real command against the test
web's proxy and the tests' MongoDB.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from backlinkspider.demo.proxy import WebProxy
from tests.web import sites

ROOT = Path(__file__).resolve().parent.parent.parent

# Fast and bounded: the test web is on loopback, its slow page never answers.
TEST_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "DOWNLOAD_TIMEOUT": "2",
    "RETRY_TIMES": "1",
    "DOWNLOAD_MAXSIZE": str(sites.HUGE // 2),
    "MONGO_FLUSH_INTERVAL": "0.5",
    "ROBOTS_ERROR_RETRY": "0.5",  # a failing robots.txt (a hostile test web's) holds its pages briefly
    "LOG_LEVEL": "INFO",
}


@dataclass
class Crawl:
    returncode: int
    stdout: str
    stderr: str

    @property
    def stats(self) -> dict[str, int]:
        """Integer stats from Scrapy's closing stats dump."""
        return {k: int(v) for k, v in re.findall(r"'([\w/.-]+)': (\d+),?\n", self.stderr)}


def crawl_command(mongo_uri: str, database: str, proxy_url: str, *args: str, **settings: str):
    """The command line and environment of ``scrapy crawl backlinks ARGS`` against the test web."""
    env = {**os.environ, "http_proxy": proxy_url, "MONGO_URI": mongo_uri, "MONGO_DATABASE": database}
    for name in ("no_proxy", "NO_PROXY", "REDIS_URL"):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "scrapy", "crawl", "backlinks", *args]
    for name, value in {**TEST_SETTINGS, **settings}.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd, env


def run_crawl(mongo_uri: str, database: str, proxy: WebProxy, *args: str, **settings: str) -> Crawl:
    """Run ``scrapy crawl backlinks ARGS`` against the test web; return its output."""
    cmd, env = crawl_command(mongo_uri, database, proxy.url, *args, **settings)
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    return checked(Crawl(done.returncode, done.stdout, done.stderr))


def checked(crawl: Crawl) -> Crawl:
    assert crawl.returncode == 0, crawl.stderr[-5000:]
    assert "Traceback" not in crawl.stderr, crawl.stderr[-5000:]
    return crawl
