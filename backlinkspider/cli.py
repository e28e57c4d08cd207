"""The ``backlinks`` console script.

Crawls themselves run with Scrapy's own ``scrapy crawl backlinks``; this script
holds what is not a crawl: ``backlinks demo`` serves the demo web on loopback
and crawls it, so a new user sees the whole path from pages to MongoDB to
report with one command and nothing else installed; ``backlinks check-targets``
finds broken backlinks; ``report``, ``export``, ``disavow`` and ``rank`` read
the store (through ``backlinkspider.store``, the Python API); ``backlinks status``
and ``backlinks reset`` look after a distributed crawl's Redis frontier.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from importlib.resources import files

DEMO_SEEDS = [
    "http://www.gardening-weekly.co.uk/",
    "http://janedoe.blogspot.com/",
    "http://forum.diy-talk.net/",
]
DEMO_TARGETS = "acme-tools.com"


def demo(args: argparse.Namespace) -> int:
    """Serve the demo web through a loopback proxy and crawl it into the store."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from backlinkspider.demo.proxy import WebProxy, static_files

    proxy = WebProxy(static_files(files("backlinkspider.demo") / "web")).start()
    os.environ["http_proxy"] = proxy.url  # Scrapy's HttpProxyMiddleware reads it
    os.environ.pop("no_proxy", None)
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "backlinkspider.settings")
    settings = get_project_settings()
    # The demo web is ours and on loopback: no need to be gentle with it.
    # The demo is a single-machine crawl even where REDIS_URL is set.
    settings.setdict({"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "REDIS_URL": "",
                      "REDIS_HOST": "", "LOG_LEVEL": args.log_level}, priority="cmdline")
    print(f"Serving the demo web at {proxy.url}; crawling {', '.join(DEMO_SEEDS)}", flush=True)
    process = CrawlerProcess(settings)
    process.crawl("backlinks", seeds=",".join(DEMO_SEEDS), targets=args.targets)
    process.start()
    proxy.stop()
    return 0


def check_targets(args: argparse.Namespace) -> int:
    """Check every stored target URL of the given domains: status, final URL, broken."""
    from scrapy.crawler import CrawlerProcess

    settings = _settings(args)
    # One process, whatever REDIS_URL says: a command that ends when its checks do.
    settings.setdict({"REDIS_URL": "", "REDIS_HOST": "", "LOG_LEVEL": args.log_level}, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl("backlinks", targets=",".join(args.domains), check_targets="1")
    process.start()
    return 0


def _settings(args: argparse.Namespace):
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "backlinkspider.settings")
    settings = get_project_settings()
    if getattr(args, "redis_url", None):
        settings.set("REDIS_URL", args.redis_url, priority="cmdline")
    return settings


def _redis(settings):
    from backlinkspider.frontier.connection import blocking_client, enabled

    if not enabled(settings):
        raise SystemExit("backlinks: REDIS_URL is not set (environment or --redis-url): "
                         "there is no distributed crawl to look at")
    return blocking_client(settings)


def _backlinks_count(settings) -> int | None:
    if not settings.get("MONGO_URI"):
        return None  # never start the embedded server just to count
    from backlinkspider import store

    client = store.connect(settings)
    try:
        return client[settings.get("MONGO_DATABASE")][store.BACKLINKS].estimated_document_count()
    finally:
        client.close()


def status(args: argparse.Namespace) -> int:
    """Print the distributed crawl's state; with --watch, keep printing it."""
    from backlinkspider.frontier.status import cluster_status, format_status

    settings = _settings(args)
    server = _redis(settings)
    while True:
        state = cluster_status(server, args.crawl)
        backlinks = _backlinks_count(settings)
        if args.json:
            print(json.dumps({**state, "backlinks_stored": backlinks}), flush=True)
        else:
            if args.watch:
                print("\x1b[H\x1b[2J", end="")  # home, clear: a live view
            print(format_status(state, backlinks), flush=True)
        if not args.watch:
            return 0
        try:
            time.sleep(args.interval)
        except KeyboardInterrupt:
            return 0


