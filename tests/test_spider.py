"""The spider's parsing, in process, as Scrapy tests its own components: a crawler
from ``get_crawler``, responses built by hand, and what ``parse`` yields."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from backlinkspider import settings as project_settings
from backlinkspider.items import PageItem
from backlinkspider.keys import REDIRECT_OFFSITE, REDIRECT_URLS, SITE
from backlinkspider.spiders.backlinks import BacklinksSpider

PAGE = "http://blog.example.org/post"
HTML = b"""<!doctype html><html><head><title>A post</title>%s</head><body>
<a href="/about">About</a> <a href="http://www.example.org/contact">Contact</a>
<a href="https://acme-tools.com/spades" rel="nofollow">Spades</a>
<a href="https://other.net/">Other</a> <a href="/about">About again</a>
</body></html>"""


def spider(**args) -> BacklinksSpider:
    settings = {k: v for k, v in vars(project_settings).items() if k.isupper()}
    crawler = get_crawler(BacklinksSpider, settings)
    crawler.spider = BacklinksSpider.from_crawler(crawler, seeds="http://blog.example.org/", **args)
    return crawler.spider


def response(url=PAGE, body=HTML % b"", status=200, cls=HtmlResponse, headers=None, **meta):
    request = Request(url, meta={SITE: "example.org", **meta})
    extra = {"encoding": "utf-8"} if issubclass(cls, TextResponse) else {}
    return cls(url=url, body=body, status=status, headers=headers, request=request, **extra)


def parse(spider: BacklinksSpider, resp) -> tuple[list[Request], PageItem]:
    """Run ``parse`` to the end: the requests it yields, then its one item, last."""

    async def collect():
        return [out async for out in spider.parse(resp)]

    out = asyncio.run(collect())
    assert isinstance(out[-1], PageItem) and all(isinstance(o, Request) for o in out[:-1]), out
    return out[:-1], out[-1]


def test_a_page_follows_its_site_once_and_records_the_rest():
    s = spider(targets="acme-tools.com")
    requests, page = parse(s, response())
    assert [r.url for r in requests] == ["http://blog.example.org/about", "http://www.example.org/contact"]
    assert all(r.meta[SITE] == "example.org" and r.callback == s.parse for r in requests)
    assert page.error == "" and page.title == "A post" and page.links_found == 5
    # Details only for the links the crawl can store: into the target.
    assert [(link.url, link.anchor, link.rel) for link in page.links] == [
        ("https://acme-tools.com/spades", "Spades", ("nofollow",))
    ]
    assert page.external_links == 2  # distinct URLs off the site
    assert page.targets == frozenset({"acme-tools.com"})  # what the pipelines judge it by
    # A second page linking to the same URLs asks for none of them again.
    assert parse(s, response(url="http://blog.example.org/other"))[0] == []


def test_without_targets_every_external_link_is_detailed():
    _, page = parse(spider(), response())
    # Every external link, in document order; the in-site ones are only followed.
    assert [(link.url, link.anchor) for link in page.links] == [
        ("https://acme-tools.com/spades", "Spades"),
        ("https://other.net/", "Other"),
    ]
    assert page.targets == frozenset()


def test_a_redirect_off_the_site_is_recorded_not_followed():
    resp = response(
        body=b"",
        status=301,
        cls=Response,
        headers={"Location": "https://elsewhere.net/"},
        **{REDIRECT_OFFSITE: "https://elsewhere.net/"},
    )
    s = spider()
    requests, page = parse(s, resp)
    assert requests == [] and page.status == 301 and page.error == "redirected_offsite"
    assert s.crawler.stats.get_value("backlinks/pages/redirected_offsite") == 1


def test_a_404_takes_no_links():
    s = spider()
    requests, page = parse(s, response(status=404))
    assert requests == [] and page.links == [] and page.error == "http_404"
    assert s.crawler.stats.get_value("backlinks/pages/http_404") == 1


@pytest.mark.parametrize(
    "body, cls, error",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR<a href='/x'>", TextResponse, "binary"),
        (b"%PDF-1.7 <a href='/x'>", Response, "not_html"),
        (b'{"a": "<a href=/x>"}', TextResponse, "not_html"),
    ],
)
def test_a_body_that_is_not_html_takes_no_links(body, cls, error):
    requests, page = parse(spider(), response(body=body, cls=cls))
    assert requests == [] and page.links == [] and page.error == error


def test_a_nofollow_page_is_recorded_but_not_followed():
    s = spider(targets="acme-tools.com")
    requests, page = parse(s, response(body=HTML % b'<meta name="robots" content="nofollow">'))
    assert requests == [] and page.page_nofollow and not page.page_noindex
    assert [link.url for link in page.links] == ["https://acme-tools.com/spades"]
    assert s.crawler.stats.get_value("backlinks/pages/nofollow_not_followed") == 1


def test_an_x_robots_tag_header_counts_like_the_meta_tag():
    _, page = parse(spider(), response(headers={"X-Robots-Tag": "noindex"}))
    assert page.page_noindex and not page.page_nofollow


def test_the_urls_that_redirected_here_are_carried_canonical():
    resp = response(
        url="HTTP://Blog.Example.org:80/post",
        **{
            REDIRECT_URLS: [
                "http://blog.example.org/old",
                "http://blog.example.org/post",
                "http://BLOG.example.org/old",
            ]
        },
    )
    _, page = parse(spider(), resp)
    assert page.url == PAGE
    assert page.redirected_from == ["http://blog.example.org/old"]


def test_a_failed_download_is_a_page_too():
    from scrapy.exceptions import DownloadTimeoutError
    from twisted.python.failure import Failure

    s = spider(targets="acme-tools.com")
    failure = Failure(DownloadTimeoutError("took too long"))
    failure.request = Request("http://blog.example.org/slow")
    [page] = list(s.on_error(failure))
    assert (page.url, page.status, page.error) == ("http://blog.example.org/slow", 0, "timeout")
    assert page.targets == frozenset({"acme-tools.com"})


def test_a_page_is_stored_under_the_url_its_link_gave_not_scrapys_re_encoding():
    s = spider()
    html = b'<a href="/list?order[dir]=asc&f={a|b}">sorted</a>'
    [request], _ = parse(s, response(body=html))
    link_url = "http://blog.example.org/list?order[dir]=asc&f={a|b}"
    assert request.url != link_url  # Scrapy sends %5B…%7D
    _, page = parse(s, response(url=request.url, body=b"<p>list</p>", **request.meta))
    assert page.url == link_url


def test_invalid_hrefs_are_counted():
    s = spider()
    parse(s, response(body=b'<a href="http://a b/">x</a><a href="http://256.256.256.256/">y</a>'))
    assert s.crawler.stats.get_value("backlinks/links/invalid_url") == 2


def test_traps_inside_a_site_are_not_followed():
    s = spider()
    s.traps.max_query_variants = 3  # the setting, MAX_QUERY_VARIANTS, is 200
    calendar = "".join(f'<a href="/cal?month={m}">m</a>' for m in range(10))
    long_url = "/" + "x" * 2100
    html = (
        calendar + f'<a href="{long_url}">long</a><a href="/a/b/a/b/a/b/">loop</a><a href="/a/b/a/b/">ok</a>'
    ).encode()
    requests, _ = parse(s, response(body=html))
    assert [r.url for r in requests] == [
        "http://blog.example.org/cal?month=0",
        "http://blog.example.org/cal?month=1",
        "http://blog.example.org/cal?month=2",
        "http://blog.example.org/a/b/a/b/",
    ]
    stats = s.crawler.stats
    assert stats.get_value("backlinks/traps/query_variants") == 7
    assert stats.get_value("backlinks/traps/url_too_long") == 1
    assert stats.get_value("backlinks/traps/repeated_segments") == 1
    # Judged once: the same links on the next page count nothing more.
    parse(s, response(url="http://blog.example.org/other", body=html))
    assert stats.get_value("backlinks/traps/query_variants") == 7


@pytest.mark.parametrize(
    "path, trap",
    [("/a/b/a/b/a/b/", True), ("/x/x/x", True), ("/y/a/b/c/a/b/c/a/b/c/z", True), ("/a/b/a/b/", False),
     ("/2026/12/02/post", False), ("/", False)],
)  # fmt: skip
def test_repeated_segments(path, trap):
    from backlinkspider.traps import repeats_segments

    assert repeats_segments(path) is trap
