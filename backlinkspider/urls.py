"""URLs as browsers read them, hosts and registered domains.

Every URL the project stores or follows goes through :func:`canonicalize`: the
WHATWG URL Standard's parse of the href against the page's base URL, the string
a browser would request (``ada-url``, the parser Node.js uses, which passes the
Standard's web-platform tests). Two deliberate differences from the browser's
``href``: the fragment is dropped (it never reaches the server, and ``/a#top``
and ``/a`` are one page) and so is user-info (``http://user:pass@host/``: a
credential is not part of a link's identity, and is never stored). Everything
else is byte for byte the browser's: a URL copied from the address bar finds
its document. Hosts are the parser's too: punycode per UTS #46
(non-transitional), percent-decoded, IPv4 and IPv6 in canonical form.

Registered domains come from tldextract with the Public Suffix List snapshot
bundled in the wheel: a crawler must never stall or change its answers because
a download of the list failed or moved on.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import tldextract
from ada_url import URL, idna_to_ascii

HTTP_SCHEMES = frozenset({"http:", "https:"})
#: what :func:`resolve` gives for an href the URL parser rejects (not a link at all),
#: as opposed to None for a URL that is valid but not http(s) (``mailto:``, ``tel:``).
INVALID: Any = ()

# suffix_list_urls=() makes tldextract use only its bundled snapshot (no network);
# private suffixes make janedoe.blogspot.com a site of its own, as it is in reality.
_extract = tldextract.TLDExtract(suffix_list_urls=(), include_psl_private_domains=True, cache_dir=None)


def canonicalize(href: str, base: str | None = None) -> str | None:
    """The URL a browser requests for ``href`` (fragment and user-info dropped), or None
    if it is not a valid http(s) URL."""
    found = resolve(href, base)
    return found[0] if found else None


def canonicalize_with_host(href: str, base: str | None = None) -> tuple[str, str] | None:
    """``(URL, host)`` for ``href`` as :func:`canonicalize` gives it, or None."""
    found = resolve(href, base)
    return found if found else None


def resolve(href: str, base: str | None = None) -> tuple[str, str] | None:
    """``(URL, host)`` of ``href`` against ``base``; None if it is not http(s);
    ``INVALID`` (an empty tuple: falsy too) if the URL parser rejects it."""
    try:
        url = URL(href, base=base) if base is not None else URL(href)
    except UnicodeEncodeError:  # lone surrogates: a browser's USVString conversion replaces them
        return resolve(_usv(href), None if base is None else _usv(base))
    except ValueError:
        return INVALID
    if url.protocol not in HTTP_SCHEMES:
        return None
    host = url.hostname
    if "xn--" in host and not _valid_a_labels(host):
        return INVALID
    if url.username or url.password:
        url.username = ""
        url.password = ""
    text = url.href
    cut = text.find("#")  # '#' elsewhere in a serialized URL is percent-encoded
    return (text[:cut] if cut >= 0 else text), host


def document_base(href: str, page_url: str) -> str:
    """The document's base URL given its first ``<base href>``: the href parsed against the
    page's URL, whatever its scheme; the page's URL when it does not parse (HTML Standard)."""
    try:
        return URL(href, base=page_url).href
    except (ValueError, UnicodeEncodeError):
        return page_url


def _usv(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _valid_a_labels(host: str) -> bool:
    """Whether every ``xn--`` label of ``host`` is the punycode of a non-ASCII label that
    UTS #46 maps to itself (the Standard rejects ``xn--`` and ``xn--pokxncvks``)."""
    for label in host.split("."):
        if not label.startswith("xn--"):
            continue
        try:
            decoded = codecs.decode(label[4:].encode("ascii"), "punycode")
            if not decoded or decoded.isascii() or idna_to_ascii(decoded) != label.encode("ascii"):
                return False
        except (UnicodeError, ValueError):
            return False
    return True


def resolver(base: str) -> Callable[[str], tuple[str, str] | None]:
    """A memoised :func:`resolve` for the hrefs of one page (``INVALID`` included).

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
    cut = base.rfind("/", 0, _path_end(base))
    base_dir = base[: cut + 1] if cut >= 0 else base  # an opaque base (javascript:…) is its own
    cache = _dir_caches.get(base_dir)
    if cache is None:
        if len(_dir_caches) >= RESOLVE_CACHE_SIZE // 16:
            clear_resolve_cache()
        cache = _dir_caches[base_dir] = {}
    get = cache.get

    page_itself: list = []  # the base's own canonical form, computed on first use

    def resolve_href(href: str) -> tuple[str, str] | None:
        global _cached
        found = get(href, _MISSING)
        if found is not _MISSING:
            return found
        cut = href.find("#")
        if cut == 0 or not href:  # the page itself
            if not page_itself:
                page_itself.append(resolve(base))
            return page_itself[0]
        if href[0] == "?" or href[0] <= " ":  # leading C0 controls and spaces are stripped
            return resolve(href, base)
        bare = href[:cut] if cut > 0 else href  # the fragment is dropped anyway
        found = get(bare, _MISSING)
        if found is _MISSING:
            found = cache[bare] = resolve(bare, base_dir)
            _cached += 1
        cache[href] = found
        _cached += 1
        if _cached > RESOLVE_CACHE_SIZE:
            clear_resolve_cache()
        return found

    return resolve_href


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
_MISSING: Any = object()
_dir_caches: dict[str, dict[str, tuple[str, str] | None]] = {}
_cached = 0


def host_of(url: str) -> str:
    """The host of a canonical URL, as :func:`canonicalize` gives it ("" if none)."""
    try:
        return URL(url).hostname
    except (ValueError, UnicodeEncodeError):
        return ""


def home_page(url: str) -> str | None:
    """The home page of ``url``'s site as the link gives it: its scheme and host, path ``/``."""
    return canonicalize(urlsplit(url)._replace(path="/", query="", fragment="").geturl())


@lru_cache(maxsize=65536)
def registered_domain(host: str) -> str:
    """The registered domain of ``host`` (``www.acme.co.uk`` -> ``acme.co.uk``).

    Hosts with no public suffix (IP addresses, ``localhost``, intranet names)
    are their own registered domain, so they still form a site of one host.
    """
    if not host:
        return ""
    return _extract(host).top_domain_under_public_suffix or host


def under_public_suffix(host: str) -> bool:
    """Whether ``host`` is a name under a public suffix (``acme-tools.com``, not ``node.js``)."""
    return bool(host) and bool(_extract(host).top_domain_under_public_suffix)


def user_url(raw: str) -> tuple[str, str] | None:
    """``(canonical URL, host)`` of what a user typed: a URL, or a host meaning ``http://host/``."""
    raw = raw.strip()
    return canonicalize_with_host(raw if "://" in raw else f"http://{raw}") if raw else None


def domain_of(raw: str) -> str:
    """The registered domain a user means by ``raw``: a domain, a host or a URL ("" if none)."""
    found = user_url(raw)
    return registered_domain(found[1]) if found else ""
