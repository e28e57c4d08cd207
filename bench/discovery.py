"""Backlinks found per page fetched: the focused site order against breadth-first.

Generates a web of ``--sites`` sites in ``--topics`` topical communities (each site one
topic, each page's text drawn from its topic's words; links mostly within the topic, some
across; which site a link goes to drawn by a power law, so in-degree is one too), where
the sites of topic 0 link to the ``--targets`` target sites far more often than the
others; the targets' own sites (a few pages each) are about topic 0 too. Serves it on
loopback through the proxy (in its own process), crawls the targets' own sites into the
store (as a user's store holds them: the focused order reads what they are about), and
crawls it with ``scrapy crawl backlinks -a expand=N`` from a few seeds, once in each order
(``DISCOVERY_ORDER=bfs`` and ``focused``), each to the end (equal budgets: the whole web
within N hops). Then reads, from each crawl's store, the backlinks into the targets
found against the pages fetched, in fetch order, and prints how many pages each order
needed for 80 % of all the backlinks the full crawl finds, and their ratio (the goal:
focused needs at most a third of breadth-first's). ``--plot FILE.png`` draws both curves.

``--graph FILE`` takes the link structure from an edge list instead (``source<TAB>target``
page ids, optionally .xz): LAW's ``cnr-2000`` (``../shared/data/cnr-2000/edges.tsv.xz``;
Boldi and Vigna, "The WebGraph Framework I: Compression Techniques", WWW 2004). It has
no host names, so each page stands for a site (``from_graph`` says how targets and
seeds are chosen). No text: the order works from in-degree, co-citation and hops.

    python bench/discovery.py [--sites 2000] [--expand 3] [--plot bench/discovery.png]
    python bench/discovery.py --graph ../shared/data/cnr-2000/edges.tsv.xz --expand 4 --targets 30
"""

from __future__ import annotations

import argparse
import bisect
import json
import lzma
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CRAWL_SETTINGS = {
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "BACKLINKS_REPORT": False,
    "MONGO_FLUSH_INTERVAL": 1,
}
SYLLABLES = "ka lo mi nu pe ra si to vu za be co di fa gu ha ji ke lu mo ne pi qu ro sa ti ve wo xi yu".split()


# -- the web ------------------------------------------------------------------------


@dataclass
class Site:
    host: str
    topic: int
    pages: list[list[tuple[int, int]]] = field(default_factory=list)  # page -> links (site, page)
    targets: list[set[int]] = field(default_factory=list)  # page -> target sites it links to


@dataclass
class Web:
    sites: list[Site]
    targets: list[str]  # target hosts
    seeds: list[int]
    words: list[list[str]]  # topic -> its words, most frequent first; [] when the web has no text
    target_pages: int = 0  # pages of each target's own site, on topic 0 (own_site crawls them first)

    def html(self, s: int, n: int) -> bytes:
        site = self.sites[s]
        rng = random.Random(s * 1_000_003 + n)
        parts = [f"<html><head><title>{site.host} {n}</title></head><body><main><h1>Page {n}</h1>"]
        if self.words:
            words = self.words[site.topic]
            weights = [1 / (k + 1) for k in range(len(words))]
            text = rng.choices(words, weights, k=80) + rng.choices(self.words[-1], k=20)
            parts.append(f"<p>{' '.join(text)}</p>")
        for t, m in site.pages[n]:
            path = "/" if m == 0 else f"/p/{m}"
            href = path if t == s else f"http://{self.sites[t].host}{path}"
            parts.append(f'<p><a href="{href}">more {m}</a></p>')
        for t in site.targets[n]:
            parts.append(f'<p>We use <a href="https://{self.targets[t]}/">{self.targets[t]}</a></p>')
        parts.append("</main></body></html>")
        return "".join(parts).encode()

    def target_html(self, k: int, n: int) -> bytes:
        """Page ``n`` of target ``k``'s own site: topic 0's subject, as the sites linking to it."""
        rng = random.Random(-(k * 1_000_003 + n) - 1)
        words = self.words[0]
        text = rng.choices(words, [1 / (j + 1) for j in range(len(words))], k=80) + rng.choices(self.words[-1], k=20)
        links = "".join(f'<p><a href="/p/{m}">more {m}</a></p>' for m in range(1, self.target_pages) if m != n)
        head = f"<html><head><title>{self.targets[k]} {n}</title></head><body><main><h1>Page {n}</h1>"
        return f'{head}<p>{" ".join(text)}</p><p><a href="/">home</a></p>{links}</main></body></html>'.encode()

    def host_index(self) -> dict[str, int]:
        return {site.host: i for i, site in enumerate(self.sites)}


