"""Credentials never reach a log, a stat or an error message.

``MONGO_URI`` and ``REDIS_URL`` carry passwords (``mongodb://user:pass@db/``,
``rediss://:pass@redis/``), and so may a proxy URL. A library that puts a URI
into an exception or a log line would hand them to whoever reads the logs.
Every ``scheme://user:password@`` is shown as ``scheme://***@``: in every record
that reaches the log handlers (an extension installs the filter as a crawl
starts, and the spider before it logs anything), and in the console script's
one-line errors.
"""

from __future__ import annotations

import logging
import re
import traceback

from scrapy.crawler import Crawler

_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#@\s'\"]+@")


def redact(text: str) -> str:
    """``text`` with the user-info of every URL in it replaced by ``***``."""
    return _USERINFO.sub(r"\g<scheme>***@", text) if "@" in text else text


class RedactingFilter(logging.Filter):
    """A handler filter: the formatted message (and traceback) of a record, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return True


class RedactLogs:
    """Extension: put :class:`RedactingFilter` on every handler of the root logger."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedactLogs:
        install()
        return cls()


def install() -> None:
    """Add the filter to the root logger's handlers (once each)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
