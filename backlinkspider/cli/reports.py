"""The commands that read a domain's backlinks out of the store: ``report``,
``export`` and ``disavow``. Every query is ``backlinkspider.store``'s."""

from __future__ import annotations

import argparse
import json
import sys

from backlinkspider.cli.base import (
    Command,
    domain,
    domain_argument,
    open_store,
    output,
    output_option,
    positive,
    store_options,
)


class Report(Command):
    """A domain's backlink profile: tables for people, JSON for machines, pipelines for mongosh."""

    name = "report"
    help = (
        "the backlink profile of DOMAIN: totals, link types, top referring domains, "
        "anchors and pages, new and lost, broken"
    )
    description = (
        "Print the backlink profile of DOMAIN from the store: backlinks, referring "
        "domains and pages (total, live, lost); live backlinks by link type (follow, nofollow, "
        "ugc, sponsored) and kind (text, image, redirect); top referring domains with their "
        "authority (see `backlinks rank`), top anchors, top linked pages; new and lost in the "
        "last 7 and 30 days; broken backlinks (see `backlinks check-targets`). Links inside "
        "DOMAIN's own site are not backlinks and are left out."
    )

    def parents(self):
        return [store_options()]

    def add_options(self, parser):
        domain_argument(parser)
        parser.add_argument("--top", type=positive, default=10, help="rows in each top list (default: 10)")
        parser.add_argument("--json", action="store_true", help="print the profile as JSON, for machines")
        parser.add_argument(
            "--chart",
            metavar="FILE.png",
            help="also draw referring domains and new/lost "
            "backlinks over time and the link-type split into FILE (PNG; .svg and .pdf work)",
        )
        parser.add_argument(
            "--pipelines",
            action="store_true",
            help="print the MongoDB aggregation pipelines behind the report, ready for mongosh, and query nothing",
        )

    def run(self, args: argparse.Namespace) -> int:
        from datetime import datetime, timezone

        from backlinkspider import store
        from backlinkspider.export import iso

        name = domain(args.domain)
        now = datetime.now(timezone.utc)
        if args.pipelines:
            print(mongosh(name, args.top, now))
            return 0
        with open_store(args) as db:
            profile = store.profile(db, name, top=args.top, now=now)
            if args.json:
                print(json.dumps(profile, default=iso, ensure_ascii=False, indent=2))
            else:
                from backlinkspider.terminal import print_profile

                print_profile(profile)
            if args.chart:
                from backlinkspider.charts import draw

                path = draw(profile, store.history(db, name), args.chart)
                print(f"Chart written to {path}", file=sys.stderr)
        if profile["backlinks"]["total"] == 0:
            print(f"backlinks: no backlinks into {name} in the store", file=sys.stderr)
        return 0


def mongosh(domain: str, top: int, now) -> str:
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
                facets = ",\n".join(
                    f"{indent}  {json.dumps(name)}: {js(sub, indent + '    ')}" for name, sub in stage["$facet"].items()
                )
                stages.append(f'{indent}{{"$facet": {{\n{facets}\n{indent}}}}}')
            else:
                stages.append(indent + value(stage))
        return "[\n" + ",\n".join(stages) + "\n" + indent[:-2] + "]"

    return "\n\n".join(
        [
            f"// The backlink profile of {domain}: every section in one pass over its backlinks",
            f"db.{store.BACKLINKS}.aggregate({js(store.profile_pipeline(domain, top))}, {{allowDiskUse: true}})",
            "// New, lost, recovered and link type changes of the last 30 and 7 days",
            f"db.{store.EVENTS}.aggregate({js(store.changes_pipeline(domain, now))})",
            "// Its own authority (backlinks rank)",
            f"db.{store.DOMAINS}.aggregate({js(store.authority_pipeline(domain))})",
        ]
    )


