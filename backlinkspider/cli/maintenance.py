"""``backlinks migrate``: bring a store written by an older version to the current form."""

from __future__ import annotations

import argparse
import json

from backlinkspider.cli.base import Command, open_store, store_options


class Migrate(Command):
    """Stores keep working across versions: the old URL form is rewritten, not duplicated."""

    name = "migrate"
    help = "rewrite a store written before URLs followed the WHATWG URL Standard (runs once by itself)"
    description = (
        "Rewrite every stored URL (backlinks, pages, events, and their hosts and domains) to the form "
        "browsers use (WHATWG URL Standard: no user-info, dot segments resolved, IDN hosts decoded, "
        "[ ] | { } left as written) and merge the documents that then share a key: earliest first_seen, "
        "latest last_seen, lost only if all were lost. The first crawl on an old store does it by itself; "
        "on a store already in the current form this does nothing unless --force."
    )

    def parents(self) -> list[argparse.ArgumentParser]:
        return [store_options()]

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--force", action="store_true", help="migrate even if the store is marked current")

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider import store

        with open_store(args) as db:
            if store.url_form_is_current(db) and not args.force:
                print("The store already holds the current URL form: nothing to do (--force to migrate anyway).")
                return 0
            counts = store.migrate_urls(db)
            store.mark_url_form_current(db)
        print("Migrated: " + json.dumps(counts))
        return 0
