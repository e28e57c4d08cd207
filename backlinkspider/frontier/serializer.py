"""JSON for requests in Redis (``SCHEDULER_SERIALIZER``): no pickle anywhere.

scrapy-redis pickles request dicts by default, so anyone who can write to
Redis runs code on every worker. This module is a drop-in serializer (the
``loads``/``dumps`` pair scrapy-redis asks for) that writes compact JSON and
reads back only plain data: a request class outside Scrapy's own is refused,
and values JSON cannot carry are dropped from ``meta`` rather than pickled.

Fields that hold their default are left out, so a typical entry is the URL,
the callback names and a small ``meta``: about 150 bytes.
"""

from __future__ import annotations

import base64
import json
import logging

from backlinkspider.keys import LEASE

logger = logging.getLogger(__name__)

# Request classes a stored entry may name (scrapy-redis writes "_class").
ALLOWED_CLASSES = frozenset(
    {
        "scrapy.http.request.Request",
        "scrapy.http.request.form.FormRequest",
        "scrapy.http.request.json_request.JsonRequest",
    }
)
# Request.to_dict() keys and the value each has by default.
_DEFAULTS: dict[str, object] = {
    "callback": None,
    "errback": None,
    "headers": {},
    "method": "GET",
    "body": b"",
    "cookies": {},
    "meta": {},
    "encoding": "utf-8",
    "priority": 0,
    "dont_filter": False,
    "flags": [],
    "cb_kwargs": {},
}
# meta keys that belong to one process and must not travel.
LOCAL_META = frozenset({LEASE, "download_slot", "_slot_proxy", "download_latency"})


class SerializationError(ValueError):
    """An entry in Redis that is not a request this crawler wrote or accepts."""


def dumps(obj: dict) -> str:
    """A ``Request.to_dict()`` as compact JSON."""
    out = {}
    for key, value in obj.items():
        if key in _DEFAULTS and value == _DEFAULTS[key]:
            continue
        if key == "body":
            value = base64.b64encode(value).decode("ascii")
        elif key == "headers":
            value = {_text(k): [_text(v) for v in vs] for k, vs in value.items()}
        elif key == "meta":
            value = _plain_meta(value)
            if not value:
                continue
        out[key] = value
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def loads(data: bytes | str) -> dict:
    """The dict ``request_from_dict`` takes; raises :class:`SerializationError` on foreign input."""
    try:
        obj = json.loads(data)
    except ValueError as exc:
        raise SerializationError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
        raise SerializationError("not a request: no url")
    if "_class" in obj and obj["_class"] not in ALLOWED_CLASSES:
        raise SerializationError(f"request class {obj['_class']!r} is not allowed")
    for key in ("callback", "errback"):
        name = obj.get(key)
        if name is not None and (not isinstance(name, str) or name.startswith("_")):
            raise SerializationError(f"{key} {name!r} is not a public spider method name")
    d = {key: value for key, value in _DEFAULTS.items() if key != "body"}
    d.update(obj)
    d["body"] = base64.b64decode(obj["body"]) if obj.get("body") else b""
    d["headers"] = {k: list(vs) for k, vs in (obj.get("headers") or {}).items()}
    return d


def _text(value) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _plain_meta(meta: dict) -> dict:
    plain = {}
    for key, value in meta.items():
        if key in LOCAL_META:
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            logger.debug("meta[%r] is not JSON data; not stored in Redis", key)
            continue
        plain[key] = value
    return plain