class Export(Command):
    """One row per backlink: the tracking sheet SEO teams keep, streamed."""

    name = "export"
    help = "one row per backlink into DOMAIN, as CSV or JSON Lines"
    description = (
        "Write every backlink into DOMAIN, most recently seen first, with the "
        "columns of a backlink tracking sheet: referring_page, referring_domain, "
        "domain_authority, target_url, anchor, link_type, kind, first_seen, last_seen, lost_at, "
        "lost_reason, target_status. Dates are ISO 8601 UTC."
    )

    def parents(self):
        return [store_options()]

    def add_options(self, parser):
        domain_argument(parser)
        parser.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="default: csv")
        state = parser.add_mutually_exclusive_group()
        state.add_argument("--live", action="store_true", help="only backlinks still there")
        state.add_argument("--lost", action="store_true", help="only lost backlinks")
        parser.add_argument(
            "--link-type",
            action="append",
            metavar="TYPE",
            help="only backlinks of this link type: follow, nofollow, ugc, sponsored "
            "(repeat or comma-separate for any of several)",
        )
        output_option(parser)

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider import store
        from backlinkspider.export import write_csv, write_jsonl

        name = domain(args.domain)
        live = True if args.live else False if args.lost else None
        types = sorted({t.strip() for value in args.link_type or () for t in value.split(",") if t.strip()})
        unknown = set(types) - set(store.LINK_TYPES)
        if unknown:
            raise SystemExit(
                f"backlinks export: unknown link type(s) {', '.join(sorted(unknown))}; "
                f"choose from {', '.join(store.LINK_TYPES)}"
            )
        with open_store(args) as db:
            rows = store.backlink_rows(db, name, live=live, link_types=types)
            with output(args.output) as out:
                n = (write_csv if args.format == "csv" else write_jsonl)(rows, out)
        print(f"Exported {n} backlinks into {name}" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
        return 0


class Disavow(Command):
    """A file for Google's disavow tool, from authority, a list, or both."""

    name = "disavow"
    help = "a disavow file for DOMAIN in Google's format (domain: lines, URLs, # comments)"
    description = (
        "Write a file for Google Search Console's disavow links tool: `domain:` lines "
        "for the referring domains of DOMAIN whose authority (see `backlinks rank`) is at most "
        "--max-authority, plus every domain and URL of --domains FILE. Give at least one of them."
    )

    def parents(self):
        return [store_options()]

    def add_options(self, parser):
        domain_argument(parser, help="your domain, whose backlinks to disavow")
        parser.add_argument(
            "--max-authority",
            type=float,
            metavar="N",
            help="disavow referring domains with authority <= N (unrated count as 0)",
        )
        parser.add_argument(
            "--domains",
            metavar="FILE",
            help="domains (bare or domain:) and URLs to "
            "disavow too, one a line, # comments; a previous disavow file works",
        )
        output_option(parser)

    def check(self, parser, args):
        if args.max_authority is None and not args.domains:
            parser.error("give --max-authority N, --domains FILE, or both")

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider import store
        from backlinkspider.export import DISAVOW_MAX_BYTES, DISAVOW_MAX_LINES, disavow_file, read_disavow_list

        name = domain(args.domain)
        listed_domains: set[str] = set()
        listed_urls: set[str] = set()
        if args.domains:
            with open(args.domains, encoding="utf-8-sig") as f:
                listed_domains, listed_urls = read_disavow_list(f)
        candidates = []  # only --max-authority needs the referring domains and their authority
        if args.max_authority is not None:
            with open_store(args) as db:
                if not store.has_authority(db):
                    raise SystemExit(
                        "backlinks disavow: no domain authority in the store yet; run `backlinks rank` first"
                    )
                candidates = store.referring_domain_authority(db, name)
        text = disavow_file(name, candidates, args.max_authority, listed_domains, listed_urls)
        with output(args.output) as out:
            out.write(text)
        size, lines = len(text.encode()), text.count("\n")
        if size > DISAVOW_MAX_BYTES or lines > DISAVOW_MAX_LINES:
            print(
                f"backlinks disavow: warning: {lines:,} lines, {size:,} bytes; Google accepts at most "
                f"{DISAVOW_MAX_LINES:,} lines and {DISAVOW_MAX_BYTES:,} bytes",
                file=sys.stderr,
            )
        return 0