def _words(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))))
    return sorted(out, key=lambda _: rng.random())


def synthetic(
    sites: int,
    topics: int,
    targets: int,
    seeds: int,
    seed: int,
    on_topic: float,
    off_topic: float,
    seed_topic: int,
    target_pages: int = 5,
) -> Web:
    """Topical communities, power-law in-degree, topic 0 linking to the targets."""
    rng = random.Random(seed)
    topic_of = [rng.randrange(topics) for _ in range(sites)]
    popularity = [1 / (rank + 1) ** 1.1 for rank in rng.sample(range(sites), sites)]  # Zipf, shuffled
    members = [[i for i in range(sites) if topic_of[i] == t] for t in range(topics)]
    cumulative = [_cumulative([popularity[i] for i in group]) for group in members]
    everyone = _cumulative(popularity)

    def pick(topic: int) -> int:
        if rng.random() < 0.85:  # within the topic
            group = members[topic]
            return group[bisect.bisect(cumulative[topic], rng.random() * cumulative[topic][-1])]
        return bisect.bisect(everyone, rng.random() * everyone[-1])

    web_sites = []
    for i in range(sites):
        n_pages = min(30, 2 + int(rng.paretovariate(1.6) * 3))
        site = Site(f"www.{_words(rng, 1)[0]}-{i}.com", topic_of[i])
        to_target = on_topic if topic_of[i] == 0 else off_topic
        for n in range(n_pages):
            links = [(i, (n + 1) % n_pages), (i, rng.randrange(n_pages)), (i, 0)]
            for _ in range(rng.randint(2, 6)):
                t = pick(topic_of[i])
                if t != i:
                    links.append((t, 0 if rng.random() < 0.6 else rng.randrange(1, 4)))
            site.pages.append(links)
            site.targets.append({rng.randrange(targets)} if rng.random() < to_target else set())
        web_sites.append(site)
    for site in web_sites:  # a link to a page a site does not have goes to its home page
        site.pages = [[(t, m if m < len(web_sites[t].pages) else 0) for t, m in links] for links in site.pages]
    topic_words = [_words(rng, 300) for _ in range(topics + 1)]  # the last: words every topic uses
    return Web(
        web_sites,
        [f"target-{k}.com" for k in range(targets)],
        rng.sample([i for i in range(sites) if seed_topic < 0 or topic_of[i] == seed_topic], seeds),
        topic_words,
        target_pages=target_pages,
    )


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def from_graph(path: str, expand: int, targets: int, skip: int, seeds: int, seed: int) -> Web:
    """A page graph served as a web of one-page sites (page n is ``http://cnr-n.com/``).

    The graph has no host names, and any grouping of pages into sites made up here would
    shape the result, so each page stands for a site. The targets are the ``targets``
    pages ranked just below the ``skip`` most linked-to; the seeds are drawn at random
    among the pages from which some page linking to a target is within ``expand - 1``
    links (elsewhere a crawl of ``expand`` hops would find no backlink at all)."""
    opener = lzma.open if path.endswith(".xz") else open
    out: dict[int, list[int]] = {}
    into: dict[int, list[int]] = {}
    edges = 0
    with opener(path, "rt") as lines:
        for line in lines:
            a, b = line.split()
            u, v = int(a), int(b)
            if u != v:
                out.setdefault(u, []).append(v)
                into.setdefault(v, []).append(u)
                edges += 1
    nodes = max(max(out), max(into)) + 1
    ranked = sorted(into, key=lambda v: (-len(into[v]), v))
    chosen = ranked[skip : skip + targets]
    target_of = {v: k for k, v in enumerate(chosen)}
    linkers = {u for v in chosen for u in into[v]}
    near = set(linkers)  # pages from which a linking page is within expand - 1 links
    frontier = list(linkers)
    for _ in range(expand - 1):
        frontier = [u for v in frontier for u in into.get(v, ()) if u not in near]
        near.update(frontier)
    rng = random.Random(seed)
    pool = sorted(near - linkers - set(chosen))
    web_sites = []
    for n in range(nodes):
        links = out.get(n, [])
        site = Site(f"www.cnr-{n}.com", 0)
        site.pages.append([(m, 0) for m in links if m not in target_of])
        site.targets.append({target_of[m] for m in links if m in target_of})
        web_sites.append(site)
    print(
        f"graph: {nodes} pages, {edges} links (self-links dropped), each page a site; targets: the pages "
        f"ranked {skip + 1}..{skip + targets} by in-degree ({[len(into[v]) for v in chosen]} links in); seeds "
        f"from the {len(pool)} pages within {expand - 1} links of a page linking to one"
    )
    return Web(web_sites, [f"cnr-{v}.com" for v in chosen], rng.sample(pool, seeds), [])


