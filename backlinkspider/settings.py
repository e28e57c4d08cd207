"""Every setting of backlinkspider, in one place.

Our own settings can be overridden from the environment under the same name
(``MONGO_URI=… scrapy crawl backlinks``), which is how containers and CI
configure a crawl; ``-s NAME=value`` on the command line still wins over both.
Scrapy's own settings keep Scrapy's usual ways (``-s``, ``custom_settings``).
"""

import os
from pathlib import Path

from backlinkspider import __version__


def _env(name, default):
    """The environment's value for ``name``, cast to the type of ``default``."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


BOT_NAME = "backlinkspider"
SPIDER_MODULES = ["backlinkspider.spiders"]
NEWSPIDER_MODULE = "backlinkspider.spiders"
# `scrapy crawl` with an exit status that says whether everything reached the store.
COMMANDS_MODULE = "backlinkspider.commands"

# --- Identity: site owners must be able to tell who crawls them and how to reach us.
BOT_CONTACT_URL = _env("BOT_CONTACT_URL", "https://github.com/backlinkspider/backlinkspider")
USER_AGENT = _env("USER_AGENT", f"Mozilla/5.0 (compatible; backlinkspider/{__version__}; +{BOT_CONTACT_URL})")
ROBOTSTXT_OBEY = _env("ROBOTSTXT_OBEY", True)
# robots.txt read as Google reads it (its own parser), groups matched with our product
# token: what site owners write in "User-agent:" to block or slow this crawler.
ROBOTSTXT_PARSER = "backlinkspider.robots_txt.GoogleRobotParser"
ROBOTSTXT_USER_AGENT = _env("ROBOTSTXT_USER_AGENT", BOT_NAME)
# A robots.txt that fails (5xx, timeout, refused, DNS): its host's pages wait this many
# seconds for another try, at most this many tries a crawl, then are not visited.
ROBOTS_ERROR_RETRY = _env("ROBOTS_ERROR_RETRY", 600.0)
ROBOTS_ERROR_TRIES = _env("ROBOTS_ERROR_TRIES", 3)
# A robots.txt failing for this many seconds, across crawls, is read as absent (no rules),
# as RFC 9309 allows after "a reasonably long period"; 0: never.
ROBOTS_ERROR_ABSENT_AFTER = _env("ROBOTS_ERROR_ABSENT_AFTER", 30 * 86_400.0)

# --- Politeness: a handful of parallel requests per site, adapted to its latency.
CONCURRENT_REQUESTS = _env("CONCURRENT_REQUESTS", 32)
CONCURRENT_REQUESTS_PER_DOMAIN = _env("CONCURRENT_REQUESTS_PER_DOMAIN", 4)
DOWNLOAD_DELAY = _env("DOWNLOAD_DELAY", 0.25)
AUTOTHROTTLE_ENABLED = _env("AUTOTHROTTLE_ENABLED", True)
AUTOTHROTTLE_START_DELAY = _env("AUTOTHROTTLE_START_DELAY", 1.0)
AUTOTHROTTLE_MAX_DELAY = _env("AUTOTHROTTLE_MAX_DELAY", 30.0)
AUTOTHROTTLE_TARGET_CONCURRENCY = _env("AUTOTHROTTLE_TARGET_CONCURRENCY", 2.0)

# --- Scope: how much of each seed site to walk.
# Pages requested per site (a seed's registered domain); 0 = no cap.
SITE_PAGE_LIMIT = _env("SITE_PAGE_LIMIT", 10_000)
DEPTH_LIMIT = _env("DEPTH_LIMIT", 0)
# -a expand=N (backlinkspider.discovery): sites met in links, up to N hops from a seed,
# are crawled too, each up to this many pages, best first (focused) or as met (bfs).
DISCOVERED_SITE_PAGE_LIMIT = _env("DISCOVERED_SITE_PAGE_LIMIT", 100)
DISCOVERY_ORDER = _env("DISCOVERY_ORDER", "focused")
DISCOVERY_COCITATION_BOOST = _env("DISCOVERY_COCITATION_BOOST", 4.0)  # linked from a page that links a target
DISCOVERY_RELEVANCE_BOOST = _env("DISCOVERY_RELEVANCE_BOOST", 8.0)  # × the linking page's cosine to the targets
DISCOVERY_REACH_BOOST = _env("DISCOVERY_REACH_BOOST", 1.0)  # per hop a site is short of expand
DISCOVERY_INDEGREE_WEIGHT = _env("DISCOVERY_INDEGREE_WEIGHT", 0.1)  # times ln(distinct linking sites)
# The next waiting site opens when fewer requests than this are queued or in flight
# (0: CONCURRENT_REQUESTS): late enough to choose with the most evidence, early enough
# to keep the downloader busy.
DISCOVERY_OPEN_BELOW = _env("DISCOVERY_OPEN_BELOW", 0)
# Honour a page-level robots nofollow for following too, as polite crawlers do;
# its links are recorded either way.
FOLLOW_PAGE_NOFOLLOW = _env("FOLLOW_PAGE_NOFOLLOW", False)
DEPTH_PRIORITY = 1  # breadth-first within a site: the pages nearest the seed first
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# --- Monitoring: a recrawl marks backlinks lost. A page that fails (5xx, no
# answer) this many visits in a row loses its backlinks with reason page_error.
LOST_AFTER_FAILED_VISITS = _env("LOST_AFTER_FAILED_VISITS", 3)
# Sitewide backlinks (store/sitewide.py): a referring domain linking to a target from at
# least this share of its crawled HTML pages, and from at least this many of them.
SITEWIDE_SHARE = _env("SITEWIDE_SHARE", 0.5)
SITEWIDE_MIN_PAGES = _env("SITEWIDE_MIN_PAGES", 10)
# Terms kept per page (backlinkspider/terms.py), the most frequent of its main text:
# what `backlinks score` judges relevance by. 0 turns term counting off.
PAGE_TERMS = _env("PAGE_TERMS", 200)
# follow_redirects_to_targets: external links resolved (HEAD) per crawl process, remembered.
REDIRECT_CHECK_CACHE = _env("REDIRECT_CHECK_CACHE", 100_000)

# --- Bad input: bounded downloads, bounded waits, every outcome reaches the spider.
DOWNLOAD_TIMEOUT = _env("DOWNLOAD_TIMEOUT", 30)
DOWNLOAD_MAXSIZE = _env("DOWNLOAD_MAXSIZE", 10 * 1024 * 1024)  # pages bigger than this are skipped
DOWNLOAD_WARNSIZE = _env("DOWNLOAD_WARNSIZE", 2 * 1024 * 1024)
RETRY_TIMES = _env("RETRY_TIMES", 2)
RETRY_AFTER_MAX = _env("RETRY_AFTER_MAX", 600.0)  # seconds: the longest Retry-After honoured as asked
REDIRECT_MAX_TIMES = _env("REDIRECT_MAX_TIMES", 10)
# Scrapy starts this many tasks for every response to process what its callback yields;
# ours yields one page item and its requests, and the store pipeline only waits under
# back-pressure. Scrapy's 100 cost a third of the crawler's CPU a page (bench/crawl.py).
CONCURRENT_ITEMS = 4
HTTPERROR_ALLOW_ALL = True  # 4xx/5xx pages are recorded in `pages`, not silently dropped
COOKIES_ENABLED = False  # a link crawler has no session to keep
TELNETCONSOLE_ENABLED = False

# --- Safety on the open web (backlinkspider.guard): pages nobody here controls must not
# make the crawler reach into the network it runs in.
ALLOW_PRIVATE_NETWORKS = _env("ALLOW_PRIVATE_NETWORKS", False)
# Comma-separated CIDRs and host names an intranet crawl may reach (10.0.0.0/8,wiki.corp).
PRIVATE_NETWORK_ALLOWLIST = _env("PRIVATE_NETWORK_ALLOWLIST", "")
TWISTED_DNS_RESOLVER = "backlinkspider.guard.GuardedResolver"  # checks what names resolve to
# Crawler traps (backlinkspider.traps): URLs longer than this are not followed…
MAX_URL_LENGTH = _env("MAX_URL_LENGTH", 2048)
# …nor more than this many distinct query strings of one path (an endless calendar).
MAX_QUERY_VARIANTS = _env("MAX_QUERY_VARIANTS", 200)

# --- Components.
ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.classify.ClassifyPipeline": 200,
    "pipelines.mongo.MongoPipeline": 300,
}
DOWNLOADER_MIDDLEWARES = {
    # First of all: a request to a host that is not a public address never leaves.
    "backlinkspider.guard.PrivateNetworkMiddleware": 50,
    # Before RetryMiddleware (550) in response order: a retry waits for the host's Retry-After.
    "backlinkspider.backoff.RetryAfterMiddleware": 560,
    # robots.txt fetch errors as RFC 9309 reads them, in Scrapy's own slot.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "backlinkspider.robots_errors.RFC9309RobotsTxtMiddleware": 100,
    # Responses pass middlewares in decreasing priority, so at 650 its process_response
    # runs before RedirectMiddleware's (600): it marks off-site redirects dont_redirect
    # in time, and they reach the spider as 3xx responses.
    "backlinkspider.redirects.SiteRedirectMiddleware": 650,
}
EXTENSIONS = {
    "backlinkspider.redact.RedactLogs": 0,  # credentials never reach the log
    "backlinkspider.report.CrawlReport": 500,
}

# --- Storage.
# Empty MONGO_URI: start the embedded SecantusDB server (pip install 'backlinkspider[embedded]').
MONGO_URI = _env("MONGO_URI", "")
MONGO_DATABASE = _env("MONGO_DATABASE", "backlinks")
MONGO_BATCH_PAGES = _env("MONGO_BATCH_PAGES", 200)  # flush after this many pages…
MONGO_BATCH_OPS = _env("MONGO_BATCH_OPS", 20_000)  # …or this many buffered writes…
MONGO_FLUSH_INTERVAL = _env("MONGO_FLUSH_INTERVAL", 5.0)  # …or this many seconds
MONGO_MAX_PENDING_BATCHES = _env("MONGO_MAX_PENDING_BATCHES", 4)  # back-pressure
MONGO_WRITE_RETRIES = _env("MONGO_WRITE_RETRIES", 5)  # a write the store refuses (not an outage)
# MongoDB unreachable: batches wait and are retried this long (seconds), then the crawl
# ends and what was not stored is kept in SPILL_DIR for the next crawl of the store.
MONGO_OUTAGE_TIMEOUT = _env("MONGO_OUTAGE_TIMEOUT", 3600.0)
_data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
EMBEDDED_MONGO_DIR = _env("EMBEDDED_MONGO_DIR", str(_data_home / "backlinkspider" / "mongo"))
SPILL_DIR = _env("SPILL_DIR", str(_data_home / "backlinkspider" / "spill"))  # pipelines/spill.py
# -a max_pages=N (Scrapy's CLOSESPIDER_PAGECOUNT) on one machine keeps the frontier in
# a JOBDIR under here (unless -s JOBDIR=… names one), so the same command goes on from
# where the budget ran out; a crawl that finishes removes it.
CRAWL_STATE_DIR = _env("CRAWL_STATE_DIR", str(_data_home / "backlinkspider" / "jobs"))

# --- Distributed mode (backlinkspider.frontier): set REDIS_URL and start as many
# workers as you like against one Redis and one MongoDB. Unset: one machine.
REDIS_URL = _env("REDIS_URL", "")
# Redis unreachable for this long (seconds): the worker ends (exit status 3); until then it waits.
REDIS_OUTAGE_TIMEOUT = _env("REDIS_OUTAGE_TIMEOUT", 600.0)
ADDONS = {"backlinkspider.frontier.FrontierAddon": 0}
SCHEDULER_PERSIST = _env("SCHEDULER_PERSIST", True)  # False is refused: see `backlinks reset`
MAX_IDLE_TIME_BEFORE_CLOSE = _env("MAX_IDLE_TIME_BEFORE_CLOSE", 0)  # seconds idle before a worker exits; 0 = never
FRONTIER_LEASE_TIMEOUT = _env("FRONTIER_LEASE_TIMEOUT", 60.0)  # silent this long = dead; its requests go back
FRONTIER_HEARTBEAT_INTERVAL = _env("FRONTIER_HEARTBEAT_INTERVAL", 5.0)
FRONTIER_POLL_INTERVAL = _env("FRONTIER_POLL_INTERVAL", 1.0)  # how often an idle worker looks for work
FRONTIER_PREFETCH = _env("FRONTIER_PREFETCH", 0)  # requests leased ahead; 0 = CONCURRENT_REQUESTS
FRONTIER_BLOOM_CAPACITY = _env("FRONTIER_BLOOM_CAPACITY", 10_000_000)  # URLs the seen-set is sized for
FRONTIER_BLOOM_ERROR_RATE = _env("FRONTIER_BLOOM_ERROR_RATE", 0.001)  # 1.8 bytes a URL at capacity
ROBOTS_CACHE_TTL = _env("ROBOTS_CACHE_TTL", 86_400)  # RFC 9309: cache robots.txt up to 24 hours
ROBOTS_LOCK_WAIT = _env("ROBOTS_LOCK_WAIT", 10.0)  # wait for another worker's robots.txt fetch

# --- The report printed when a crawl ends.
BACKLINKS_REPORT = _env("BACKLINKS_REPORT", True)
BACKLINKS_REPORT_TOP = _env("BACKLINKS_REPORT_TOP", 10)

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = _env("LOG_LEVEL", "INFO")
