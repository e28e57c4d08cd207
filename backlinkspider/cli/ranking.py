"""``backlinks rank``: domain authority from the stored link graph; ``backlinks score``: authority,
relevance and toxicity."""

from __future__ import annotations

import argparse

from backlinkspider.cli.base import Command, domain, non_negative, open_store, store_options


class Rank(Command):
    """PageRank over the store's domain graph, scaled 0-100, into ``domains``."""

    name = "rank"
    help = "compute domain authority (0-100) from the stored link graph into `domains`"
    description = (
        "PageRank over the domain-level graph of live, followed, external links "
        "(an edge per referring domain -> target domain, weighted by distinct linking pages), "
        "scaled to 0-100 on a log scale: 0 for a domain nothing links to, 100 for the strongest. "
        "Replaces the `domains` collection (domain, authority, referring_domains, pagerank, "
        "computed_at). Run it after crawls; reports and exports show the latest."
    )

    def parents(self):
        return [store_options()]

    def add_options(self, parser):
        parser.add_argument("--damping", type=float, default=0.85, help="PageRank damping factor (default: 0.85)")
        parser.add_argument("--top", type=non_negative, default=10, help="domains to print (default: 10; 0: none)")

    def check(self, parser, args):
        if not 0 < args.damping < 1:
            raise SystemExit("backlinks rank: --damping must be between 0 and 1")

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider import store
        from backlinkspider.store import summaries

        with open_store(args) as db:
            run = store.rank(db, damping=args.damping)
            refreshed = summaries.refresh(db, table=False)  # they hold their referring domains' authority
        ranking = run.ranking
        print(
            f"Ranked {len(ranking.nodes):,} domains over {ranking.edges:,} followed domain-to-domain "
            f"edges in {run.read + run.rank + run.store:.1f} s (reading the graph {run.read:.1f} s, "
            f"PageRank {run.rank:.2f} s in {ranking.iterations} iterations, storing {run.store:.1f} s); "
            "stored in the domains collection."
        )
        _print_refreshed(refreshed)
        order = sorted(range(len(ranking.nodes)), key=lambda i: (-ranking.pagerank[i], ranking.nodes[i]))
        for i in order[: args.top]:
            print(f"  {run.authority[i]:5.1f}  {ranking.nodes[i]}  ({ranking.referring[i]:,} referring domains)")
        return 0


class Score(Command):
    """Authority, relevance and toxicity in one pass over the store."""

    name = "score"
    help = "score backlinks: authority, relevance (0-100) and referring-domain toxicity with reasons"
    description = (
        "In one pass over the store: domain authority as `backlinks rank` computes it (into `domains`); "
        "`relevance` (0-100) and `relevance_basis` (page, domain or null) on each backlink into the targets, "
        "from TF-IDF cosines of the referring page with the target page and the target site "
        "(pages need `terms`: crawl with this version, and `-a crawl_targets=1` for the targets' own text); "
        "and the `referring_domains` collection, one document per target and referring domain with "
        "backlinks, live, followed, first_seen, last_seen, authority, relevance, toxicity (0-100) and "
        "toxic_reasons. Targets: the DOMAINs given, else those set with `backlinks target`, else every "
        "target domain in the store. Running it again rewrites the same values with a newer scored_at."
    )

    def parents(self):
        return [store_options()]

    def add_options(self, parser):
        parser.add_argument("domains", nargs="*", metavar="DOMAIN", help="target domains to score (default: see above)")
        parser.add_argument("--damping", type=float, default=0.85, help="PageRank damping factor (default: 0.85)")

    def check(self, parser, args):
        if not 0 < args.damping < 1:
            raise SystemExit("backlinks score: --damping must be between 0 and 1")

    def run(self, args: argparse.Namespace) -> int:
        from backlinkspider.store import summaries
        from backlinkspider.store.scoring import score

        names = [domain(d) for d in args.domains]
        with open_store(args) as db:
            run = score(db, names or None, damping=args.damping)
            refreshed = summaries.refresh(db, table=False)  # authority, toxicity and relevance changed
        took = sum(run.timings.values())
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.timings.items())
        print(
            f"Scored {run.backlinks:,} backlinks into {run.targets:,} target domain{'s' if run.targets != 1 else ''} "
            f"in {took:.1f} s ({steps}): relevance known for {run.relevance_known:,} ({run.updated:,} changed), "
            f"{run.referring_domains:,} referring domains, {run.toxic:,} with toxicity 60 or more; authority of "
            f"{len(run.ranking.nodes):,} domains over {run.ranking.edges:,} followed edges "
            f"(from {run.pages:,} pages' terms)."
        )
        _print_refreshed(refreshed)
        return 0


def _print_refreshed(done: dict) -> None:
    if done["summaries"]:
        print(f"Summaries of {done['summaries']:,} target domains computed again in {done['seconds']:.1f} s.")
