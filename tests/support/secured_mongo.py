"""A MongoDB-protocol server with authentication on, and the users deploy/ creates.

SecantusDB speaks SCRAM-SHA-256 when started with ``--auth``: users are created on a
first start without it, then the server is restarted with it (its ``--help`` says so).
The users are those of ``deploy/mongo-init/create-app-user.js``: ``root``, and
``backlinks`` with ``readWrite`` on one database only.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pymongo
from pymongo.errors import PyMongoError

from backlinkspider.embedded import EXECUTABLE
from tests.support.redis_server import free_port
from tests.support.tls import Certificates

ROOT_PASSWORD = "r00t-Pa55-w0rd"
APP_PASSWORD = "app-Pa55-w0rd"


class SecuredMongo:
    def __init__(self, directory: Path, database: str, tls: Certificates | None = None):
        self.directory = Path(directory)
        self.tls = tls  # TLS required on the port (SecantusDB --tls-cert-file, as mongod --tlsMode requireTLS)
        self.database = database
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def uri(self, user: str = "backlinks", password: str | None = APP_PASSWORD) -> str:
        auth = f"{user}:{password}@" if password is not None else ""
        query = "authSource=admin&directConnection=true" if auth else "directConnection=true"
        if self.tls:
            query += f"&tls=true&tlsCAFile={self.tls.ca}"
        return f"mongodb://{auth}127.0.0.1:{self.port}/{self.database}?{query}"

    def _run(self, *flags: str) -> None:
        exe = shutil.which(EXECUTABLE)
        assert exe, f"{EXECUTABLE} is not installed (pip install -e '.[test]')"
        command = [exe, "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", str(self.directory)]
        log = open(self.directory.with_suffix(".log"), "ab")  # noqa: SIM115 (the process keeps it)
        if self.tls:
            command += ["--tls-cert-file", str(self.tls.cert), "--tls-key-file", str(self.tls.key)]
        self.process = subprocess.Popen([*command, "--standalone", "--log-level", "WARNING", *flags], stdout=log,
                                        stderr=subprocess.STDOUT)  # fmt: skip
        client = pymongo.MongoClient(self.uri(password=None), serverSelectionTimeoutMS=500)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.admin.command("ping")  # answered without authentication, as mongod does
                break
            except PyMongoError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"{EXECUTABLE} did not start on port {self.port}") from None
                time.sleep(0.1)
        client.close()

    def start(self) -> SecuredMongo:
        self._run()
        with pymongo.MongoClient(self.uri(password=None)) as client:
            client.admin.command("createUser", "root", pwd=ROOT_PASSWORD, roles=[{"role": "root", "db": "admin"}])
            client.admin.command(
                "createUser", "backlinks", pwd=APP_PASSWORD, roles=[{"role": "readWrite", "db": self.database}]
            )
        self.stop()
        self._run("--auth")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
