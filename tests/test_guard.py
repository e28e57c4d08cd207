"""Private networks are never reached unless allowed: the address rules, the policy, and
crawls whose pages, redirects, robots.txt and checks point into private networks."""

from __future__ import annotations

import ipaddress
import socket
from datetime import datetime, timezone

import pytest

from backlinkspider.demo.proxy import WebProxy, html
from backlinkspider.guard import AddressPolicy, is_public
from backlinkspider.urls import canonicalize, host_of
from tests.support.cli import BACKLINKS
from tests.support.crawls import run_crawl
from tests.support.distributed import Worker
from tests.web import hostile


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.7", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
     "224.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
     "::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::a00:7", "2002:a00:7::", "2001:db8::1"],
)  # fmt: skip
def test_addresses_that_are_not_public(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_addresses(address):
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("href", hostile.PRIVATE_HREFS)
def test_every_form_of_a_private_host_is_refused(href):
    assert not AddressPolicy().allows_host(host_of(href))


def test_names_pass_the_literal_check_and_are_judged_when_resolved():
    policy = AddressPolicy()
    assert policy.allows_host("www.example.com")
    assert not policy.allows_resolved("rebind.example.com", "127.0.0.1")
    assert policy.allows_resolved("www.example.com", "93.184.216.34")


def test_the_allowlist_opens_networks_and_names_and_proxies_are_trusted():
    policy = AddressPolicy(allowlist=["10.0.0.0/8", "Wiki.Corp", ""], trusted=["127.0.0.1"])
    assert policy.allows_host("10.1.2.3") and not policy.allows_host("192.168.1.1")
    assert policy.allows_resolved("wiki.corp", "192.168.1.1")
    assert policy.allows_resolved("127.0.0.1", "127.0.0.1")  # connecting to the operator's proxy
    assert not policy.allows_host("127.0.0.1")  # but no page on its address
    assert AddressPolicy(allow_private=True).allows_host("127.0.0.1")


@pytest.fixture(scope="module")
def hostile_web():
    proxy = WebProxy(hostile.resolve).start()
    yield proxy
    proxy.stop()


def _private_requests(web, before: int) -> list[tuple[str, str]]:
    return [(host, path) for _, host, path in web.requests[before:] if host in hostile.PRIVATE_HOSTS]


DISTINCT = {canonicalize(h) for h in hostile.PRIVATE_HREFS}
ARGS = ("-a", f"seeds={hostile.SEED}", "-a", f"targets={hostile.TARGET}", "-a", "follow_redirects_to_targets=1")


def test_a_crawl_sends_nothing_into_private_networks(mongo_uri, db, hostile_web):
    before = len(hostile_web.requests)
    crawl = run_crawl(mongo_uri, db.name, hostile_web, *ARGS)
    assert _private_requests(hostile_web, before) == []
    fetched = {(h, p) for _, h, p in hostile_web.requests[before:]}
    # The page is crawled; the redirector's link is resolved and its private redirect hop refused.
    assert (hostile.HOST, "/") in fetched and (hostile.REDIRECTOR, "/x") in fetched
    # A robots.txt that redirects into a private network failed: that host is not visited (RFC 9309).
    assert (hostile.SHORTENER, "/robots.txt") in fetched and (hostile.SHORTENER, "/x") not in fetched
    # Each distinct URL is refused (0x7f.1 and 2130706433 are one), and the shortener's hop.
    assert crawl.stats["backlinks/refused/private_network"] >= len(DISTINCT) + 1
    assert [d["target_url"] for d in db.backlinks.find()] == ["https://acme-tools.com/"]


def test_private_seeds_and_target_checks_are_recorded_as_refused(mongo_uri, db, hostile_web):
    before = len(hostile_web.requests)
    run_crawl(mongo_uri, db.name, hostile_web, "-a", "seeds=http://10.0.0.7/,http://0x7f.1/")
    pages = {p["url"]: p for p in db.pages.find()}
    assert {u: p["error"] for u, p in pages.items()} == {
        "http://10.0.0.7/": "private_network",
        "http://127.0.0.1/": "private_network",
    }
    # A stored backlink whose target is private: its check says so, and says nothing about broken.
    now = datetime.now(timezone.utc)
    db.backlinks.insert_one({"source_url": "http://blog.example.org/a", "target_url": "http://127.0.0.1/admin",
                             "anchor": "x", "source_domain": "example.org", "target_domain": "127.0.0.1",
                             "first_seen": now, "last_seen": now, "internal": False})  # fmt: skip
    run_crawl(mongo_uri, db.name, hostile_web, "-a", "targets=127.0.0.1", "-a", "check_targets=1")
    doc = db.backlinks.find_one({"target_url": "http://127.0.0.1/admin"})
    assert doc["target_error"] == "private_network" and "broken" not in doc
    assert _private_requests(hostile_web, before) == []


def test_distributed_workers_send_nothing_into_private_networks(mongo_uri, db, hostile_web, redis_server):
    before = len(hostile_web.requests)
    crawl = Worker(mongo_uri, db, hostile_web.url, redis_server.url, *ARGS).wait()
    assert _private_requests(hostile_web, before) == []
    assert crawl.stats["backlinks/refused/private_network"] >= len(DISTINCT) + 1


@pytest.fixture
def loopback_site():
    """A site on 127.0.0.1 reached by name ('localhost'), with no proxy in between."""
    server = WebProxy(lambda host, path: html('<a href="https://acme-tools.com/">a</a>'), host="127.0.0.1").start()
    yield server
    server.stop()


def _direct_crawl(mongo_uri, db, url, **settings):
    """A crawl with no proxy: the crawler resolves names itself."""
    from tests.support.crawls import Crawl, crawl_command

    cmd, env = crawl_command(mongo_uri, db.name, "", "-a", f"seeds={url}", **settings)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(name, None)
    import subprocess

    from tests.support.crawls import ROOT

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    # Not checked(): Scrapy's robots.txt middleware logs a refused lookup with its traceback.
    assert done.returncode == 0, done.stderr[-3000:]
    return Crawl(done.returncode, done.stdout, done.stderr)


def test_a_name_that_resolves_to_loopback_is_refused_at_connection_time(mongo_uri, db, loopback_site):
    assert socket.gethostbyname("localhost") == "127.0.0.1"
    port = loopback_site.server_address[1]
    crawl = _direct_crawl(mongo_uri, db, f"http://localhost:{port}/")
    assert loopback_site.requests == []
    assert db.pages.find_one({"url": f"http://localhost:{port}/"})["error"] == "private_network"
    assert crawl.stats["backlinks/refused/private_network"] >= 1


def test_the_allowlist_lets_an_intranet_crawl_through(mongo_uri, db, loopback_site):
    port = loopback_site.server_address[1]
    _direct_crawl(mongo_uri, db, f"http://localhost:{port}/", PRIVATE_NETWORK_ALLOWLIST="localhost")
    assert ("GET", "localhost", "/") in loopback_site.requests
    assert db.pages.find_one({"url": f"http://localhost:{port}/"})["error"] == ""


def test_the_demo_still_works(tmp_path):
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "http_proxy", "https_proxy")}
    env.update(EMBEDDED_MONGO_DIR=str(tmp_path / "mongo"), MONGO_DATABASE="demo")
    done = subprocess.run([BACKLINKS, "demo"], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0 and "backlinks into acme-tools.com: 8" in done.stdout, done.stderr
