"""Private networks are never reached unless allowed.

The crawler follows links written by strangers, from inside its users' networks
(a laptop, a Kubernetes cluster beside Redis and MongoDB, a cloud VM with a
metadata service at 169.254.169.254). A page linking to ``http://10.0.0.7/``,
``http://127.0.0.1:6379/`` or ``http://2130706433/`` must not make it send a
request there. Every request the crawler makes (pages, robots.txt, each
redirect hop, target checks, redirect resolution) passes two checks:

* :class:`PrivateNetworkMiddleware`, the first downloader middleware: the URL's
  host, read as browsers read it (``0x7f.1`` *is* 127.0.0.1: ``urls.host_of``),
  must not be a non-public address. Refused requests never open a connection.
* :class:`GuardedResolver` (``TWISTED_DNS_RESOLVER``): a name must not resolve to one, at
  connection time, so a DNS answer that turns private later (rebinding) is
  caught too. Answers are cached per host, as Scrapy's resolver caches them.

Not public, after Python's ``ipaddress`` ``is_global``: loopback, RFC 1918,
link-local, CGNAT, unique-local, multicast, unspecified, reserved and
documentation ranges, and the IPv6 forms that embed an IPv4 address
(IPv4-mapped and -compatible, 6to4, NAT64) when that address is not public.

``ALLOW_PRIVATE_NETWORKS`` turns the guard off; ``PRIVATE_NETWORK_ALLOWLIST``
(CIDRs and host names) opens what an intranet crawl needs. The proxies of
``http_proxy``/``https_proxy`` are the operator's and are always reached; a
proxy resolves the names itself, so README says what it must refuse.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.resolver import CachingThreadedResolver
from scrapy.settings import BaseSettings
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from backlinkspider.urls import host_of

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated IPv4-compatible addresses
#: what a refused request, page or target check records as its error.
PRIVATE_NETWORK = "private_network"
_REFUSED_NAMES_KEPT = 100_000

#: names that resolved to a non-public address in this process, and the address: the
#: resolver fills it, the middleware refuses their next requests (retries, other pages)
#: before any connection, and the spider tells a refused name from a failed lookup.
refused_names: OrderedDict[str, str] = OrderedDict()


class PrivateNetworkRefused(IgnoreRequest):
    """A request to a host that is, or resolves to, an address that is not public."""


class PrivateNetworkLookupError(DNSLookupError):
    """A host name that resolved to an address that is not public."""


def is_public(ip: IPAddress) -> bool:
    """Whether ``ip`` is a public unicast address, embedded IPv4 addresses included."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and (ip in _NAT64 or ip in _COMPATIBLE) and int(ip) > 1:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def ip_of(host: str) -> IPAddress | None:
    """The address a canonical host names (``[::1]`` and ``127.0.0.1`` alike), or None for a name."""
    try:
        return ipaddress.ip_address(host[1:-1] if host.startswith("[") else host)
    except ValueError:
        return None


class AddressPolicy:
    """What may be reached: public addresses, and what the settings open."""

    def __init__(self, allow_private: bool = False, allowlist: Iterable[str] = (), trusted: Iterable[str] = ()):
        self.allow_private = allow_private
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.names: set[str] = set()
        for entry in (e.strip().lower() for e in allowlist):
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.names.add(entry.rstrip("."))
        self.trusted = {t.lower() for t in trusted}  # the operator's proxies

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> AddressPolicy:
        return cls(
            settings.getbool("ALLOW_PRIVATE_NETWORKS"),
            settings.getlist("PRIVATE_NETWORK_ALLOWLIST"),
            proxy_hosts(),
        )

    def allows_address(self, ip: IPAddress) -> bool:
        return self.allow_private or is_public(ip) or any(ip in net for net in self.networks)

    def allows_host(self, host: str) -> bool:
        """The literal check: a host that is an address must be allowed; a name passes here."""
        if self.allow_private or host in self.names:
            return True
        ip = ip_of(host)
        return ip is None or self.allows_address(ip)

    def allows_resolved(self, name: str, address: str) -> bool:
        """The connection-time check: what ``name`` resolved to."""
        if self.allow_private or name.lower().rstrip(".") in self.names or name.lower() in self.trusted:
            return True
        ip = ip_of(address)
        return ip is not None and self.allows_address(ip)


def proxy_hosts() -> set[str]:
    """The hosts of the proxies in the environment (``http_proxy``, ``https_proxy``)."""
    hosts = set()
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        value = os.environ.get(name)
        if value:
            host = urlsplit(value if "://" in value else f"http://{value}").hostname
            if host:
                hosts.add(host.lower())
    return hosts


class PrivateNetworkMiddleware:
    """Downloader middleware, first of all (priority 50): refuse requests to non-public hosts."""

    def __init__(self, crawler: Crawler):
        self.stats = crawler.stats
        self.policy = AddressPolicy.from_settings(crawler.settings)
        self._allowed = lru_cache(maxsize=65536)(self._decide)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateNetworkMiddleware:
        return cls(crawler)

    def _decide(self, netloc: str, url: str) -> bool:
        return self.policy.allows_host(host_of(url))

    def process_request(self, request: Request) -> None:
        # One decision per scheme and authority: the host is all that matters.
        parts = urlparse_cached(request)
        if self._allowed(f"{parts.scheme}://{parts.netloc}", f"{parts.scheme}://{parts.netloc}/") and (
            not refused_names or (parts.hostname or "") not in refused_names
        ):
            return None
        self.stats.inc_value(f"backlinks/refused/{PRIVATE_NETWORK}")
        logger.warning("Refused (private network): %s", request.url)
        raise PrivateNetworkRefused(f"{PRIVATE_NETWORK}: {parts.netloc} is not a public address")


class GuardedResolver(CachingThreadedResolver):
    """``TWISTED_DNS_RESOLVER``: Scrapy's caching resolver, refusing names that resolve to non-public addresses."""

    policy: AddressPolicy

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor):  # type: ignore[no-untyped-def]
        resolver = super().from_crawler(crawler, reactor)
        resolver.policy = AddressPolicy.from_settings(crawler.settings)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred:  # noqa: N802 (Twisted's name)
        d = super().getHostByName(name, timeout)
        d.addCallback(self._check, name)
        return d

    def _check(self, address: str, name: str) -> str:
        if not self.policy.allows_resolved(name, address):
            logger.warning("Refused (private network): %s resolves to %s", name, address)
            refused_names[name.lower()] = address
            if len(refused_names) > _REFUSED_NAMES_KEPT:
                refused_names.popitem(last=False)
            raise PrivateNetworkLookupError(f"{PRIVATE_NETWORK}: {name} resolves to {address}")
        return address
