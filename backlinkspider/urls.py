"""URL canonical form, hosts and registered domains.

Every URL the project stores or follows goes through :func:`canonicalize`, so one
link written five different ways (``HTTP://Acme.com:80/a#top``, `` /a ``…) is one
document in MongoDB. Registered domains come from tldextract with the Public
Suffix List snapshot bundled in the wheel: a crawler must never stall or change
its answers because a download of the list failed or moved on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import tldextract
from w3lib.html import strip_html5_whitespace
from w3lib.url import safe_url_string

HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# suffix_list_urls=() makes tldextract use only its bundled snapshot (no network);
# private suffixes make janedoe.blogspot.com a site of its own, as it is in reality.
_extract = tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=True, cache_dir=None)


def canonicalize(href: str, base: str | None = None) -> str | None:
    """Return the absolute, canonical form of ``href``, or None if it is not a web URL."""
    found = canonicalize_with_host(href, base)
    return found[0] if found else None


def canonicalize_with_host(href: str, base: str | None = None) -> tuple[str, str] | None:
    """Return ``(canonical URL, host)`` for ``href``, or None if it is not a web URL.

    Canonical means: surrounding white space stripped, resolved against ``base``,
    fragment dropped, scheme and host lower-case, IDN host in punycode, default
    port dropped, empty path made ``/``, percent-encoding made safe (w3lib).
    The query string is kept as written: reordering it would store a URL that
    the page never linked to.
    """
    href = strip_html5_whitespace(href)
    if base is not None:
        try:
            href = urljoin(base, href)
        except ValueError:  # e.g. "http://[broken" in the href
            return None
    try:
        parts = urlsplit(safe_url_string(href))
        port = parts.port
    except ValueError:  # invalid port, bad IPv6 literal, un-IDNA-able host
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in HTTP_SCHEMES or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if parts.username is not None:
        userinfo = parts.username
        if parts.password is not None:
            userinfo += f":{parts.password}"
        netloc = f"{userinfo}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")), host


def resolver(base: str) -> Callable[[str], tuple[str, str] | None]:
    """A memoised :func:`canonicalize_with_host` for the hrefs of one page.

    ``base`` must be canonical: its directory is everything up to the last
    ``/`` of its path, which a canonical URL always has.

    Sites repeat the same hrefs on every page (navigation, footers), and a
    relative href resolves the same way against any page of one directory, so
    results are cached per base directory (``base`` up to its last ``/``) on
    the raw href: a repeated link costs one dict look-up. Hrefs that depend on
    the rest of the base (empty, ``#frag``, ``?q``, leading white space) are
    resolved against the page and not cached. The caches are bounded by
    ``RESOLVE_CACHE_SIZE`` entries in all, and emptied when full.
    """
    base_dir = base[: base.rfind("/", 0, _path_end(base)) + 1]
    cache = _dir_caches.get(base_dir)
    if cache is None:
        if len(_dir_caches) >= RESOLVE_CACHE_SIZE // 16:
            clear_resolve_cache()
        cache = _dir_caches[base_dir] = {}
    get = cache.get

    page_itself: list = []  # the base's own canonical form, computed on first use

    def resolve(href: str) -> tuple[str, str] | None:
        global _cached
        found = get(href, _MISSING)
        if found is not _MISSING:
            return found
        cut = href.find("#")
        if cut == 0 or not href:  # the page itself
            if not page_itself:
                page_itself.append(canonicalize_with_host(base))
            return page_itself[0]
        if href[0] in _BASE_DEPENDENT:
            return canonicalize_with_host(href, base)
        bare = href[:cut] if cut > 0 else href  # the fragment is dropped anyway
        found = get(bare, _MISSING)
        if found is _MISSING:
            found = cache[bare] = canonicalize_with_host(bare, base_dir)
            _cached += 1
        cache[href] = found
        _cached += 1
        if _cached > RESOLVE_CACHE_SIZE:
            clear_resolve_cache()
        return found

    return resolve


def clear_resolve_cache() -> None:
    """Forget every memoised href (benchmarks start each round cold)."""
    global _cached
    for cache in _dir_caches.values():
        cache.clear()
    _dir_caches.clear()
    _cached = 0


def _path_end(url: str) -> int:
    ends = [i for i in (url.find("?"), url.find("#")) if i >= 0]
    return min(ends) if ends else len(url)


RESOLVE_CACHE_SIZE = 1 << 17
_BASE_DEPENDENT = frozenset("? \t\n\r\f")
_MISSING: Any = object()
_dir_caches: dict[str, dict[str, tuple[str, str] | None]] = {}
_cached = 0


def host_of(url: str) -> str:
    """The lower-case host of a canonical URL."""
    return urlsplit(url).hostname or ""


@lru_cache(maxsize=65536)
def registered_domain(host: str) -> str:
    """The registered domain of ``host`` (``www.acme.co.uk`` -> ``acme.co.uk``).

    Hosts with no public suffix (IP addresses, ``localhost``, intranet names)
    are their own registered domain, so they still form a site of one host.
    """
    if not host:
        return ""
    return _extract(host).top_domain_under_public_suffix or host


def user_url(raw: str) -> tuple[str, str] | None:
    """``(canonical URL, host)`` of what a user typed: a URL, or a host meaning ``http://host/``."""
    raw = raw.strip()
    return canonicalize_with_host(raw if "://" in raw else f"http://{raw}") if raw else None


def domain_of(raw: str) -> str:
    """The registered domain a user means by ``raw``: a domain, a host or a URL ("" if none)."""
    found = user_url(raw)
    return registered_domain(found[1]) if found else ""
