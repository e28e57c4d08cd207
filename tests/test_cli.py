"""README's main command: `backlinks demo` on embedded defaults."""

import json
import os
import subprocess

import pymongo
import pytest

from backlinkspider import embedded
from tests.support.cli import BACKLINKS


@pytest.fixture
def demo_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "http_proxy", "https_proxy")}
    env["EMBEDDED_MONGO_DIR"] = str(tmp_path / "mongo")
    env["MONGO_DATABASE"] = "demo"
    return env


def test_demo_crawls_into_the_embedded_store_and_reports(demo_env, tmp_path):
    done = subprocess.run(
        [BACKLINKS, "demo"], env=demo_env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )  # not the repo root: works from anywhere
    assert done.returncode == 0, done.stderr
    assert "backlinks into acme-tools.com: 8" in done.stdout
    assert "referring domains 3" in done.stdout
    # 7 pages of the three seed sites, 6 of acme-tools.com's own site (crawl_targets): the 5 pages
    # it serves and shop.acme-tools.com/sale, which it does not (the links to the rest are not followed:
    # on a robots-disallowed page, or from a page that says nofollow)
    assert "pages fetched 13" in done.stdout
    # The store commands read the same embedded store (started again, stopped again).
    for command in (["rank"], ["report", "acme-tools.com", "--json"]):
        done = subprocess.run(
            [BACKLINKS, *command], env=demo_env, capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["backlinks"] == {"total": 8, "live": 8, "lost": 0}
    assert report["authority"] == 100.0  # the only domain the demo web's followed links reach
    assert [d["domain"] for d in report["top_referring_domains"]] == [
        "gardening-weekly.co.uk",
        "diy-talk.net",
        "janedoe.blogspot.com",
    ]
    # The embedded server was stopped with the crawl and left its data behind.
    data = tmp_path / "mongo"
    assert not (data / embedded.STATE_FILE).exists()
    server = embedded.EmbeddedMongo(data)
    client = pymongo.MongoClient(server.start())
    try:
        backlinks = client.demo.backlinks
        assert backlinks.count_documents({"target_domain": "acme-tools.com", "internal": False}) == 8
        assert backlinks.count_documents({"source_url": {"$regex": "/private/"}}) == 0
        assert backlinks.count_documents({"page_nofollow": True}) == 2
        # crawl_targets: the target's own pages, with the terms relevance compares
        home = client.demo.pages.find_one({"url": "http://www.acme-tools.com/"})
        assert home["status"] == 200 and {"garden", "tool", "spade"} <= set(home["terms"])
    finally:
        client.close()
        server.stop()


def test_help_lists_the_commands():
    done = subprocess.run([BACKLINKS, "--help"], capture_output=True, text=True, check=True)
    assert "demo" in done.stdout and "scrapy crawl backlinks" in done.stdout
    for command in ("check-targets", "report", "export", "disavow", "rank", "score", "audit", "status", "reset"):
        assert f"    {command}" in done.stdout, command
