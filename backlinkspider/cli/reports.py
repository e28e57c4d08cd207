"""The commands that read a domain's backlinks out of the store: ``report``,
``export``, ``target``, ``audit`` and ``disavow``. Every query is ``backlinkspider.store``'s."""

from __future__ import annotations

import argparse
import json
import sys

from backlinkspider.cli.base import (
    Command,
    commas,
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
        "ugc, sponsored), kind (text, image, redirect) and placement (content, nav, header, footer, "
        "aside, comment; unknown for backlinks stored before placements were), hidden and "
        "sitewide backlinks; anchors by category (see `backlinks target`); languages of the "
        "referring pages; top referring domains with their "
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

        from backlinkspider.export import iso
        from backlinkspider.store import summaries

        name = domain(args.domain)
        now = datetime.now(timezone.utc)
        if args.pipelines:
            print(mongosh(name, args.top, now))
            return 0
        with open_store(args) as db:
            # The domain's summary, computed now if stale (store/summaries.py): the same profile.
            profile = summaries.profile(db, name, top=args.top, now=now)
            if args.json:
                print(json.dumps(profile, default=iso, ensure_ascii=False, indent=2))
            else:
                from backlinkspider.terminal import print_profile

                print_profile(profile)
            if args.chart:
                from backlinkspider.charts import draw

                path = draw(profile, summaries.history(db, name), args.chart)
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
        "lost_reason, target_status, placement, hidden, sitewide, anchor_category, context_before, "
        "context_after, referring_page_title, referring_page_language, referring_page_external_links. "
        "Dates are ISO 8601 UTC. Filters combine: every row passes all of them."
    )

    def parents(self):
        return [store_options()]

    def add_options(self, parser):
        domain_argument(parser)
        parser.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="default: csv")
        parser.add_argument(
            "--spreadsheet-safe",
            action="store_true",
            help="CSV for a spreadsheet: cells starting with = + - @, a tab or a carriage return get a leading ' "
            "so that no anchor runs as a formula (off: the data round-trips)",
        )
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
        parser.add_argument(
            "--placement",
            action="append",
            metavar="P[,P…]",
            help="only backlinks placed in: content, nav, header, footer, aside, comment, or unknown "
            "(stored before placements were); repeat or comma-separate",
        )
        parser.add_argument("--follow-only", action="store_true", help="only followed backlinks (link type follow)")
        parser.add_argument("--no-hidden", action="store_true", help="leave out backlinks a reader cannot see")
        parser.add_argument(
            "--one-per-domain",
            action="store_true",
            help="only the best backlink of each referring domain (followed, in the content, visible, "
            "then oldest), highest authority first",
        )
        parser.add_argument(
            "--min-relevance",
            type=float,
            metavar="N",
            help="only backlinks with relevance >= N (0-100, see `backlinks score`; unscored ones are left out)",
        )
        parser.add_argument(
            "--max-toxicity",
            type=float,
            metavar="N",
            help="only backlinks whose referring domain has toxicity <= N (0-100; unscored ones are left out)",
        )
        output_option(parser)

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider import store
        from backlinkspider.export import write_csv, write_jsonl

        name = domain(args.domain)
        live = True if args.live else False if args.lost else None
        types = listed("link type", args.link_type, store.LINK_TYPES)
        placements = listed("placement", args.placement, (*store.PLACEMENTS, "unknown"))
        with open_store(args) as db:
            rows = store.backlink_rows(
                db,
                name,
                live=live,
                link_types=types,
                placements=placements,
                follow_only=args.follow_only,
                no_hidden=args.no_hidden,
                one_per_domain=args.one_per_domain,
                min_relevance=args.min_relevance,
                max_toxicity=args.max_toxicity,
            )
            with output(args.output) as out:
                if args.format == "csv":
                    n = write_csv(rows, out, spreadsheet_safe=args.spreadsheet_safe)
                else:
                    n = write_jsonl(rows, out)
        print(f"Exported {n} backlinks into {name}" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
        return 0


#: a followed content backlink at least this relevant keeps its domain out of ``disavow --toxic``
RELEVANT = 50


def toxic_candidates(db, name: str, min_toxicity: float, include_relevant: bool) -> list[dict]:
    """The referring domains ``disavow --toxic`` lists: toxic enough, and not relevant content links."""
    from backlinkspider.store.audit import toxic_domains
    from backlinkspider.store.scoring import scored_at

    if scored_at(db) is None:
        raise SystemExit("backlinks disavow: the store was never scored; run `backlinks score` first")
    found = toxic_domains(db, name, min_toxicity)
    if include_relevant:
        return found
    return [d for d in found if (d.get("content_relevance") or 0) < RELEVANT]


def listed(what: str, values: list[str] | None, allowed) -> list[str]:
    """The comma-separated, repeatable values of an option, each one of ``allowed``."""
    found = sorted(commas(*(values or ())))
    unknown = set(found) - set(allowed)
    if unknown:
        raise SystemExit(
            f"backlinks export: unknown {what}(s) {', '.join(sorted(unknown))}; choose from {', '.join(allowed)}"
        )
    return found


class Target(Command):
    """A target domain's brand names and keywords: what sorts its anchors into categories."""

    name = "target"
    help = "show or set the brand names and keywords of a target DOMAIN (anchor categories)"
    description = (
        "Print the brand names and keywords of DOMAIN, or set them with --brand and --keywords. "
        "Reports and exports sort anchors into categories with them, when they are read: image, "
        "empty, naked_url, branded (contains a brand name), exact_match (is a keyword), "
        "partial_match (contains one), generic (click here, read more… in eight languages), other. "
        "A domain never set has brand names read from its name (acme-tools.com: acme tools, "
        "acmetools, acme-tools) and no keywords. Changing them needs no recrawl."
    )

    def parents(self):
        return [store_options()]

    def add_options(self, parser):
        domain_argument(parser, help="the target domain")
        parser.add_argument(
            "--brand", metavar="NAME[,NAME…]", help='brand names, e.g. "Acme,Acme Tools" ("": the default)'
        )
        parser.add_argument(
            "--keywords", metavar="KW[,KW…]", help='keywords, e.g. "cordless drill,garden shears" ("": none)'
        )
        parser.add_argument("--json", action="store_true", help="print as JSON")

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider import store
        from backlinkspider.export import iso

        name = domain(args.domain)

        with open_store(args) as db:
            if args.brand is not None or args.keywords is not None:
                brand = None if args.brand is None else commas(args.brand)
                keywords = None if args.keywords is None else commas(args.keywords)
                found = store.set_target(db, name, brand=brand, keywords=keywords)
                store.refresh_summaries(db, [name], table=False)  # its anchor categories, if summarized
            else:
                found = store.target(db, name)
        if args.json:
            print(json.dumps(found, default=iso, ensure_ascii=False, indent=2))
        else:
            print(f"target:   {found['domain']}")
            print(f"brand:    {', '.join(found['brand'])}")
            print(f"keywords: {', '.join(found['keywords']) or '(none)'}")
        return 0


class Audit(Command):
    """Which backlinks are worth having, and which referring domains are toxic and why."""

    name = "audit"
    help = "relevance and toxicity of DOMAIN's backlinks (after `backlinks score`)"
    description = (
        "From the last `backlinks score`: live backlinks of DOMAIN counted in relevance bands and its "
        "referring domains in toxicity bands, the most relevant followed content backlinks, the most "
        "toxic referring domains with their reasons, and the share of the profile each reason touches."
    )

    def parents(self):
        return [store_options()]

    def add_options(self, parser):
        domain_argument(parser)
        parser.add_argument("--top", type=positive, default=20, help="rows in each top list (default: 20)")
        parser.add_argument("--json", action="store_true", help="print the audit as JSON, for machines")

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider.export import iso
        from backlinkspider.store.audit import audit
        from backlinkspider.store.scoring import scored_at

        name = domain(args.domain)
        with open_store(args) as db:
            if scored_at(db) is None:
                raise SystemExit("backlinks audit: the store was never scored; run `backlinks score` first")
            found = audit(db, name, top=args.top)
        if args.json:
            print(json.dumps(found, default=iso, ensure_ascii=False, indent=2))
        else:
            from rich.console import Console

            from backlinkspider.terminal import render_audit

            Console().print(render_audit(found))
        if not found["live_backlinks"] and not found["referring_domains"]:
            print(f"backlinks: no scored backlinks into {name} in the store", file=sys.stderr)
        return 0


class Disavow(Command):
    """A file for Google's disavow tool, from authority, a list, or both."""

    name = "disavow"
    help = "a disavow file for DOMAIN in Google's format (domain: lines, URLs, # comments)"
    description = (
        "Write a file for Google Search Console's disavow links tool: `domain:` lines "
        "for the referring domains of DOMAIN whose authority (see `backlinks rank`) is at most "
        "--max-authority, those whose toxicity (see `backlinks score`) is at least --min-toxicity "
        "with --toxic, each under a `#` comment with its score and reasons, plus every domain and "
        "URL of --domains FILE. Give at least one of them. --toxic never lists a domain with a "
        "followed content backlink of relevance 50 or more, unless --include-relevant is given."
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
        parser.add_argument(
            "--toxic", action="store_true", help="disavow referring domains by toxicity (needs `backlinks score`)"
        )
        parser.add_argument(
            "--min-toxicity",
            type=float,
            default=60,
            metavar="N",
            help="with --toxic: the least toxicity to disavow (default: 60)",
        )
        parser.add_argument(
            "--include-relevant",
            action="store_true",
            help="with --toxic: disavow toxic domains even when they have a followed content backlink "
            f"of relevance >= {RELEVANT}",
        )
        output_option(parser)

    def check(self, parser, args):
        if args.max_authority is None and not args.domains and not args.toxic:
            parser.error("give --max-authority N, --toxic, --domains FILE, or several")

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
        toxic: list[dict] = []
        if args.max_authority is not None or args.toxic:
            with open_store(args) as db:
                if args.max_authority is not None:
                    if not store.has_authority(db):
                        raise SystemExit(
                            "backlinks disavow: no domain authority in the store yet; run `backlinks rank` first"
                        )
                    candidates = store.referring_domain_authority(db, name)
                if args.toxic:
                    toxic = toxic_candidates(db, name, args.min_toxicity, args.include_relevant)
        text = disavow_file(name, candidates, args.max_authority, listed_domains, listed_urls, toxic=toxic)
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
