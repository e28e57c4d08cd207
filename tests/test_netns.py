"""Across machines: Redis, MongoDB and each worker in a network namespace of its own.

Four namespaces on one Linux bridge stand for four machines: nothing is
shared but the network, so a worker reaches Redis, MongoDB and the web only
by address, as it would in a data centre. Needs root and ``ip`` (iproute2);
skips, saying why, where namespaces cannot be made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid

import pymongo
import pytest

from backlinkspider.demo.proxy import WebProxy
from backlinkspider.embedded import _find_executable
from tests.support.crawls import ROOT, Crawl, checked, crawl_command
from tests.support.distributed import DISTRIBUTED, SEEDS, TARGETS, stored, wait_for
from tests.support.redis_server import RedisServer
from tests.web import sites

SUBNET = "10.77.{}"


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True)


class Network:
    """A bridge in the root namespace (``.1``) and one namespace per machine on it."""

    def __init__(self):
        self.tag = uuid.uuid4().hex[:5]
        self.bridge = f"blbr{self.tag}"
        self.octet = 100 + int(self.tag, 16) % 150
        self.namespaces: list[str] = []
        self.gateway = f"{SUBNET.format(self.octet)}.1"

    def up(self) -> Network:
        for args in (
            ("link", "add", self.bridge, "type", "bridge"),
            ("addr", "add", f"{self.gateway}/24", "dev", self.bridge),
            ("link", "set", self.bridge, "up"),
        ):
            done = _ip(*args)
            if done.returncode:
                raise OSError(done.stderr.strip())
        return self

    def machine(self, name: str) -> tuple[str, str]:
        """A new namespace wired to the bridge; its name and address."""
        index = len(self.namespaces) + 10
        ns, host_end = f"bl{self.tag}{name}", f"v{self.tag}{index}"
        address = f"{SUBNET.format(self.octet)}.{index}"
        for args in (
            ("netns", "add", ns),
            ("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", ns),
            ("link", "set", host_end, "master", self.bridge),
            ("link", "set", host_end, "up"),
            ("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0"),
            ("-n", ns, "link", "set", "eth0", "up"),
            ("-n", ns, "link", "set", "lo", "up"),
        ):
            done = _ip(*args)
            if done.returncode:
                raise OSError(f"ip {' '.join(args)}: {done.stderr.strip()}")
            if args[:2] == ("netns", "add"):
                self.namespaces.append(ns)
        return ns, address

    def down(self):
        for ns in self.namespaces:
            pids = _ip("netns", "pids", ns).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
            _ip("netns", "del", ns)
        _ip("link", "del", self.bridge)


@pytest.fixture
def network():
    if shutil.which("ip") is None:
        pytest.skip("no `ip` command (iproute2): cannot make network namespaces")
    net = Network()
    try:
        net.up()
        net.machine("probe")
    except OSError as exc:
        net.down()
        pytest.skip(f"cannot make network namespaces here ({exc}); needs root and CAP_NET_ADMIN")
    yield net
    net.down()


def test_workers_on_separate_machines_store_the_single_machine_result(network, tmp_path):
    redis_ns, redis_ip = network.machine("redis")
    mongo_ns, mongo_ip = network.machine("mongo")
    redis_server = RedisServer(tmp_path / "redis", host=redis_ip, port=6379)
    redis_server.start(prefix=["ip", "netns", "exec", redis_ns])
    mongo = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            mongo_ns,
            _find_executable(),
            "--host",
            mongo_ip,
            "--port",
            "27017",
            "--storage-path",
            str(tmp_path / "mongo"),
            "--standalone",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    mongo_uri = f"mongodb://{mongo_ip}:27017/?directConnection=true"
    client = pymongo.MongoClient(mongo_uri, tz_aware=True, serverSelectionTimeoutMS=30000)
    client.admin.command("ping")
    web = WebProxy(sites.resolve, host=network.gateway).start()  # the web, reached through the bridge
    try:
        db = client["netns"]
        workers = []
        for i, args in enumerate([("-a", f"seeds={SEEDS}", "-a", TARGETS), ()]):
            ns, _ = network.machine(f"w{i}")
            cmd, env = crawl_command(mongo_uri, db.name, web.url, *args, **{**DISTRIBUTED, "DOWNLOAD_DELAY": "0.1"})
            env["REDIS_URL"] = redis_server.url
            log = tempfile.TemporaryFile(mode="w+")
            workers.append(
                (
                    subprocess.Popen(
                        ["ip", "netns", "exec", ns, *cmd], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
                    ),
                    log,
                )
            )
            if i == 0:
                wait_for(lambda: redis_server.client().hget("backlinks:stats", "seen"), what="seeds")
        crawls = []
        for process, log in workers:
            process.wait(120)
            log.seek(0)
            crawls.append(checked(Crawl(process.returncode, "", log.read())))
        logs = "\n".join(c.stderr[-3000:] for c in crawls)
        assert stored(db) == sites.EXPECTED_TARGET_LINKS, logs
        assert all(c.stats.get("response_received_count", 0) > 0 for c in crawls), logs
    finally:
        web.stop()
        client.close()
        mongo.terminate()
        mongo.wait(20)
        redis_server.stop()
