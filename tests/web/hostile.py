"""A public-looking site whose pages point into private networks in every form
browsers accept: links, a redirect, a shortener that redirects there, and a robots.txt
that redirects there. Served through the test proxy, which records every request
it gets: none of them may reach a private address."""

from __future__ import annotations

from backlinkspider.demo.proxy import Response, html, redirect

HOST = "www.hostile-links.com"
SEED = f"http://{HOST}/"
TARGET = "acme-tools.com"
# Every form browsers accept for an address that is not public, as written in hrefs.
PRIVATE_HREFS = [
    "http://10.0.0.7/",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:6379/",
    "http://[::1]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://100.64.0.1/",
    "http://192.168.1.1/admin",
    "http://172.16.0.1/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://[64:ff9b::a00:7]/",
    "http://[2002:a00:7::]/",
    "http://user:pass@10.0.0.7/",
]
# What the proxy sees as the host of a request to one of them, however written.
PRIVATE_HOSTS = {
    "10.0.0.7", "169.254.169.254", "127.0.0.1", "::1", "[::1]", "2130706433", "0x7f.1", "0177.0.0.1", "127.1",
    "::ffff:127.0.0.1", "::ffff:7f00:1", "100.64.0.1", "192.168.1.1", "172.16.0.1", "fe80::1", "fc00::1",
    "0.0.0.0", "224.0.0.1", "64:ff9b::a00:7", "2002:a00:7::",
}  # fmt: skip
SHORTENER = "short.link-shortener.net"  # its robots.txt redirects into a private network
REDIRECTOR = "go.other-shortener.org"  # a fine robots.txt; its link redirects into one

PAGES: dict[tuple[str, str], Response] = {
    (HOST, "/robots.txt"): Response(200, b"User-agent: *\nAllow: /\n", [("Content-Type", "text/plain")]),
    (HOST, "/"): html(
        "".join(f'<a href="{h}">internal {i}</a>\n' for i, h in enumerate(PRIVATE_HREFS))
        + f'<a href="http://{SHORTENER}/x">short</a> <a href="http://{REDIRECTOR}/x">go</a>'
        + '<a href="/to-private">moved</a>'
        + '<a href="https://acme-tools.com/">Acme</a>'
    ),
    (HOST, "/to-private"): redirect("http://127.0.0.1/secret"),
    (SHORTENER, "/robots.txt"): redirect("http://169.254.169.254/robots.txt"),
    (SHORTENER, "/x"): redirect("http://10.0.0.7/admin"),
    (REDIRECTOR, "/robots.txt"): Response(200, b"User-agent: *\nAllow: /\n", [("Content-Type", "text/plain")]),
    (REDIRECTOR, "/x"): redirect("http://10.0.0.7/admin"),
}


def resolve(host: str, path: str) -> Response | None:
    return PAGES.get((host, path))
