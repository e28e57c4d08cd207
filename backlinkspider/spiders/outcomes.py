"""How a fetch ended, in the words ``pages.error``, the stats and the logs use.

A download that failed has a reason (``timeout``, ``dns``, …); a 2xx response
can still be unusable (``not_html``, ``binary``). Both the crawl and the
target checks name them the same way.
"""

from __future__ import annotations

from datetime import datetime, timezone

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from backlinkspider.guard import PRIVATE_NETWORK, PrivateNetworkRefused, refused_names
from backlinkspider.robots_errors import ROBOTS_UNAVAILABLE, RobotsHeld, RobotsUnavailable

# Download failures worth a name of their own, most specific first.
_ERRORS = (
    (DownloadTimeoutError, "timeout"),
    (DownloadCancelledError, "too_large"),  # DOWNLOAD_MAXSIZE exceeded
    (CannotResolveHostError, "dns"),
    (DownloadConnectionRefusedError, "connection_refused"),
    (ResponseDataLossError, "data_loss"),
    (DownloadFailedError, "download_failed"),
)
_SNIFF = 1024  # bytes looked at to tell a binary body from text


def failure_reason(failure: Failure) -> str:
    """The name of a download failure (a Twisted ``Failure``); ``error`` when it has none."""
    if refused_private(failure):
        return PRIVATE_NETWORK
    if too_large_decoded(failure):
        return "too_large"
    if failure.check(RobotsUnavailable):
        return ROBOTS_UNAVAILABLE
    return next((name for cls, name in _ERRORS if failure.check(cls)), "error")


def too_large_decoded(failure: Failure) -> bool:
    """Whether Scrapy dropped a compressed body that inflated past ``DOWNLOAD_MAXSIZE`` (a bomb)."""
    cause = getattr(failure.value, "__cause__", None)
    return isinstance(failure.value, IgnoreRequest) and type(cause).__name__ == "_DecompressionMaxSizeExceeded"


def ignored(failure: Failure) -> bool:
    """Whether a failure means "not fetched, nothing to record" (robots.txt, too many redirects);
    refused, over-size and robots-unavailable requests are recorded."""
    return (
        bool(failure.check(IgnoreRequest))
        and not failure.check(RobotsUnavailable)
        and not refused_private(failure)
        and not too_large_decoded(failure)
    )


def held(failure: Failure) -> bool:
    """Whether the request waits for its host's robots.txt: it comes back, nothing ends now."""
    return bool(failure.check(RobotsHeld))


def refused_private(failure: Failure) -> bool:
    """Whether the guard refused the request: its host, or what the name resolved to, is not public."""
    if isinstance(failure.value, PrivateNetworkRefused):
        return True
    request = getattr(failure, "request", None)
    return (
        request is not None
        and isinstance(failure.value, CannotResolveHostError)
        and (urlparse_cached(request).hostname or "") in refused_names
    )


def unusable(response: Response) -> str:
    """Why a 2xx response yields no links ("" if it is usable HTML)."""
    if not isinstance(response, TextResponse):
        return "not_html"
    # A binary file served as text has NUL bytes; UTF-16 and UTF-32 text has them too.
    if b"\x00" in response.body[:_SNIFF] and not response.encoding.startswith(("utf-16", "utf-32")):
        return "binary"
    if not isinstance(response, HtmlResponse):
        return "not_html"
    return ""


def now() -> datetime:
    """When a page was fetched or a target checked: UTC."""
    return datetime.now(timezone.utc)
