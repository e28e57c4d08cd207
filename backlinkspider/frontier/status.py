"""What ``backlinks status`` shows: the cluster's state, read in one round trip."""

from __future__ import annotations

import json
import time

from backlinkspider.display import visible
from backlinkspider.frontier.dupefilter import false_positive_rate
from backlinkspider.keys import RedisKeys


def cluster_status(server, prefix: str = "backlinks") -> dict:
    """Queue depth, leases, seen URLs, live workers and throughput of crawl ``prefix``."""
    seconds, micros = server.time()
    now_ms = seconds * 1000 + micros // 1000
    minute = now_ms // 60000
    keys = RedisKeys(prefix)
    pipe = server.pipeline(transaction=False)
    pipe.hgetall(keys.stats)
    pipe.zcard(keys.requests)
    pipe.llen(keys.start_urls)
    pipe.zrangebyscore(keys.workers, now_ms, "+inf")
    pipe.hgetall(keys.workers_info)
    pipe.zcount(keys.workers, "-inf", now_ms)
    pipe.get(keys.pages(minute))
    pipe.get(keys.pages(minute - 1))
    pipe.hmget(keys.dupefilter_params, "m", "k")
    pipe.smembers(keys.targets)
    pipe.hlen(keys.sites)
    pipe.zcard(keys.discovery)
    pipe.llen(keys.discovery_opened)
    (stats, hosts, start_urls, alive, info, dead, this_minute, last_minute, params, targets, sites, waiting, opened) = (
        pipe.execute()
    )
    stats = {k.decode(): int(v) for k, v in stats.items()}
    infos = {k.decode(): json.loads(v) for k, v in info.items()}
    # Pages in the last 60 s: this minute so far plus the unexpired part of the last one.
    into = (now_ms % 60000) / 60000
    per_minute = int(this_minute or 0) + int(last_minute or 0) * (1 - into)
    seen = stats.get("seen", 0)
    status = {
        "queued": stats.get("queued", 0),
        "hosts_queued": hosts,
        "start_urls": start_urls,
        "leased": stats.get("leased", 0),
        "seen_urls": seen,
        "duplicates": stats.get("duplicates", 0),
        "pages": stats.get("pages", 0),
        "pages_per_minute": round(per_minute),
        "workers_alive": len(alive),
        "workers_late": dead,
        "workers": {w.decode(): infos.get(w.decode(), {}) for w in alive},
        "sites": sites,
        "sites_waiting": waiting,  # expand: sites met, not yet opened
        "sites_opened": opened,
        "targets": sorted(t.decode() for t in targets),
        "time": time.time(),
    }
    if params[0]:
        m, k = int(params[0]), int(params[1])
        status["bloom"] = {
            "bits": m,
            "hashes": k,
            "bytes": m // 8,
            "false_positive_rate": false_positive_rate(m, k, seen),
        }
    return status


def format_status(status: dict, backlinks: int | None, sites: dict[str, int] | None = None) -> str:
    lines = [
        f"queued requests   {status['queued']:>12,}  ({status['hosts_queued']:,} hosts)",
        f"seeds waiting     {status['start_urls']:>12,}",
        f"in-flight leases  {status['leased']:>12,}",
        f"seen URLs         {status['seen_urls']:>12,}",
        f"pages fetched     {status['pages']:>12,}",
        f"pages per minute  {status['pages_per_minute']:>12,}",
        f"workers alive     {status['workers_alive']:>12,}"
        + (f"  ({status['workers_late']} late: their leases go back)" if status["workers_late"] else ""),
        f"backlinks stored  {backlinks:>12,}"
        if backlinks is not None
        else "backlinks stored             -  (set MONGO_URI to count them)",
    ]
    if status.get("sites_waiting") or status.get("sites_opened"):
        lines.append(f"sites to open     {status['sites_waiting']:>12,}  ({status['sites_opened']:,} opened so far)")
    if sites and any(sites.values()):  # a crawl of this store expanded (-a expand)
        others = ", ".join(f"{n:,} {state.replace('_', ' ')}" for state, n in sites.items() if n and state not in
                           ("queued", "done"))  # fmt: skip
        lines.append(f"sites queued      {sites['queued']:>12,}  (met by expanding, not yet crawled)")
        lines.append(f"sites done        {sites['done']:>12,}" + (f"  ({others})" if others else ""))
    if "bloom" in status:
        bloom = status["bloom"]
        lines.append(
            f"seen-set          {bloom['bytes'] / 2**20:>11.1f}M  (k={bloom['hashes']}, "
            f"false positives now {bloom['false_positive_rate']:.2e})"
        )
    lines.append(f"targets           {visible(', '.join(status['targets'])) or '(all external links)'}")
    for worker, info in sorted(status["workers"].items()):
        lines.append(f"  {worker:<36} leases {info.get('leases', 0):>5}  pages {info.get('pages', 0):>8,}")
    return "\n".join(lines)
