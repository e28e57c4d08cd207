"""Answers built to exhaust a crawler's memory: compressed bodies that inflate to 1 GiB
(gzip, deflate, brotli) and a 50 MB page, beside a well-behaved page with a backlink."""

from __future__ import annotations

import zlib
from functools import cache

import brotli

from backlinkspider.demo.proxy import Response, html

HOST = "www.bomb-site.com"
SEED = f"http://{HOST}/"
INFLATED = 1 << 30  # 1 GiB of zeros once decompressed
BIG = 50 * 1000 * 1000
BOMBS = ("/gzip.html", "/deflate.html", "/br.html")


@cache
def _compressed(encoding: str) -> bytes:
    chunk, out = b"\0" * (1 << 20), []
    if encoding == "br":
        compressor = brotli.Compressor(quality=5)
        out = [compressor.process(chunk) for _ in range(INFLATED >> 20)] + [compressor.finish()]
    else:
        deflater = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
        out = [deflater.compress(chunk) for _ in range(INFLATED >> 20)] + [deflater.flush()]
    return b"".join(out)


def resolve(host: str, path: str) -> Response | None:
    if host != HOST:
        return None
    if path == "/":
        links = "".join(f'<a href="{p}">{p}</a>' for p in (*BOMBS, "/huge.html", "/fine.html"))
        return html(links)
    if path == "/fine.html":
        return html('<a href="https://acme-tools.com/fine">fine</a>')
    if path == "/huge.html":
        return Response(200, b"<html>" + b"x" * BIG, [("Content-Type", "text/html")])
    for encoding, bomb in (("gzip", "/gzip.html"), ("deflate", "/deflate.html"), ("br", "/br.html")):
        if path == bomb:
            headers = [("Content-Type", "text/html"), ("Content-Encoding", encoding)]
            return Response(200, _compressed(encoding), headers)
    return None