def serve(port_file: str, spec: dict) -> None:
    """The proxy, in its own process: every page generated on request."""
    from backlinkspider.demo.proxy import Response, WebProxy

    web = build(spec)
    hosts = web.host_index()

    targets = {host: k for k, host in enumerate(web.targets)} if web.target_pages else {}

    def resolve(host: str, path: str) -> Response | None:
        s = hosts.get(host)
        if s is None and host in targets:
            n = 0 if path == "/" else int(path[3:]) if path.startswith("/p/") and path[3:].isdigit() else -1
            if not 0 <= n < web.target_pages:
                return None
            return Response(200, web.target_html(targets[host], n), [("Content-Type", "text/html; charset=utf-8")])
        if s is None:
            return None
        if path == "/":
            n = 0
        elif path.startswith("/p/") and path[3:].isdigit():
            n = int(path[3:])
        else:
            return None
        if n >= len(web.sites[s].pages):
            return None
        return Response(200, web.html(s, n), [("Content-Type", "text/html; charset=utf-8")])

    proxy = WebProxy(resolve)
    Path(port_file).write_text(proxy.url)
    proxy.serve_forever()


def build(spec: dict) -> Web:
    if spec.get("graph"):
        return from_graph(spec["graph"], spec["expand"], spec["targets"], spec["skip"], spec["seeds"], spec["seed"])
    return synthetic(
        spec["sites"],
        spec["topics"],
        spec["targets"],
        spec["seeds"],
        spec["seed"],
        spec["on_topic"],
        spec["off_topic"],
        spec["seed_topic"],
        spec["target_pages"],
    )


# -- the crawls ---------------------------------------------------------------------


def crawl(order: str, web: Web, expand: int, mongo_uri: str, database: str, env: dict, settings: dict) -> float:
    seeds = ",".join(f"http://{web.sites[s].host}/" for s in web.seeds)
    started = time.perf_counter()
    _scrapy(seeds, web, ["-a", f"expand={expand}"], {**settings, "DISCOVERY_ORDER": order}, mongo_uri, database, env)
    return time.perf_counter() - started


