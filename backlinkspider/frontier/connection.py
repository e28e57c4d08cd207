"""Redis clients from Scrapy settings, the way scrapy-redis makes them.

``REDIS_URL`` (or ``REDIS_HOST``/``REDIS_PORT``) and ``REDIS_PARAMS`` mean
what they mean to scrapy-redis. The hot path uses redis-py's asyncio client,
which runs on the reactor's own asyncio loop, so no Redis call ever blocks a
download; the blocking client is only used when a worker opens or a command
runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

import redis
import redis.asyncio
from redis.exceptions import AuthenticationError, AuthenticationWrongNumberOfArgsError, NoPermissionError, RedisError
from scrapy_redis import connection, defaults

logger = logging.getLogger(__name__)
T = TypeVar("T")
# Redis refusing the worker (a wrong or missing password, an ACL without the command):
# redis-py files a wrong password under connection errors, but it is no outage to wait out.
REFUSALS = (AuthenticationError, AuthenticationWrongNumberOfArgsError, NoPermissionError)


def enabled(settings) -> bool:
    """Distributed mode is on when ``REDIS_URL`` (or ``REDIS_HOST``) is set."""
    return bool(settings.get("REDIS_URL") or settings.get("REDIS_HOST"))


def _params(settings) -> dict:
    params = defaults.REDIS_PARAMS.copy()
    params.update(settings.getdict("REDIS_PARAMS"))
    for name, param in connection.SETTINGS_PARAMS_MAP.items():
        if settings.get(name):
            params[param] = settings.get(name)
    params.pop("redis_cls", None)
    params.pop("encoding", None)
    return params


def blocking_client(settings) -> redis.Redis:
    return connection.get_redis_from_settings(settings)


def async_client(settings) -> redis.asyncio.Redis:
    params = _params(settings)
    url = params.pop("url", None)
    if url:
        return redis.asyncio.Redis.from_url(url, **params)
    return redis.asyncio.Redis(**params)


def when_redis_answers(func: Callable[[], T], settings, what: str) -> T:
    """``func()``, called again (capped exponential backoff) while Redis is unreachable, for up to
    ``REDIS_OUTAGE_TIMEOUT``: a worker that starts during an outage waits it out (blocking calls:
    only as a worker opens)."""
    deadline = time.monotonic() + settings.getfloat("REDIS_OUTAGE_TIMEOUT")
    wait = 0.5
    while True:
        try:
            return func()
        except RedisError as exc:
            if time.monotonic() + wait > deadline or isinstance(exc, REFUSALS):
                raise
            logger.warning("Redis is unreachable while %s (%s): waiting for it (REDIS_OUTAGE_TIMEOUT)", what, exc)
            time.sleep(wait)
            wait = min(wait * 2, 30.0)
