"""Redis clients from Scrapy settings, the way scrapy-redis makes them.

``REDIS_URL`` (or ``REDIS_HOST``/``REDIS_PORT``) and ``REDIS_PARAMS`` mean
what they mean to scrapy-redis. The hot path uses redis-py's asyncio client,
which runs on the reactor's own asyncio loop, so no Redis call ever blocks a
download; the blocking client is only used when a worker opens or a command
runs.
"""

from __future__ import annotations

import redis
import redis.asyncio
from scrapy_redis import connection, defaults


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
