"""Reports and domain authority on a large store: 1,000,000 backlinks over 50,000 domains.

Generates (once; ``--data`` keeps it between runs) a store of ``--backlinks``
backlinks over ``--domains`` registered domains in SecantusDB, the embedded
server: target domains drawn Zipf-like (a few domains get most links, as on
the web), referring domains uniformly, 40 pages a domain, a year of first-seen
dates, 10% lost, 2% broken, and ``events`` for the last 60 days. Then:

* ``report`` (``store.profile``) of the largest target domain and of a median one,
  each pipeline's plan from ``explain()``: its index, keys and documents examined;
* ``backlinks rank`` end to end on that store (read the graph, PageRank, replace
  ``domains``), in a child process whose peak memory is measured;
* PageRank alone on a generated graph of ``--edges`` (1,000,000) edges, also in
  a child process;
* ``backlinks score`` end to end on that store, with a page for each referring
  and target page (``pages``: ``PAGE_TERMS_MEAN`` terms each on average, as real
  documentation pages have; 70% from the domain's topic, 30% from a Zipf
  vocabulary), in a child process whose peak memory is measured, against ``rank``.

    python bench/store.py [--backlinks 1000000] [--domains 50000] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymongo  # noqa: E402

from backlinkspider import store  # noqa: E402
from backlinkspider.embedded import EmbeddedMongo  # noqa: E402
from backlinkspider.store import summaries  # noqa: E402

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)
ANCHORS = [
    "acme tools",
    "click here",
    "best spade",
    "garden tools",
    "",
    "homepage",
    "review",
    "buy now",
    "this article",
    "source",
    "read more",
    "spades",
    "pruning shears",
]


def domain(i: int) -> str:
    return f"site{i:05d}.com"


def generate(db, backlinks: int, domains: int, seed: int = 1) -> Counter:
    """Fill ``db`` with the benchmark store; return backlinks per target domain."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(domains)]  # Zipf, s = 1
    popular = list(range(domains))
    rng.shuffle(popular)  # popularity unrelated to the name
    targets = rng.choices(popular, weights=weights, k=backlinks)
    per_target: Counter = Counter()
    seen: set = set()
    store.ensure_indexes(db)
    batch, events, made = [], [], 0
    started = time.monotonic()
    for t in targets:
        s = rng.randrange(domains)
        while s == t:
            s = rng.randrange(domains)
        source = f"http://www.{domain(s)}/p{rng.randrange(40)}"
        target = f"https://{domain(t)}/{rng.choice(['', 'spades', 'shears', 'blog/tips', 'about'])}"
        anchor = rng.choice(ANCHORS)
        if (source, target, anchor) in seen:
            continue
        seen.add((source, target, anchor))
        roll = rng.random()
        types = (
            ["follow"]
            if roll < 0.70
            else ["nofollow"]
            if roll < 0.90
            else ["nofollow", "ugc"]
            if roll < 0.95
            else ["sponsored"]
        )
        first = NOW - timedelta(days=rng.uniform(0, 365))
        doc = {
            "source_url": source,
            "target_url": target,
            "anchor": anchor,
            "source_host": f"www.{domain(s)}",
            "source_domain": domain(s),
            "target_host": domain(t),
            "target_domain": domain(t),
            "rel": [x for x in types if x != "follow"],
            "link_types": types,
            "kind": "text" if rng.random() < 0.85 else "image" if rng.random() < 0.9 else "redirect",
            "internal": False,
            "page_nofollow": False,
            "page_noindex": False,
            "failed_visits": 0,
            "first_seen": first,
            "last_seen": NOW - timedelta(days=rng.uniform(0, 7)),
            "target_status": 200,
            "broken": False,
        }
        if rng.random() < 0.02:
            doc.update(target_status=404, broken=True)
        if rng.random() < 0.10:
            doc.update(lost_at=first + (NOW - first) * rng.random(), lost_reason="link_removed")
        key = {
            k: doc[k] for k in ("source_url", "target_url", "anchor", "source_domain", "target_domain", "link_types")
        }
        if doc["first_seen"] > NOW - timedelta(days=60):
            events.append({"type": "new", "time": doc["first_seen"], **key})
        if doc.get("lost_at") and doc["lost_at"] > NOW - timedelta(days=60):
            events.append({"type": "lost", "time": doc["lost_at"], "reason": "link_removed", **key})
        batch.append(doc)
        per_target[domain(t)] += 1
        if len(batch) >= 10000:
            db[store.BACKLINKS].insert_many(batch, ordered=False)
            made += len(batch)
            batch = []
            print(
                f"\r  generated {made:,} backlinks ({made / (time.monotonic() - started):,.0f}/s)", end="", flush=True
            )
    if batch:
        db[store.BACKLINKS].insert_many(batch, ordered=False)
    for i in range(0, len(events), 10000):
        db[store.EVENTS].insert_many(events[i : i + 10000], ordered=False)
    print(
        f"\r  generated {sum(per_target.values()):,} backlinks and {len(events):,} events "
        f"in {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return per_target


PAGE_TERMS_MEAN = 150  # bench/extract.py: 152 a page on real documentation pages
VOCABULARY = 20_000
TOPICS = 50
TOPIC_TERMS = 300


def generate_pages(db, seed: int = 2) -> int:
    """A ``pages`` document with ``terms`` for each referring and target page of the store."""
    import numpy as np

    rng = np.random.default_rng(seed)
    db[store.PAGES].delete_many({})  # a run stopped halfway left some
    words = np.array([f"w{n:05d}" for n in range(VOCABULARY)])
    zipf = 1 / np.arange(1, VOCABULARY + 1)
    zipf /= zipf.sum()
    urls = set()  # a scan, not distinct(): the embedded server's distinct holds every value in memory
    for doc in db[store.BACKLINKS].find({}, {"_id": 0, "source_url": 1, "target_url": 1}, batch_size=10000):
        urls.add(doc["source_url"])
        urls.add(doc["target_url"])
    started, made, batch = time.monotonic(), 0, []
    for url in sorted(urls):
        host = url.split("/")[2]
        name = host.removeprefix("www.")
        topic = int(name[4:9]) % TOPICS
        n = int(min(200, max(10, rng.normal(PAGE_TERMS_MEAN, 40))))
        topical = rng.integers(topic * TOPIC_TERMS, (topic + 1) * TOPIC_TERMS, int(n * 0.7))
        common = rng.choice(VOCABULARY, n - len(topical), p=zipf)
        ids = np.unique(np.concatenate([topical, common]))
        counts = 1 + rng.geometric(0.4, len(ids))
        terms = dict(sorted(zip(words[ids].tolist(), counts.tolist(), strict=True), key=lambda kv: (-kv[1], kv[0])))
        batch.append(
            {"url": url, "host": host, "domain": name, "status": 200, "error": "", "words": int(rng.integers(80, 3000)),
             "external_links": int(rng.integers(2, 80)), "terms": terms}
        )  # fmt: skip
        if len(batch) >= 5000:
            db[store.PAGES].insert_many(batch, ordered=False)
            made += len(batch)
            batch = []
            print(f"\r  generated {made:,} pages ({made / (time.monotonic() - started):,.0f}/s)", end="", flush=True)
    if batch:
        db[store.PAGES].insert_many(batch, ordered=False)
        made += len(batch)
    print(f"\r  generated {made:,} pages in {time.monotonic() - started:.0f} s", flush=True)
    return made


def plan_of(db, collection: str, pipeline: list) -> str:
    """The plan's access path, keys and documents examined, from explain("executionStats")."""
    explained = db.command(
        "explain", {"aggregate": collection, "pipeline": pipeline, "cursor": {}}, verbosity="executionStats"
    )
    found: list = []
    examined = {"totalKeysExamined": 0, "totalDocsExamined": 0}

    def walk(node):
        if isinstance(node, dict):
            if node.get("stage") in ("IXSCAN", "COLLSCAN"):
                found.append(node["stage"] + (f" {node['indexName']}" if node.get("indexName") else ""))
            for key in examined:
                if isinstance(node.get(key), int):
                    examined[key] = max(examined[key], node[key])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(explained)
    named = [f for f in found if " " in f]  # executionStats repeats the stage without the index name
    return (
        f"{', '.join(dict.fromkeys(named or found))}; keys examined {examined['totalKeysExamined']:,}, "
        f"documents {examined['totalDocsExamined']:,}"
    )


def report(db, name: str, target: str, backlinks: int) -> bool:
    """Time ``store.profile`` of ``target``; print each pipeline's plan; True if all used an index."""
    for _attempt in range(2):  # the second run is the figure: the first warms the server's cache
        started = time.perf_counter()
        profile = store.profile(db, target, now=NOW)
        took = time.perf_counter() - started
    print(
        f"report {name:8s} {target}  {backlinks:>7,} backlinks  {took:6.2f} s   "
        f"({profile['referring_domains']['total']:,} referring domains, "
        f"{len(profile['top_anchors'])} top anchors)"
    )
    # What `backlinks report` reads since summaries: computed once (a crawl's end does), then read.
    started = time.perf_counter()
    summaries.compute(db, target)
    computed = time.perf_counter() - started
    started = time.perf_counter()
    same = summaries.profile(db, target, now=NOW) == profile
    print(f"    from its summary {time.perf_counter() - started:6.3f} s (computing it {computed:.1f} s); "
          f"the same profile: {'yes' if same else 'NO'}")  # fmt: skip
    indexed = True
    for label, collection, pipeline in (
        ("profile", store.BACKLINKS, store.profile_pipeline(target, 10)),
        ("changes", store.EVENTS, store.changes_pipeline(target, NOW)),
        ("authority", store.DOMAINS, store.authority_pipeline(target)),
    ):
        plan = plan_of(db, collection, pipeline)
        indexed = indexed and plan.startswith("IXSCAN") and "COLLSCAN" not in plan
        print(f"    {label:9s} {plan}")
    return indexed


def child_peak(cmd: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run ``cmd``; its wall time, peak RSS in MiB (ru_maxrss of the child), and its output."""
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    took = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the largest child so far
    return took, usage.ru_maxrss / 1024, done.stdout


PAGERANK_ONLY = """
import resource, sys, time
import numpy as np
from backlinkspider.rank import pagerank
edges, nodes = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(3)
# Zipf-like targets, uniform sources, as in the store
dst = np.minimum(rng.zipf(1.3, edges) - 1, nodes - 1)
src = rng.integers(0, nodes, edges)
weight = rng.integers(1, 5, edges).astype(float)
started = time.perf_counter()
ranking = pagerank([f"d{i}" for i in range(nodes)], src, dst, weight)
authority = ranking.authority()
took = time.perf_counter() - started
print(f"{took:.2f} {ranking.iterations} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


SCORE = """
import resource, sys
from backlinkspider.cli import main
code = main(["score"])
print(f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
sys.exit(code)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backlinks", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=50_000)
    parser.add_argument("--edges", type=int, default=1_000_000, help="edges of the PageRank-only graph")
    parser.add_argument(
        "--data",
        default="/tmp/backlinkspider-bench-store",
        help="SecantusDB data directory; a store generated there before is reused",
    )
    parser.add_argument("--no-score", action="store_true", help="leave out `backlinks score` (and its pages)")
    args = parser.parse_args()

    server = EmbeddedMongo(args.data)
    uri = server.start()
    client = pymongo.MongoClient(uri, tz_aware=True)
    name = f"bench_{args.backlinks}_{args.domains}"
    db = client[name]
    try:
        meta = db["bench_meta"].find_one({"_id": "per_target"})
        if meta is None:
            client.drop_database(name)
            print(f"Generating {args.backlinks:,} backlinks over {args.domains:,} domains into {args.data}")
            per_target = generate(db, args.backlinks, args.domains)
            db["bench_meta"].insert_one({"_id": "per_target", "counts": dict(per_target)})
        else:
            per_target = Counter(meta["counts"])
            print(f"Reusing the store in {args.data} ({sum(per_target.values()):,} backlinks)")
        ranked = sorted(per_target.items(), key=lambda kv: (-kv[1], kv[0]))
        largest = ranked[0]
        median = ranked[len(ranked) // 2]
        print(
            f"{len(per_target):,} target domains; backlinks per target: largest {largest[1]:,}, "
            f"median {median[1]:,}, mean {statistics.mean(per_target.values()):.1f}"
        )

        env = {**os.environ, "MONGO_URI": uri, "MONGO_DATABASE": name}
        db[store.SUMMARIES].drop()  # else `rank` computes again the summaries a bench/serve.py run left
        rank_took, rank_peak, out = child_peak([sys.executable, "-m", "backlinkspider.cli", "rank", "--top", "3"], env)
        print(f"rank     end to end {rank_took:6.1f} s   peak memory {rank_peak:6.0f} MiB   {out.splitlines()[0]}")

        indexed = report(db, "largest", *largest)
        indexed = report(db, "median", *median) and indexed

        took, peak, out = child_peak([sys.executable, "-c", PAGERANK_ONLY, str(args.edges), str(args.domains)])
        compute, iterations, own_peak = out.split()
        print(
            f"pagerank {args.edges:,} edges over {args.domains:,} nodes: {float(compute):.2f} s, "
            f"{iterations} iterations, peak memory {own_peak} MiB (process {took:.1f} s)"
        )
        print(
            f"targets: report queries from an index, no collection scan: {'yes' if indexed else 'NO'}; "
            f"rank under a minute: {rank_took:.1f} s; memory under 1 GiB: {rank_peak:.0f} MiB "
            f"(rank), {own_peak} MiB (PageRank of {args.edges:,} edges)"
        )
        if args.no_score:
            return
        if not db["bench_meta"].find_one({"_id": "pages"}):
            pages = generate_pages(db)
            db["bench_meta"].insert_one({"_id": "pages", "count": pages})
        pages = db["bench_meta"].find_one({"_id": "pages"})["count"]
        runs = {}
        for run in ("first", "again"):  # the first run writes every relevance; a second only what changed
            took, _, out = child_peak([sys.executable, "-c", SCORE], env)
            lines = out.strip().splitlines()
            runs[run] = (took, float(lines[-1].split()[1]))
            print(f"score ({run}) end to end {took:6.1f} s   peak memory {runs[run][1]:6.0f} MiB   {lines[0]}")
        first, again = runs["first"], runs["again"]
        print(
            f"targets: score at most 2x rank: {first[0] / rank_took:.2f}x first, {again[0] / rank_took:.2f}x again "
            f"({first[0]:.1f} s and {again[0]:.1f} s against {rank_took:.1f} s, {pages:,} pages with terms); "
            f"memory under 1 GiB: {max(first[1], again[1]):.0f} MiB"
        )
    finally:
        client.close()
        server.stop()


if __name__ == "__main__":
    main()
