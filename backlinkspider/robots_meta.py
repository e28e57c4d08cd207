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
# Google's directives. A ``name:`` before a token is a crawler name only when
# ``name`` is not one of these: ``max-snippet: 20`` is a directive with a value.
DIRECTIVES = frozenset({
    "all", "index", "follow", "noindex", "nofollow", "none", "noarchive", "nocache", "nosnippet",
    "indexifembedded", "notranslate", "noimageindex", "noodp", "noydir",
    "unavailable_after", "max-snippet", "max-image-preview", "max-video-preview",
})  # fmt: skip
# RFC 822 and RFC 850 dates (``unavailable_after: Wednesday, 03-Nov-27 15:00:00 GMT``)
# hold one comma, right after the day's name: the next comma-separated part is still the date.
_DAY_NAMES = frozenset({
    "mon", "tue", "wed", "thu", "fri", "sat", "sun",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
})  # fmt: skip
_SPACE = re.compile(r"\s+")


def parse(value: str) -> list[tuple[str | None, str]]:
    """``(crawler, directive)`` pairs of one robots meta ``content`` or ``X-Robots-Tag`` value.

    Google's grammar: a comma-separated list of directives, each a name and, for
    ``unavailable_after`` and the ``max-*`` ones, a value after a colon; a
    ``crawler:`` prefix addresses the directives after it (to the end of the
    value, or the next prefix) to that crawler only; ``None`` means every crawler.
    Names are lower-cased; values are dropped (none of them changes a link's type).
    White space separates directives too (``noindex nofollow``), as crawlers accept.
    """
    found: list[tuple[str | None, str]] = []
    agent: str | None = None
    parts = value.lower().split(",")
    i = 0
    while i < len(parts):
        token = parts[i].strip()
        i += 1
        head, colon, rest = token.partition(":")
        head = head.strip()
        if colon and head not in DIRECTIVES and head and " " not in head:
            agent, token = head, rest.strip()  # "googlebot: nofollow"
            head, colon, rest = token.partition(":")
            head = head.strip()
        if colon and head in DIRECTIVES:  # a directive with a value
            found.append((agent, head))
            if head == "unavailable_after" and rest.strip() in _DAY_NAMES:
                i += 1  # the rest of an RFC 822/850 date
            continue
        found.extend((agent, word) for word in _SPACE.split(token) if word)
    return found


def meta_directives(content: str) -> set[str]:
    """Directives in a robots meta tag's ``content``, lower-case, ``none`` expanded.

    The tag's ``name`` says which crawler it is for; prefixes inside are not Google's.
    """
    return _expand(directive for _, directive in parse(content))


def header_directives(values: Iterable[str | bytes]) -> set[str]:
    """Directives of every ``X-Robots-Tag`` header value that apply to us: those for
    every crawler and those addressed to ``googlebot``, whose rules we follow."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        found.update(d for agent, d in parse(value) if agent is None or agent in HEADER_AGENTS)
    return _expand(found)


def _expand(tokens: Iterable[str]) -> set[str]:
    directives = set(tokens)
    if "none" in directives:
        directives |= {"noindex", "nofollow"}
    return directives
