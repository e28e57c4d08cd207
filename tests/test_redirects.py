"""SiteRedirectMiddleware in process: which redirects the crawl follows, which reach the spider."""

from __future__ import annotations

from scrapy import Request
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from backlinkspider import settings as project_settings
from backlinkspider.keys import REDIRECT_OFFSITE, REDIRECT_URLS, SITE
from backlinkspider.redirects import SiteRedirectMiddleware

PAGE = "http://blog.example.org/post"


def crawler():
    c = get_crawler(settings_dict={k: v for k, v in vars(project_settings).items() if k.isupper()})
    c.stats.open_spider()
    return c


def redirect(location: str, url: str = PAGE, **meta) -> tuple[Request, Response]:
    request = Request(url, meta=meta)
    return request, Response(url, status=301, headers={"Location": location}, request=request)


def test_an_in_site_redirect_is_followed_past_the_seen_set():
    request, response = redirect("https://www.example.org/new", **{SITE: "example.org"})
    assert SiteRedirectMiddleware(crawler()).process_response(request, response) is response
    assert request.dont_filter and "dont_redirect" not in request.meta


def test_a_redirect_back_into_its_chain_is_left_to_the_seen_set():
    request, response = redirect("/start", **{SITE: "example.org", REDIRECT_URLS: ["http://blog.example.org/start"]})
    SiteRedirectMiddleware(crawler()).process_response(request, response)
    assert not request.dont_filter


def test_a_redirect_off_the_site_reaches_the_spider_as_it_is():
    c = crawler()
    request, response = redirect("HTTPS://Elsewhere.NET:443/x", **{SITE: "example.org"})
    assert SiteRedirectMiddleware(c).process_response(request, response) is response
    assert request.meta["dont_redirect"] and request.meta[REDIRECT_OFFSITE] == "https://elsewhere.net/x"
    assert c.stats.get_value("backlinks/pages/redirect_offsite") == 1
    # RedirectMiddleware, next in response order, hands the 3xx on instead of following it.
    assert RedirectMiddleware.from_crawler(c).process_response(request, response) is response


def test_look_alike_hosts_are_off_the_site():
    request, response = redirect("http://example.org.evil.net/", **{SITE: "example.org"})
    SiteRedirectMiddleware(crawler()).process_response(request, response)
    assert request.meta[REDIRECT_OFFSITE] == "http://example.org.evil.net/"


def test_requests_without_a_site_may_go_anywhere():
    request, response = redirect("https://elsewhere.net/")  # a target check
    SiteRedirectMiddleware(crawler()).process_response(request, response)
    assert "dont_redirect" not in request.meta and REDIRECT_OFFSITE not in request.meta


def test_it_sees_responses_before_redirect_middleware():
    # Responses pass downloader middlewares in decreasing priority: 650 before 600.
    manager = DownloaderMiddlewareManager.from_crawler(crawler())
    order = [type(method.__self__) for method in manager.methods["process_response"]]
    assert order.index(SiteRedirectMiddleware) < order.index(RedirectMiddleware)