def reset(args: argparse.Namespace) -> int:
    """Delete a distributed crawl's frontier, seen-set and counters from Redis."""
    from backlinkspider.frontier.queue import clear
    from backlinkspider.frontier.status import cluster_status

    settings = _settings(args)
    server = _redis(settings)
    alive = cluster_status(server, args.crawl)["workers_alive"]
    if alive and not args.force:
        print(f"backlinks reset: {alive} worker(s) are still crawling {args.crawl!r}; stop them "
              "first, or pass --force", file=sys.stderr)
        return 1
    deleted = clear(server, args.crawl)
    print(f"Deleted {deleted} Redis keys of crawl {args.crawl!r}; MongoDB is untouched.")
    return 0


def _database(args: argparse.Namespace):
    """The store of MONGO_URI/MONGO_DATABASE (or --mongo-uri/--database): client and database."""
    from backlinkspider import store

    settings = _settings(args)
    if args.mongo_uri:
        settings.set("MONGO_URI", args.mongo_uri, priority="cmdline")
    if args.database:
        settings.set("MONGO_DATABASE", args.database, priority="cmdline")
    client = store.connect(settings)
    return client, client[settings.get("MONGO_DATABASE")]


def _domain(raw: str) -> str:
    from backlinkspider.urls import domain_of

    domain = domain_of(raw)
    if not domain:
        raise SystemExit(f"backlinks: {raw!r} is not a domain")
    return domain


def _output(path: str | None):
    """A text stream for ``-o PATH`` (UTF-8, no newline translation), or standard output."""
    if not path or path == "-":
        return open(sys.stdout.fileno(), "w", encoding="utf-8", newline="", closefd=False)
    return open(path, "w", encoding="utf-8", newline="")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def report(args: argparse.Namespace) -> int:
    """Print the backlink profile of a domain: tables, JSON, or the pipelines behind them."""
    from datetime import datetime, timezone

    from backlinkspider import store
    from backlinkspider.export import iso

    domain = _domain(args.domain)
    now = datetime.now(timezone.utc)
    if args.pipelines:
        print(_mongosh(domain, args.top, now))
        return 0
    client, db = _database(args)
    try:
        profile = store.profile(db, domain, top=args.top, now=now)
        if args.json:
            print(json.dumps(profile, default=iso, ensure_ascii=False, indent=2))
        else:
            from backlinkspider.terminal import print_profile

            print_profile(profile)
        if args.chart:
            from backlinkspider.charts import draw

            path = draw(profile, store.history(db, domain), args.chart)
            print(f"Chart written to {path}", file=sys.stderr)
    finally:
        client.close()
    if profile["backlinks"]["total"] == 0:
        print(f"backlinks: no backlinks into {domain} in the store", file=sys.stderr)
    return 0


def _mongosh(domain: str, top: int, now) -> str:
    """The report's pipelines as mongosh statements, to paste into a shell."""
    from backlinkspider import store
    from backlinkspider.export import iso

    def value(v) -> str:
        text = json.dumps(v, default=lambda d: f"\0{iso(d)}\0", ensure_ascii=False)
        return text.replace('"\\u0000', 'ISODate("').replace('\\u0000"', '")')

    def js(pipeline, indent="  ") -> str:
        """A stage a line; a $facet's sub-pipelines a stage a line too."""
        stages = []
        for stage in pipeline:
            if "$facet" in stage:
                facets = ",\n".join(f'{indent}  {json.dumps(name)}: {js(sub, indent + "    ")}'
                                    for name, sub in stage["$facet"].items())
                stages.append(f'{indent}{{"$facet": {{\n{facets}\n{indent}}}}}')
            else:
                stages.append(indent + value(stage))
        return "[\n" + ",\n".join(stages) + "\n" + indent[:-2] + "]"

    return "\n\n".join([
        f"// The backlink profile of {domain}: every section in one pass over its backlinks",
        f"db.{store.BACKLINKS}.aggregate({js(store.profile_pipeline(domain, top))}, {{allowDiskUse: true}})",
        "// New, lost, recovered and link type changes of the last 30 and 7 days",
        f"db.{store.EVENTS}.aggregate({js(store.changes_pipeline(domain, now))})",
        "// Its own authority (backlinks rank)",
        f"db.{store.DOMAINS}.aggregate({js(store.authority_pipeline(domain))})",
    ])


