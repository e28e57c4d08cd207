"""Signals of our own, sent through ``crawler.signals`` like Scrapy's.

A distributed worker holds a *lease* on each request it took from Redis; the
lease ends only once the page's outcome is safe in MongoDB, so a worker that
dies loses nothing (see ``backlinkspider.frontier``).
"""

#: ``leases=[…]``: these requests are done, their items written (or they had none).
leases_done = object()
#: ``leases=[…]``: these requests' items could not be written: crawl them again.
leases_failed = object()
#: no arguments, sent with ``send_catch_log_async``: components that buffer
#: writes to the store write them, and return once they are stored.
store_drain = object()
#: no arguments: this worker just pushed seeds to the frontier, so the cluster has work
#: even if the last look at it found none (target checks wait for a really idle cluster).
seeds_pushed = object()
#: ``credits=[(site, linking site, evidence, hop, discovered_from, entry URL), …]``: ``expand`` in
#: distributed mode: a page linked to these sites; the frontier adds them up in Redis.
sites_linked = object()
#: ``met=[(site, hop, discovered_from), …]``: the frontier met these sites for the first time.
sites_met = object()
#: ``opened=[(site, priority), …]``: the frontier opened these sites (their entry requests are queued).
sites_opened = object()
