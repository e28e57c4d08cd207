"""Three sites whose robots.txt Google reads one way and Scrapy's default parser
(Protego, asked with the whole User-Agent header) another. Each home page links
to ``/x/``; robots.txt forbids it to us on the first two sites and not on the third.
"""

from __future__ import annotations

from backlinkspider.demo.proxy import Response, html

ROBOTS = {
    # An unknown line between two User-agent lines does not end the group: /x/ is ours too.
    "group.robots-test.com": b"User-agent: backlinkspider\nCrawl-delay: 10\nUser-agent: *\nDisallow: /x/\n",
    # Google matches the product token up to the first "/" or space.
    "version.robots-test.com": b"User-agent: *\nAllow: /\n\nUser-agent: BACKLINKSPIDER/1.0\nDisallow: /x/\n",
    # A group for "Mozilla" (the first word of our User-Agent header) is not ours.
    "mozilla.robots-test.com": b"User-agent: Mozilla\nDisallow: /x/\n\nUser-agent: *\nAllow: /\n",
}
SEEDS = [f"http://{host}/" for host in ROBOTS]
DISALLOWED = {("group.robots-test.com", "/x/"), ("version.robots-test.com", "/x/")}
ALLOWED = {("mozilla.robots-test.com", "/x/")}

PAGES: dict[tuple[str, str], Response] = {}
for _host, _body in ROBOTS.items():
    PAGES[(_host, "/robots.txt")] = Response(200, _body, [("Content-Type", "text/plain")])
    PAGES[(_host, "/")] = html('<a href="/x/">x</a> <a href="https://acme-tools.com/">acme</a>')
    PAGES[(_host, "/x/")] = html('<a href="https://acme-tools.com/x">acme x</a>')


def resolve(host: str, path: str) -> Response | None:
    return PAGES.get((host, path))
