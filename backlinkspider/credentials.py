"""A wrong or missing password for Redis or MongoDB is one clear line, not a traceback.

A worker given a bad ``REDIS_URL`` or ``MONGO_URI`` used to start, log a
traceback from inside the engine (or wait out ``REDIS_OUTAGE_TIMEOUT``, since
redis-py files a refused password under connection errors) and exit with
nothing said plainly. ``scrapy crawl`` now asks both servers one authenticated
question before the crawl starts (``check``); the console script's error
handler describes the same failures the same way (``describe``). Both name the
server by its URL with the password masked (``backlinkspider.redact``).

Only refusals are failures here: a server that cannot be reached is left to the
outage handling (the Redis wait, the MongoDB spill file), as before.
"""

from __future__ import annotations

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError
from redis.exceptions import AuthenticationError, RedisError
from scrapy.settings import BaseSettings

from backlinkspider.frontier.connection import REFUSALS, blocking_client, enabled
from backlinkspider.redact import redact

# MongoDB's AuthenticationFailed (wrong user or password) and Unauthorized (no
# credentials where they are required, or a user without a role on the database).
_MONGO_AUTH_CODES = {18: "wrong user name or password", 13: "not authorized"}
_PREFLIGHT_TIMEOUT_MS = 3000


class CredentialsRefused(Exception):
    """A server refused the credentials it was given (or their absence); ``str()`` is the one line."""


def refused(exc: BaseException) -> bool:
    """Whether ``exc`` is a server refusing credentials, rather than an outage or a bad query."""
    if isinstance(exc, REFUSALS):
        return True
    return isinstance(exc, OperationFailure) and exc.code in _MONGO_AUTH_CODES


def describe(server: str, url: str, exc: BaseException) -> str:
    """One line: which server (its URL, password masked) and what it said."""
    where = f"{server} at {redact(url)}" if url else server
    if isinstance(exc, OperationFailure):
        said = (exc.details or {}).get("errmsg") or str(exc)
        hint = _MONGO_AUTH_CODES.get(exc.code or 0)
        if exc.code == 13 and "@" not in url:
            hint = "it requires a user name and password in MONGO_URI"
        return f"{where}: {said}" + (f" ({hint})" if hint else "")
    said = str(exc).strip() or type(exc).__name__
    if isinstance(exc, AuthenticationError) and "@" not in url:
        said += " (it requires a password in REDIS_URL)"
    return f"{where}: {said}"


def check_mongo(uri: str, database: str) -> None:
    """Raise ``CredentialsRefused`` when the MongoDB server at ``uri`` refuses us ``database``."""
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=_PREFLIGHT_TIMEOUT_MS)
    try:
        client[database].list_collection_names(filter={"name": "pages"})  # needs auth where auth is on
    except OperationFailure as exc:
        if refused(exc):
            raise CredentialsRefused(describe("MongoDB", uri, exc)) from None
    except PyMongoError:
        pass  # unreachable: the pipeline's outage handling takes it from here
    finally:
        client.close()


def check_redis(settings: BaseSettings) -> None:
    """Raise ``CredentialsRefused`` when the frontier's Redis refuses the worker."""
    server = blocking_client(settings)
    try:
        server.ping()
    except RedisError as exc:
        if refused(exc):
            raise CredentialsRefused(describe("Redis", redis_url(settings), exc)) from None
    finally:
        server.close()


def redis_url(settings: BaseSettings) -> str:
    """The frontier's Redis as a URL, for messages (``REDIS_URL``, or host and port)."""
    if settings.get("REDIS_URL"):
        return str(settings.get("REDIS_URL"))
    return f"redis://{settings.get('REDIS_HOST') or 'localhost'}:{settings.get('REDIS_PORT') or 6379}"


def check(settings: BaseSettings) -> None:
    """Both servers a crawl will use, when they are named (the embedded store has no users)."""
    if settings.get("MONGO_URI"):
        check_mongo(settings["MONGO_URI"], settings["MONGO_DATABASE"])
    if enabled(settings):
        check_redis(settings)
