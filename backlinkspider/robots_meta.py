"""Page-level robots directives: ``<meta name="robots">`` and ``X-Robots-Tag``.

Search engines treat ``nofollow`` on the page (or ``none``, which means
``noindex, nofollow``) as nofollow on every link of it, so a backlink from such
a page passes no equity. We honour what Google honours: directives for all
crawlers and those addressed to ``googlebot``; directives for another named
crawler do not apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

META_NAMES = frozenset({"robots", "googlebot"})
HEADER_AGENTS = frozenset({"googlebot"})
# Directives that carry a value after a colon; anything else before a colon
# is a user-agent prefix ("googlebot: nofollow").
_VALUED = frozenset({"unavailable_after", "max-snippet", "max-image-preview", "max-video-preview"})
_SPLIT = re.compile(r"[\s,]+")


def meta_directives(content: str) -> set[str]:
    """Directives in a robots meta tag's ``content``, lower-case, ``none`` expanded."""
    return _expand(t for t in _SPLIT.split(content.lower()) if t)


def header_directives(values: Iterable[str | bytes]) -> set[str]:
    """Directives of every ``X-Robots-Tag`` header value that applies to us.

    Each value is a comma list; a ``name:`` prefix switches the crawler the
    following tokens of that value are meant for.
    """
    found: set[str] = set()
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        agent = None
        for token in value.lower().split(","):
            token = token.strip()
            head, colon, rest = token.partition(":")
            if colon and head.strip() not in _VALUED:
                agent, token = head.strip(), rest.strip()
            if token and (agent is None or agent in HEADER_AGENTS):
                found.update(_SPLIT.split(token))
    return _expand(found)


def _expand(tokens: Iterable[str]) -> set[str]:
    directives = set(tokens)
    if "none" in directives:
        directives |= {"noindex", "nofollow"}
    return directives
