"""Link extraction speed: backlinkspider.links.extract vs Scrapy's LinkExtractor.

Corpus: the HTML of Debian's python3.11-doc package (real, link-heavy pages),
fetched with `apt-get download` into .corpus/ on first use (tests/support/debian_docs.py). Each round
gives both extractors fresh HtmlResponse objects made from the same bytes (a
reused response would hand Scrapy its cached, already-parsed selector), and
each does what it does in a crawl: decode and parse, then walk the links. The
figure is MB of HTML per second, best of the rounds, and the ratio between them.

Ours is measured twice: "full" builds every detail for every link (anchor, rel,
kind, placement, hidden, context; LinkExtractor builds anchor and rel); "crawl"
is what the spider runs, with details only for the links it can store (external
ones, when no targets are given) and the rest only resolved, for following. Both
also read the page's language tag, word count, text and main text, as the spider
does. Counting the main text's terms (backlinkspider.terms), the spider's next
step, is measured apart: its time a page, and what ``pages.terms`` weighs in BSON.

    python bench/extract.py [--pages N] [--rounds R]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scrapy.http import HtmlResponse  # noqa: E402
from scrapy.linkextractors import LinkExtractor  # noqa: E402

from backlinkspider.links import extract, markup  # noqa: E402
from backlinkspider.terms import count_terms  # noqa: E402
from backlinkspider.urls import clear_resolve_cache, registered_domain  # noqa: E402
from pipelines.classify import stores  # noqa: E402
from tests.support.debian_docs import python_docs  # noqa: E402


def corpus_files() -> list[Path]:
    html_root = python_docs()
    return sorted(p for p in html_root.rglob("*.html") if p.is_file() and not p.is_symlink())


def measure(name, fn, pages, rounds) -> float:
    size = sum(len(body) for _, body in pages)
    best = float("inf")
    for _ in range(rounds):
        clear_resolve_cache()  # each round starts cold, as a new crawl does
        responses = [HtmlResponse(url=url, body=body, headers=HEADERS) for url, body in pages]
        start = time.perf_counter()
        n = sum(fn(r) for r in responses)
        best = min(best, time.perf_counter() - start)
    mbps = size / best / 1e6
    print(f"{name:<34} {mbps:8.1f} MB/s  {n:>8} links  {best:6.2f} s")
    return mbps


HEADERS = {"Content-Type": "text/html; charset=utf-8"}  # as docs.python.org serves them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500, help="pages of the corpus to use")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    args = parser.parse_args()

    pages = [
        (f"https://docs.python.org/3.11/{p.relative_to(p.parents[1])}", p.read_bytes())
        for p in corpus_files()[: args.pages]
    ]
    size = sum(len(body) for _, body in pages) / 1e6
    print(f"corpus: {len(pages)} pages of python3.11-doc, {size:.1f} MB, best of {args.rounds} rounds")

    scrapy_extractor = LinkExtractor()  # Scrapy's default: a and area tags, unique URLs

    def crawl_mode(r):
        site = registered_domain(urlsplit(r.url).hostname)
        page = extract(markup(r), r.url, wants=lambda host: stores(registered_domain(host), site, ()))
        return len(page.links) + len(page.others)

    full = measure("backlinkspider extract, full", lambda r: len(extract(markup(r), r.url).links), pages, args.rounds)
    crawl = measure("backlinkspider extract, crawl", crawl_mode, pages, args.rounds)
    theirs = measure("scrapy LinkExtractor", lambda r: len(scrapy_extractor.extract_links(r)), pages, args.rounds)
    print(f"ratio, full:  {full / theirs:.1f}x Scrapy's LinkExtractor")
    print(f"ratio, crawl: {crawl / theirs:.1f}x Scrapy's LinkExtractor (target: at least 8x)")
    print("(ours keeps every link, LinkExtractor one per URL; 'full' adds placement, hidden, context to each)")
    terms_weight(pages)


def terms_weight(pages) -> None:
    """What ``pages.terms`` weighs per page, and what counting them costs, on these pages
    (the second time: a crawl's stems are remembered after its first pages)."""
    import bson

    texts = [extract(body, url).main_text for url, body in pages]
    for text in texts:
        count_terms(text, "en")
    sizes, counts = [], []
    start = time.perf_counter()
    found = [count_terms(text, "en") for text in texts]
    seconds = time.perf_counter() - start
    for terms in found:
        sizes.append(len(bson.encode({"terms": terms})) - 5)  # the field: type, name, document
        counts.append(len(terms))
    print(
        f"terms: {sum(sizes) / len(sizes):,.0f} bytes of BSON a page on average (target: at most 2 KB), "
        f"{sum(counts) / len(counts):.0f} terms, counted in {seconds / len(pages) * 1000:.2f} ms a page"
    )


if __name__ == "__main__":
    main()
