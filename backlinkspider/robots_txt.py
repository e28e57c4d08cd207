"""robots.txt read as Google reads it: Google's own parser, our product token.

Scrapy's default parser (Protego) departs from Google's on cases that make a
crawler fetch what a site disallows for it: an unknown line (``Crawl-delay``)
between two ``User-agent`` lines ends the group there, and a group written
``User-agent: backlinkspider/1.0`` is not ours. Site owners test their files
against Google's parser, so we use it: Google's C++ library through its Python
bindings (``fast-robotstxt``, Apache-2.0), which passes every case of Google's
own test suite (``tests/test_robots_txt.py``).

Groups are matched with the crawler's product token (``ROBOTSTXT_USER_AGENT``,
``backlinkspider``), never the whole ``User-Agent`` header: in
``Mozilla/5.0 (compatible; backlinkspider/…)`` a group for ``Mozilla`` or
``compatible`` is not meant for us.

A parser reads exactly the first ``MAX_BYTES`` of a robots.txt (RFC 9309 asks
for at least 500 KiB). In distributed mode the worker that fetches a file
shares exactly those bytes (``frontier/robots.py``), so every worker of a
cluster answers every URL the same way.
"""

from __future__ import annotations

import logging
import re

from robotstxt import RobotsMatcher
from robotstxt.robots import _lib
from scrapy.crawler import Crawler
from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

#: bytes of a robots.txt that are read; the rest is ignored (RFC 9309: at least 500 KiB).
MAX_BYTES = 500 * 1024

# The bindings decode a percent-encoded unreserved character (``%62`` is ``b``)
# before matching, as RFC 3986 normalization allows; Google's parser compares
# them as written (``Allow: /%62az`` does not allow ``/baz``). Escaping the ``%``
# of such triplets, in the rules and in the URL alike, keeps Google's reading.
_UNRESERVED_TRIPLET = re.compile(rb"%(?=[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[DEde]|5[Ff]|7[Ee])")


def _literal(text: bytes) -> bytes:
    return _UNRESERVED_TRIPLET.sub(b"%25", text) if b"%" in text else text


class GoogleRobotParser(RobotParser):
    """``ROBOTSTXT_PARSER``: one robots.txt body, asked URL by URL."""

    def __init__(self, robotstxt_body: bytes, spider: object = None):
        # Google's parser takes bytes as they are: a body in any encoding (or
        # none) is matched byte for byte, as Googlebot does.
        self.body = _literal(bytes(robotstxt_body[:MAX_BYTES]))
        self.matcher = RobotsMatcher()

    @classmethod
    def from_crawler(cls, crawler: Crawler, robotstxt_body: bytes) -> GoogleRobotParser:
        return cls(robotstxt_body)

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        """Whether ``user_agent`` (a product token: ``ROBOTSTXT_USER_AGENT``) may fetch
        ``url`` (percent-encoded, as it is sent)."""
        url = _literal(url.encode("utf-8") if isinstance(url, str) else url)
        agent = user_agent.encode("utf-8") if isinstance(user_agent, str) else user_agent
        # The bindings' is_allowed() takes str and would re-encode the body; the C
        # call takes its bytes as they are.
        return bool(
            _lib.robots_allowed_by_robots(
                self.matcher._ptr, self.body, len(self.body), agent, len(agent), url, len(url)
            )
        )