def export(args: argparse.Namespace) -> int:
    """Write one row per backlink into a domain, as CSV or JSON Lines."""
    from backlinkspider import store
    from backlinkspider.export import write_csv, write_jsonl

    domain = _domain(args.domain)
    live = True if args.live else False if args.lost else None
    types = sorted({t.strip() for value in args.link_type or () for t in value.split(",") if t.strip()})
    unknown = set(types) - set(store.LINK_TYPES)
    if unknown:
        raise SystemExit(f"backlinks export: unknown link type(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(store.LINK_TYPES)}")
    client, db = _database(args)
    try:
        rows = store.backlink_rows(db, domain, live=live, link_types=types)
        with _output(args.output) as out:
            n = (write_csv if args.format == "csv" else write_jsonl)(rows, out)
    finally:
        client.close()
    print(f"Exported {n} backlinks into {domain}" + (f" to {args.output}" if args.output else ""),
          file=sys.stderr)
    return 0


def disavow(args: argparse.Namespace) -> int:
    """Write a disavow file (Google's format) for a domain's weak or listed referring domains."""
    from backlinkspider import store
    from backlinkspider.export import (DISAVOW_MAX_BYTES, DISAVOW_MAX_LINES, disavow_file,
                                       read_disavow_list)

    domain = _domain(args.domain)
    listed_domains, listed_urls = set(), set()
    if args.domains:
        with open(args.domains, encoding="utf-8-sig") as f:
            listed_domains, listed_urls = read_disavow_list(f)
    candidates = []  # only --max-authority needs the referring domains and their authority
    if args.max_authority is not None:
        client, db = _database(args)
        try:
            if db[store.DOMAINS].find_one({}, {"_id": 1}) is None:
                raise SystemExit("backlinks disavow: no domain authority in the store yet; "
                                 "run `backlinks rank` first")
            candidates = store.referring_domain_authority(db, domain)
        finally:
            client.close()
    text = disavow_file(domain, candidates, args.max_authority, listed_domains, listed_urls)
    with _output(args.output) as out:
        out.write(text)
    size, lines = len(text.encode()), text.count("\n")
    if size > DISAVOW_MAX_BYTES or lines > DISAVOW_MAX_LINES:
        print(f"backlinks disavow: warning: {lines:,} lines, {size:,} bytes; Google accepts at most "
              f"{DISAVOW_MAX_LINES:,} lines and {DISAVOW_MAX_BYTES:,} bytes", file=sys.stderr)
    return 0