def own_site(web: Web, mongo_uri: str, database: str, env: dict) -> None:
    """Crawl the targets' own sites into the store first: a user monitors their own site, and
    the expanding crawl reads what its pages are about (``backlinkspider.discovery``'s profile)
    from the store. Their pages come before the curve's and count the same in both orders."""
    _scrapy(",".join(f"http://{host}/" for host in web.targets), web, [], {}, mongo_uri, database, env)


def _scrapy(seeds: str, web: Web, arguments: list[str], settings: dict, mongo_uri: str, database: str, env: dict):
    """``scrapy crawl backlinks`` from ``seeds`` into the web's targets, into ``database``."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "backlinks", "-a", f"seeds={seeds}",
           "-a", f"targets={','.join(web.targets)}", *arguments]  # fmt: skip
    for name, value in {**CRAWL_SETTINGS, **settings}.items():
        cmd += ["-s", f"{name}={value}"]
    subprocess.run(cmd, cwd=ROOT, env={**env, "MONGO_URI": mongo_uri, "MONGO_DATABASE": database}, check=True)


def curve(db, targets: list[str]) -> tuple[list[int], set[tuple[str, str]]]:
    """Backlinks into the targets found after each page fetched, in fetch order; and which."""
    found: dict[str, set[tuple[str, str]]] = {}
    into = {"target_domain": {"$in": targets}, "source_domain": {"$nin": targets}}  # not a target's own links
    for row in db.backlinks.find(into, {"source_url": 1, "target_url": 1}):
        found.setdefault(row["source_url"], set()).add((row["source_url"], row["target_url"]))
    pages = sorted(db.pages.find({"status": 200}, {"url": 1, "fetched_at": 1}), key=lambda p: p["fetched_at"])
    total, points, seen = 0, [], set()
    for page in pages:
        links = found.get(page["url"], set())
        total += len(links)
        seen |= links
        points.append(total)
    return points, seen


def pages_to_reach(points: list[int], wanted: float) -> int | None:
    return next((k + 1 for k, y in enumerate(points) if y >= wanted), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=2000, help="sites in the generated web")
    parser.add_argument("--topics", type=int, default=10, help="topical communities; topic 0 links the targets")
    parser.add_argument("--targets", type=int, default=3, help="target sites")
    parser.add_argument("--seeds", type=int, default=4, help="seed sites, drawn at random")
    parser.add_argument("--expand", type=int, default=3, help="hops past the seeds (-a expand)")
    parser.add_argument("--seed", type=int, default=1, help="the random seed of the web")
    parser.add_argument("--seed-topic", type=int, default=-1, help="draw the seeds from this topic (-1: any)")
    parser.add_argument("--on-topic", type=float, default=0.25, help="share of topic 0's pages linking a target")
    parser.add_argument("--off-topic", type=float, default=0.002, help="share of other topics' pages linking one")
    parser.add_argument("--target-pages", type=int, default=5,
                        help="pages of each target's own site, crawled into the store first (0: none, the store "
                             "knows nothing of the targets)")  # fmt: skip
    parser.add_argument("--share", type=float, default=0.8, help="the share of the full crawl's backlinks to reach")
    parser.add_argument("--graph", help="an edge list (source<TAB>target page ids; .xz read as such)")
    parser.add_argument("--skip", type=int, default=2000, help="--graph: the targets are ranked below this many pages")
    parser.add_argument("--site-pages", type=int, default=100, help="DISCOVERED_SITE_PAGE_LIMIT (and for seeds)")
    parser.add_argument("--plot", help="draw both curves into this PNG")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = (
        "sites",
        "topics",
        "targets",
        "seeds",
        "seed",
        "seed_topic",
        "on_topic",
        "off_topic",
        "graph",
        "expand",
        "skip",
        "target_pages",
    )
    spec = {k: getattr(args, k) for k in names}
    spec["site_pages"] = args.site_pages
    if args.serve:
        serve(args.serve, spec)
        return

    from pymongo import MongoClient

    from backlinkspider.embedded import EmbeddedMongo

    web = build(spec)
    pages = sum(len(s.pages) for s in web.sites)
    linked = sum(bool(t) for s in web.sites for t in s.targets)
    print(f"web: {len(web.sites)} sites, {pages} pages, {linked} pages linking to {len(web.targets)} targets; "
          f"seeds {[web.sites[s].host for s in web.seeds]}; expand={args.expand}", flush=True)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="bench-discovery-"))
    mongo = EmbeddedMongo(tmp / "mongo")
    mongo_uri = mongo.start()
    port_file = tmp / "proxy"
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file), "--sites", str(args.sites),
                               "--topics", str(args.topics), "--targets", str(args.targets), "--seeds", str(args.seeds),
                               "--seed", str(args.seed), "--expand", str(args.expand), "--skip", str(args.skip),
                               "--on-topic", str(args.on_topic), "--off-topic", str(args.off_topic),
                               "--seed-topic", str(args.seed_topic), "--target-pages", str(args.target_pages),
                               "--site-pages", str(args.site_pages), *(["--graph", args.graph] if args.graph else [])],
                              stdout=subprocess.DEVNULL)  # fmt: skip
    try:
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.1)
        env = {**os.environ, "http_proxy": port_file.read_text()}
        env.pop("no_proxy", None)
        settings = {"SITE_PAGE_LIMIT": args.site_pages, "DISCOVERED_SITE_PAGE_LIMIT": args.site_pages}
        client = MongoClient(mongo_uri, tz_aware=True)
        curves, found = {}, {}
        for order in ("bfs", "focused"):
            if web.target_pages:  # the store knows the targets' own pages, as a user's does
                own_site(web, mongo_uri, f"discovery_{order}", env)
            elapsed = crawl(order, web, args.expand, mongo_uri, f"discovery_{order}", env, settings)
            curves[order], found[order] = curve(client[f"discovery_{order}"], web.targets)
            print(f"{order:>8}: {len(curves[order])} pages, {len(found[order])} backlinks in {elapsed:.0f} s",
                  flush=True)  # fmt: skip
        full = found["bfs"] | found["focused"]
        wanted = args.share * len(full)
        reach = {order: pages_to_reach(curves[order], wanted) for order in curves}
        print(f"the full crawl's backlinks: {len(full)}; {args.share:.0%} of them is {wanted:.0f}")
        for share in (0.25, 0.5, 0.8, 0.9, 1.0):
            row = [pages_to_reach(curves[o], share * len(full)) for o in ("bfs", "focused")]
            print(f"  pages for {share:>4.0%}: bfs {row[0]}, focused {row[1]}")
        if reach["bfs"] and reach["focused"]:
            ratio = reach["focused"] / reach["bfs"]
            print(f"pages to {args.share:.0%}: focused {reach['focused']} / bfs {reach['bfs']} = {ratio:.2f} "
                  f"(goal: at most 0.33)")  # fmt: skip
        print(json.dumps({"reach": reach, "pages": {o: len(c) for o, c in curves.items()}, "backlinks": len(full)}))
        if args.plot:
            plot(curves, len(full), args, Path(args.plot))
    finally:
        server.terminate()
        mongo.stop()


def plot(curves: dict[str, list[int]], full: int, args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), layout="constrained")
    labels = {"bfs": "breadth-first (DISCOVERY_ORDER=bfs)", "focused": "focused (default)"}
    for order, points in curves.items():
        ax.plot(range(1, len(points) + 1), points, label=labels[order])
    ax.axhline(args.share * full, color="grey", linestyle=":", label=f"{args.share:.0%} of the full crawl's backlinks")
    ax.set_xlabel("pages fetched")
    ax.set_ylabel("backlinks into the targets found")
    name = Path(args.graph).parent.name if args.graph else f"{args.sites} generated sites, {args.topics} topics"
    ax.set_title(f"Backlinks found per page fetched: {name}, expand={args.expand}")
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
