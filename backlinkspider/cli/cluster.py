"""The commands that look after a distributed crawl's Redis frontier: ``status`` and ``reset``."""

from __future__ import annotations

import argparse
import json
import sys
import time

from backlinkspider.cli.base import Command, cluster_options, settings, store_options


def _redis(found):
    from backlinkspider.frontier.connection import blocking_client, enabled

    if not enabled(found):
        raise SystemExit(
            "backlinks: REDIS_URL is not set (environment or --redis-url): there is no distributed crawl to look at"
        )
    return blocking_client(found)


def _backlinks_count(found) -> int | None:
    if not found.get("MONGO_URI"):
        return None  # never start the embedded server just to count
    from backlinkspider import store

    with store.database(found) as db:
        return store.backlinks_count(db)


def _site_counts(found) -> dict[str, int] | None:
    """Sites an expanding crawl met, by state (``sites``); None without MONGO_URI."""
    if not found.get("MONGO_URI"):
        return None
    from backlinkspider import store

    with store.database(found) as db:
        return store.site_counts(db)


class Status(Command):
    """The cluster at a glance, or live (``--watch``), or for monitoring (``--json``)."""

    name = "status"
    help = "show a distributed crawl: queue, leases, seen URLs, workers, pages/min, backlinks"
    description = (
        "Show the state of the distributed crawl in REDIS_URL: queued requests, "
        "in-flight leases, seen URLs, workers alive (heartbeats), pages per minute and, when "
        "MONGO_URI is set, backlinks stored and the sites an expanding crawl (-a expand) met, "
        "queued and done."
    )

    def parents(self):
        return [cluster_options(), store_options()]

    def add_options(self, parser):
        parser.add_argument("--watch", action="store_true", help="refresh the view until Ctrl-C")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default: 2)")
        parser.add_argument("--json", action="store_true", help="print JSON (one object a refresh)")

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider.frontier.status import cluster_status, format_status

        found = settings(args)
        server = _redis(found)
        while True:
            state = cluster_status(server, args.crawl)
            backlinks = _backlinks_count(found)
            sites = _site_counts(found)
            if args.json:
                print(json.dumps({**state, "backlinks_stored": backlinks, "discovered_sites": sites}), flush=True)
            else:
                if args.watch:
                    print("\x1b[H\x1b[2J", end="")  # home, clear: a live view
                print(format_status(state, backlinks, sites), flush=True)
            if not args.watch:
                return 0
            try:
                time.sleep(args.interval)
            except KeyboardInterrupt:
                return 0


class Reset(Command):
    """The only way a crawl's shared frontier is cleared: workers never wipe it."""

    name = "reset"
    help = "delete a distributed crawl's Redis state (frontier, seen URLs, leases, robots cache)"
    description = (
        "Delete every Redis key of the distributed crawl, so the next crawl starts "
        "afresh. Workers never clear the shared frontier themselves; this is the only way. "
        "MongoDB is left alone."
    )

    def parents(self):
        return [cluster_options()]

    def add_options(self, parser):
        parser.add_argument("--force", action="store_true", help="reset even while workers are alive")

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider.frontier.queue import clear
        from backlinkspider.frontier.status import cluster_status

        server = _redis(settings(args))
        alive = cluster_status(server, args.crawl)["workers_alive"]
        if alive and not args.force:
            print(
                f"backlinks reset: {alive} worker(s) are still crawling {args.crawl!r}; stop them "
                "first, or pass --force",
                file=sys.stderr,
            )
            return 1
        deleted = clear(server, args.crawl)
        print(f"Deleted {deleted} Redis keys of crawl {args.crawl!r}; MongoDB is untouched.")
        return 0
