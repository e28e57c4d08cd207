"""``backlinks serve`` as users run it, on a free port, and plain HTTP requests to it."""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from tests.support.cli import BACKLINKS
from tests.support.redis_server import free_port


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


class Served:
    def __init__(self, mongo_uri: str, database: str, *args: str, host: str = "127.0.0.1", password: str = ""):
        self.host, self.port = host, free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "BACKLINKS_UI_PASSWORD")}
        if password:
            env["BACKLINKS_UI_PASSWORD"] = password
        self.log = tempfile.TemporaryFile(mode="w+")
        command = [BACKLINKS, "serve", "--host", host, "--port", str(self.port), "--mongo-uri", mongo_uri]
        self.process = subprocess.Popen([*command, "--database", database, *args], env=env, stderr=self.log,
                                        stdout=subprocess.DEVNULL)  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, password: str = "") -> Served:
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/api/v1/openapi.json", password=password)
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.log.seek(0)
                    raise RuntimeError(f"backlinks serve did not start: {self.log.read()[-3000:]}") from None
                time.sleep(0.1)

    def get(self, path: str, password: str = "", method: str = "GET") -> Answer:
        request = urllib.request.Request(self.url + path, method=method)
        if password:
            request.add_header("Authorization", "Basic " + base64.b64encode(f"me:{password}".encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers), exc.read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