def rank(args: argparse.Namespace) -> int:
    """Compute every domain's authority from the stored link graph into ``domains``."""
    from backlinkspider import store

    if not 0 < args.damping < 1:
        raise SystemExit("backlinks rank: --damping must be between 0 and 1")
    client, db = _database(args)
    try:
        run = store.rank(db, damping=args.damping)
    finally:
        client.close()
    ranking = run.ranking
    print(f"Ranked {len(ranking.nodes):,} domains over {ranking.edges:,} followed domain-to-domain "
          f"edges in {run.read + run.rank + run.store:.1f} s (reading the graph {run.read:.1f} s, "
          f"PageRank {run.rank:.2f} s in {ranking.iterations} iterations, storing {run.store:.1f} s); "
          "stored in the domains collection.")
    for i in sorted(range(len(ranking.nodes)), key=lambda i: (-ranking.pagerank[i], ranking.nodes[i]))[:args.top]:
        print(f"  {run.authority[i]:5.1f}  {ranking.nodes[i]}  ({ranking.referring[i]:,} referring domains)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="backlinks",
        description="backlinkspider: your own backlink index. Crawl with "
        "`scrapy crawl backlinks -a seeds=URL[,URL…] -a targets=DOMAIN[,DOMAIN…]`.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "demo",
        help="crawl the bundled demo web (served on loopback) into MongoDB and print the report",
        description="Serve the bundled demo web through a loopback HTTP proxy, crawl it with "
        "the backlinks spider into MONGO_URI (or the embedded server when unset) and print "
        "the report.",
    )
    p.add_argument("--targets", default=DEMO_TARGETS,
                   help=f"target domains to report on (default: {DEMO_TARGETS})")
    p.add_argument("--log-level", default="WARNING", help="Scrapy log level (default: WARNING)")
    p.set_defaults(func=demo)

    p = sub.add_parser(
        "check-targets",
        help="check the stored target URLs of DOMAIN: HTTP status, final URL, broken backlinks",
        description="Request each distinct target URL of the backlinks into DOMAIN once (HEAD, "
        "GET where HEAD is refused; robots.txt and the crawl's politeness settings apply) and "
        "store target_status, target_final_url, target_checked_at and broken on the backlinks. "
        "The same as `scrapy crawl backlinks -a targets=DOMAIN -a check_targets=1`, in one "
        "process even when REDIS_URL is set.",
    )
    p.add_argument("domains", nargs="+", metavar="DOMAIN", help="target domain(s) to check")
    p.add_argument("--log-level", default="INFO", help="Scrapy log level (default: INFO)")
    p.set_defaults(func=check_targets)

    mongo = argparse.ArgumentParser(add_help=False)  # what the store commands share
    mongo.add_argument("--mongo-uri", help="MongoDB to read (default: the MONGO_URI setting or "
                       "environment variable; empty = the embedded server)")
    mongo.add_argument("--database", help="database (default: MONGO_DATABASE, else backlinks)")

    p = sub.add_parser(
        "report",
        parents=[mongo],
        help="the backlink profile of DOMAIN: totals, link types, top referring domains, "
        "anchors and pages, new and lost, broken",
        description="Print the backlink profile of DOMAIN from the store: backlinks, referring "
        "domains and pages (total, live, lost); live backlinks by link type (follow, nofollow, "
        "ugc, sponsored) and kind (text, image, redirect); top referring domains with their "
        "authority (see `backlinks rank`), top anchors, top linked pages; new and lost in the "
        "last 7 and 30 days; broken backlinks (see `backlinks check-targets`). Links inside "
        "DOMAIN's own site are not backlinks and are left out.",
    )
    p.add_argument("domain", metavar="DOMAIN", help="a registered domain (a host or URL is reduced to it)")
    p.add_argument("--top", type=_positive, default=10, help="rows in each top list (default: 10)")
    p.add_argument("--json", action="store_true", help="print the profile as JSON, for machines")
    p.add_argument("--chart", metavar="FILE.png", help="also draw referring domains and new/lost "
                   "backlinks over time and the link-type split into FILE (PNG; .svg and .pdf work)")
    p.add_argument("--pipelines", action="store_true", help="print the MongoDB aggregation "
                   "pipelines behind the report, ready for mongosh, and query nothing")
    p.set_defaults(func=report)

    p = sub.add_parser(
        "export",
        parents=[mongo],
        help="one row per backlink into DOMAIN, as CSV or JSON Lines",
        description="Write every backlink into DOMAIN, most recently seen first, with the "
        "columns of a backlink tracking sheet: referring_page, referring_domain, "
        "domain_authority, target_url, anchor, link_type, kind, first_seen, last_seen, lost_at, "
        "lost_reason, target_status. Dates are ISO 8601 UTC.",
    )
    p.add_argument("domain", metavar="DOMAIN", help="a registered domain (a host or URL is reduced to it)")
    p.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="default: csv")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--live", action="store_true", help="only backlinks still there")
    state.add_argument("--lost", action="store_true", help="only lost backlinks")
    p.add_argument("--link-type", action="append", metavar="TYPE",
                   help="only backlinks of this link type: follow, nofollow, ugc, sponsored "
                   "(repeat or comma-separate for any of several)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    p.set_defaults(func=export)

    p = sub.add_parser(
        "disavow",
        parents=[mongo],
        help="a disavow file for DOMAIN in Google's format (domain: lines, URLs, # comments)",
        description="Write a file for Google Search Console's disavow links tool: `domain:` lines "
        "for the referring domains of DOMAIN whose authority (see `backlinks rank`) is at most "
        "--max-authority, plus every domain and URL of --domains FILE. Give at least one of them.",
    )
    p.add_argument("domain", metavar="DOMAIN", help="your domain, whose backlinks to disavow")
    p.add_argument("--max-authority", type=float, metavar="N",
                   help="disavow referring domains with authority <= N (unrated count as 0)")
    p.add_argument("--domains", metavar="FILE", help="domains (bare or domain:) and URLs to "
                   "disavow too, one a line, # comments; a previous disavow file works")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: standard output)")
    p.set_defaults(func=disavow)

    p = sub.add_parser(
        "rank",
        parents=[mongo],
        help="compute domain authority (0-100) from the stored link graph into `domains`",
        description="PageRank over the domain-level graph of live, followed, external links "
        "(an edge per referring domain -> target domain, weighted by distinct linking pages), "
        "scaled to 0-100 on a log scale: 0 for a domain nothing links to, 100 for the strongest. "
        "Replaces the `domains` collection (domain, authority, referring_domains, pagerank, "
        "computed_at). Run it after crawls; reports and exports show the latest.",
    )
    p.add_argument("--damping", type=float, default=0.85, help="PageRank damping factor (default: 0.85)")
    p.add_argument("--top", type=int, default=10, help="domains to print (default: 10; 0: none)")
    p.set_defaults(func=rank)

    cluster = argparse.ArgumentParser(add_help=False)  # what status and reset share
    cluster.add_argument("--redis-url", help="Redis of the distributed crawl "
                         "(default: the REDIS_URL setting or environment variable)")
    cluster.add_argument("--crawl", default="backlinks",
                         help="key prefix, the spider name (default: backlinks)")
    p = sub.add_parser(
        "status",
        parents=[cluster],
        help="show a distributed crawl: queue, leases, seen URLs, workers, pages/min, backlinks",
        description="Show the state of the distributed crawl in REDIS_URL: queued requests, "
        "in-flight leases, seen URLs, workers alive (heartbeats), pages per minute and, when "
        "MONGO_URI is set, backlinks stored.",
    )
    p.add_argument("--watch", action="store_true", help="refresh the view until Ctrl-C")
    p.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default: 2)")
    p.add_argument("--json", action="store_true", help="print JSON (one object a refresh)")
    p.set_defaults(func=status)

    p = sub.add_parser(
        "reset",
        parents=[cluster],
        help="delete a distributed crawl's Redis state (frontier, seen URLs, leases, robots cache)",
        description="Delete every Redis key of the distributed crawl, so the next crawl starts "
        "afresh. Workers never clear the shared frontier themselves; this is the only way. "
        "MongoDB is left alone.",
    )
    p.add_argument("--force", action="store_true", help="reset even while workers are alive")
    p.set_defaults(func=reset)
    args = parser.parse_args(argv)
    if args.command == "disavow" and args.max_authority is None and not args.domains:
        parser.error("disavow: give --max-authority N, --domains FILE, or both")
    from pymongo.errors import PyMongoError

    try:
        return args.func(args)
    except PyMongoError as exc:  # unreachable server, bad credentials: say so, no traceback
        print(f"backlinks {args.command}: MongoDB: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `backlinks export … | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
        return 1
    except OSError as exc:  # -o into a missing directory, an unreadable --domains file
        print(f"backlinks {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
