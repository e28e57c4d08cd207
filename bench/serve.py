"""Every route of ``backlinks serve`` on ``bench/store.py``'s 1,000,000-backlink store.

Starts ``backlinks serve`` (a child process, as users run it) on the store that
``bench/store.py`` generated (``--data``; run that first), then asks each page and
API route ``--repeat`` times for the largest target domain (88,094 backlinks) and a
median one, and prints p50, p95 and max of the time to the last byte, on loopback
(so server time, to a millisecond), with the routes over the issue's 300 ms marked.

    python bench/store.py --no-score        # once: generates the store (about 7 minutes)
    python bench/serve.py [--repeat 5] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymongo  # noqa: E402

from backlinkspider import store  # noqa: E402
from backlinkspider.embedded import EmbeddedMongo  # noqa: E402
from backlinkspider.store import summaries  # noqa: E402

GOAL_MS = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=900) as response:
        body = response.read()
        return (time.perf_counter() - started) * 1000, response.status, body


def routes(domain: str, cursor: str | None) -> list[str]:
    d = f"/d/{domain}"
    a = f"/api/v1/domains/{domain}"
    found = [
        d,
        f"{d}/backlinks",
        f"{d}/backlinks?status=lost&link_type=nofollow",
        f"{d}/backlinks?anchor=click",
        f"{d}/backlinks?one_per_domain=1",
        f"{d}/backlinks?sort=authority",
        f"{d}/backlinks?sort=relevance",
        f"{d}/backlinks?sort=first_seen&link_type=follow",
        f"{d}/referring-domains",
        f"{d}/referring-domains?page=3",
        f"{d}/anchors",
        f"{d}/pages",
        f"{d}/broken",
        f"{d}/events",
        f"{d}/disavow",
        f"{d}/disavow?q=site0",
        f"{a}/profile",
        f"{a}/backlinks",
        f"{a}/backlinks?status=live&placement=content&sort=first_seen",
        f"{a}/referring-domains",
        f"{a}/anchors",
        f"{a}/history",
        f"{a}/events",
    ]
    if cursor:
        found.insert(2, f"{d}/backlinks?cursor={cursor}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/tmp/backlinkspider-bench-store", help="bench/store.py's --data")
    parser.add_argument("--backlinks", type=int, default=1_000_000)
    parser.add_argument("--domains", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5, help="requests per route (default: 5)")
    args = parser.parse_args()

    server = EmbeddedMongo(args.data)
    uri = server.start()
    name = f"bench_{args.backlinks}_{args.domains}"
    with pymongo.MongoClient(uri) as client:
        meta = client[name]["bench_meta"].find_one({"_id": "per_target"})
    if meta is None:
        sys.exit(f"no store in {args.data}: run python bench/store.py --no-score first")
    ranked = sorted(Counter(meta["counts"]).items(), key=lambda kv: (-kv[1], kv[0]))
    largest, median = ranked[0], ranked[len(ranked) // 2]
    with pymongo.MongoClient(uri, tz_aware=True) as client:
        db = client[name]
        started = time.perf_counter()
        store.ensure_indexes(db)  # as a crawl does when it starts (a store from an older version gains some)
        print(f"indexes ensured in {time.perf_counter() - started:.1f} s")
        # What the end of a crawl leaves: the summaries of the domains it wrote, and the targets table.
        took = []
        for domain, _ in (largest, median):
            started = time.perf_counter()
            summaries.compute(db, domain)
            took.append(time.perf_counter() - started)
        started = time.perf_counter()
        summaries.save_targets(db, summaries.build_targets(db))
        took.append(time.perf_counter() - started)
    print(f"summaries computed (as a crawl's end does): largest domain {took[0]:.1f} s, median {took[1]:.2f} s, "
          f"targets table {took[2]:.1f} s")  # fmt: skip
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "BACKLINKS_UI_PASSWORD")}
    command = [sys.executable, "-m", "backlinkspider.cli", "serve", "--port", str(port), "--mongo-uri", uri]
    serving = subprocess.Popen([*command, "--database", name], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                fetch(base + "/api/v1/openapi.json")
                break
            except OSError:
                time.sleep(0.1)
        print(f"backlinks serve on {name}: {sum(meta['counts'].values()):,} backlinks, {len(ranked):,} target domains")
        print(f"{'route':<72} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'KiB':>7}")
        worst: list[tuple[float, str]] = []
        plan = [("all", ["/", "/api/v1/targets", "/crawl", "/api/v1/status"])]
        for label, (domain, n) in (("largest", largest), ("median", median)):
            first = json.loads(fetch(f"{base}/api/v1/domains/{domain}/backlinks")[2])
            plan.append((f"{label} {domain} ({n:,} backlinks)", routes(domain, first["next_cursor"])))
        for label, paths in plan:
            print(f"-- {label}")
            for path in paths:
                times, size = [], 0
                for _ in range(args.repeat):
                    took, status, body = fetch(base + path)
                    assert status == 200, (path, status)
                    times.append(took)
                    size = len(body)
                times.sort()
                p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
                worst.append((p95, path))
                mark = "" if p95 < GOAL_MS else "  > 300 ms"
                shown = path if len(path) <= 72 else path[:69] + "..."
                print(
                    f"{shown:<72} {statistics.median(times):9.0f} {p95:9.0f} {times[-1]:9.0f} {size / 1024:7.0f}{mark}"
                )
        over = [p for p95, p in worst if p95 >= GOAL_MS]
        print(f"routes under {GOAL_MS} ms at p95: {len(worst) - len(over)} of {len(worst)}")
    finally:
        serving.terminate()
        serving.wait(30)


if __name__ == "__main__":
    main()
