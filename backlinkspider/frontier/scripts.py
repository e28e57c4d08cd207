"""The frontier's server-side Lua scripts: each is one atomic round trip.

Keys hang off the spider's prefix (``backlinks``), following scrapy-redis; the
layout is documented, and named for the Python side, in ``backlinkspider/keys.py``.
Each script receives the prefix and builds the same names server-side, so one
call can touch any host's queue.

Every timestamp comes from the Redis server's ``TIME``, so politeness and
lease deadlines hold whatever the workers' clocks say. Scripts build key
names from the prefix, which a single Redis (with replicas or Sentinel)
allows; Redis Cluster would need hash tags and is not supported.
"""

_PRELUDE = """
local p = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local queue = p .. ':requests'
local stats = p .. ':stats'
local slots = p .. ':slots'

-- A host joins the queue ready now, or when the wait a server asked for is over.
local function schedule(host)
  if redis.call('ZADD', queue, 'NX', now, host) == 1 then
    local due = tonumber(redis.call('GET', p .. ':backoff:' .. host) or '0')
    if due > now then redis.call('ZADD', queue, 'XX', due, host) end
  end
end

-- Admit one request: Bloom filter check-and-set (SETBIT answers the old bit, so one
-- call a bit) and its site's page cap (a site met by expand has its own), then queue it.
-- Returns 'added', 'dup' or 'capped'; 'fresh' counts new URLs for the stats.
local function admit(h1, h2, filter, host, site, entry, m, k, site_limit, found_limit)
  local fresh = false
  if filter == '1' then
    local new = false
    for j = 0, k - 1 do
      if redis.call('SETBIT', p .. ':dupefilter', (h1 + j * h2) % m, 1) == 0 then new = true end
    end
    if not new then return 'dup', false end
    fresh = true
    local limit = site_limit
    if found_limit > 0 and site ~= '' and redis.call('HEXISTS', p .. ':discovery:hops', site) == 1 then
      limit = found_limit
    end
    if site ~= '' and limit > 0 and redis.call('HINCRBY', p .. ':sites', site, 1) > limit then
      return 'capped', fresh
    end
  end
  redis.call('RPUSH', queue .. ':' .. host, entry)
  schedule(host)
  return 'added', fresh
end

local function requeue(value)
  local tab = string.find(value, '\\t', 1, true)
  local host = string.sub(value, 1, tab - 1)
  redis.call('LPUSH', queue .. ':' .. host, string.sub(value, tab + 1))
  schedule(host)
  redis.call('HINCRBY', stats, 'queued', 1)
  redis.call('HINCRBY', stats, 'leased', -1)
end

local function release(worker, host, count)
  if redis.call('HINCRBY', slots, host, -count) <= 0 then redis.call('HDEL', slots, host) end
  local own = slots .. ':' .. worker
  if redis.call('HINCRBY', own, host, -count) <= 0 then redis.call('HDEL', own, host) end
end

-- Give every request a worker holds back to the queues, and its slots back.
local function reclaim(worker)
  local leases = p .. ':leases:' .. worker
  local held = redis.call('HVALS', leases)
  for _, value in ipairs(held) do requeue(value) end
  redis.call('DEL', leases)
  local own = slots .. ':' .. worker
  local counts = redis.call('HGETALL', own)
  for j = 1, #counts, 2 do
    if redis.call('HINCRBY', slots, counts[j], -tonumber(counts[j + 1])) <= 0 then
      redis.call('HDEL', slots, counts[j])
    end
  end
  redis.call('DEL', own)
  redis.call('ZREM', p .. ':workers', worker)
  redis.call('HDEL', p .. ':workers:info', worker)
  return #held
end
"""

# ARGV: prefix, worker, m, k, site_limit, found_limit, order, expand, reach_boost, indegree_weight,
#       n, n × (h1, h2, filter, host, site, entry),   -- new requests
#       n, n × host,                                  -- responses in: free a host slot
#       n, n × lease,                                 -- done: items stored
#       n, n × lease,                                 -- not done: back to the queue
#       n, n × (site, linking site, evidence, hop, from, entries)  -- expand: sites linked to
# Returns {added, duplicates, capped, {site, hop, from, …} met for the first time}.
FLUSH = (
    _PRELUDE
    + """
local worker = ARGV[2]
local m, k, site_limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local found_limit, order = tonumber(ARGV[6]), ARGV[7]
local expand, reach_boost, indegree_weight = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local added, dups, capped, fresh = 0, 0, 0, 0
local i = 11
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local outcome, new = admit(tonumber(ARGV[i]), tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
                             ARGV[i + 5], m, k, site_limit, found_limit)
  i = i + 6
  if new then fresh = fresh + 1 end
  if outcome == 'added' then added = added + 1 elseif outcome == 'dup' then dups = dups + 1 else capped = capped + 1 end
end
n = tonumber(ARGV[i]); i = i + 1
if n > 0 then
  for _ = 1, n do release(worker, ARGV[i], 1); i = i + 1 end
  redis.call('HINCRBY', stats, 'pages', n)
  local minute = p .. ':pages:' .. math.floor(now / 60000)
  redis.call('INCRBY', minute, n)
  redis.call('EXPIRE', minute, 7200)
end
local leases = p .. ':leases:' .. worker
n = tonumber(ARGV[i]); i = i + 1
local acked = 0
for _ = 1, n do acked = acked + redis.call('HDEL', leases, ARGV[i]); i = i + 1 end
if acked > 0 then redis.call('HINCRBY', stats, 'leased', -acked) end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local value = redis.call('HGET', leases, ARGV[i])
  if value then requeue(value); redis.call('HDEL', leases, ARGV[i]) end
  i = i + 1
end
-- expand: credit the sites pages linked to (the order: backlinkspider.discovery, whose
-- Weights.priority this computes: the linking sites' mean evidence, reach, in-degree).
local discovery = p .. ':discovery'
local hops, entries = discovery .. ':hops', discovery .. ':entries'
local evidence, linkers = discovery .. ':evidence', discovery .. ':linkers'
local met = {}
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local site, linker, said, hop = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local from, requests = ARGV[i + 4], ARGV[i + 5]
  i = i + 6
  local old = redis.call('HGET', hops, site)
  local known, closer = old ~= false, false
  if not known and hop <= expand and redis.call('HEXISTS', p .. ':sites', site) == 0 then  -- not a seed's site
    redis.call('HSET', hops, site, hop)
    local seq = redis.call('INCR', discovery .. ':seq')
    if order == 'bfs' then redis.call('ZADD', discovery, -seq, site) end
    met[#met + 1] = site; met[#met + 1] = hop; met[#met + 1] = from
    known = true
  elseif old and hop < tonumber(old) then
    redis.call('HSET', hops, site, hop)  -- a shorter way to it
    closer = true
  end
  if known then
    if requests ~= '' then redis.call('HSETNX', entries, site, requests) end
    if order ~= 'bfs' and redis.call('HEXISTS', discovery .. ':state', site) == 0 then
      local fresh_link = redis.call('SADD', discovery .. ':links', linker .. '\t' .. site) == 1
      if fresh_link then
        redis.call('HINCRBYFLOAT', evidence, site, said)
        redis.call('HINCRBY', linkers, site, 1)
      end
      if fresh_link or closer then
        local sum, count = tonumber(redis.call('HGET', evidence, site)), tonumber(redis.call('HGET', linkers, site))
        local priority = (sum / count - 1 + reach_boost * (expand - tonumber(redis.call('HGET', hops, site))))
                         * (1 + indegree_weight * math.log(count))
        redis.call('ZADD', discovery, priority, site)
      end
    end
  end
end
if added > 0 then redis.call('HINCRBY', stats, 'queued', added) end
if fresh > 0 then redis.call('HINCRBY', stats, 'seen', fresh) end
if dups > 0 then redis.call('HINCRBY', stats, 'duplicates', dups) end
if capped > 0 then redis.call('HINCRBY', stats, 'capped', capped) end
return {added, dups, capped, met}
"""
)

# ARGV: prefix, worker, n, delay_ms, host_limit, scan, seeds_max, open_below, m, k, site_limit, found_limit
# Lease up to n requests, at most host_limit in flight per host across the
# cluster, and (with a delay) one per host per delay. Also takes up to
# seeds_max raw seeds from P:start_urls, so seeds never wait behind the queue.
# expand: while fewer than open_below requests are queued or leased cluster-wide,
# the best waiting sites are opened first (their entry requests queued), one
# sorted set for every worker. Returns {seeds, {lease, host, entry, …}, queued,
# leased, wait_ms, start_urls, {site, priority, …} opened}: wait_ms is how long
# until some host is ready (-1: nothing queued).
POP = (
    _PRELUDE
    + """
local worker = ARGV[2]
local n, delay, limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local scan, seeds_max, open_below = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local start_urls = p .. ':start_urls'
local opened = {}
if open_below > 0 then
  local m, k, site_limit, found_limit = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
  local discovery = p .. ':discovery'
  local entries = discovery .. ':entries'
  local counts = redis.call('HMGET', stats, 'queued', 'leased')
  local pending = tonumber(counts[1] or '0') + tonumber(counts[2] or '0')
  local added = 0
  while pending + added < open_below do
    local best = redis.call('ZPOPMAX', discovery, 1)
    if #best == 0 then break end
    local site = best[1]
    redis.call('HSET', discovery .. ':state', site, 1)
    redis.call('RPUSH', discovery .. ':opened', site)
    opened[#opened + 1] = site; opened[#opened + 1] = best[2]
    local requests = redis.call('HGET', entries, site)
    if requests then
      for _, r in ipairs(cjson.decode(requests)) do
        local outcome, new = admit(r[1], r[2], '1', r[3], site, r[4], m, k, site_limit, found_limit)
        if new then redis.call('HINCRBY', stats, 'seen', 1) end
        if outcome == 'added' then added = added + 1 end
      end
    end
  end
  if added > 0 then redis.call('HINCRBY', stats, 'queued', added) end
end
local seeds = {}
if seeds_max > 0 then seeds = redis.call('RPOP', start_urls, seeds_max) or {} end
local out = {}
local handed = 0
local leases = p .. ':leases:' .. worker
local own = slots .. ':' .. worker
if n > 0 then
  local hosts = redis.call('ZRANGEBYSCORE', queue, '-inf', now, 'LIMIT', 0, scan)
  for _, host in ipairs(hosts) do
    if handed >= n then break end
    local hq = queue .. ':' .. host
    local busy = tonumber(redis.call('HGET', slots, host) or '0')
    local take = math.min(limit - busy, n - handed)
    if delay > 0 then take = math.min(take, 1) end
    local got = 0
    if take > 0 then
      local items = redis.call('LPOP', hq, take)
      if items then
        local last = redis.call('INCRBY', p .. ':lease_seq', #items)
        for j, entry in ipairs(items) do
          local id = tostring(last - #items + j)
          redis.call('HSET', leases, id, host .. '\\t' .. entry)
          out[#out + 1] = id
          out[#out + 1] = host
          out[#out + 1] = entry
        end
        got = #items
        handed = handed + got
        redis.call('HINCRBY', slots, host, got)
        redis.call('HINCRBY', own, host, got)
        redis.call('HINCRBY', stats, 'queued', -got)
        redis.call('HINCRBY', stats, 'leased', got)
      end
    end
    if got > 0 then
      if delay > 0 then redis.call('ZADD', queue, 'XX', now + delay, host) end
    elseif redis.call('LLEN', hq) == 0 then
      redis.call('ZREM', queue, host)  -- ready and empty: its delay is over
    else
      redis.call('ZADD', queue, 'XX', now + 100, host)  -- at its concurrency limit
    end
  end
end
local wait = -1
if handed == 0 then
  local first = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
  if #first > 0 then wait = math.max(tonumber(first[2]) - now, 0) end
end
local counters = redis.call('HMGET', stats, 'queued', 'leased')
return {seeds, out, tonumber(counters[1] or '0'), tonumber(counters[2] or '0'), wait,
        redis.call('LLEN', start_urls), opened}
"""
)

# ARGV: prefix, host, wait_ms
# A server asked to wait (429/503 with Retry-After): no worker leases the host's
# requests before then, and none sends one it already holds (its turn, P:polite:<host>,
# is taken until then). P:backoff:<host> keeps the time for requests queued later.
BACKOFF = (
    _PRELUDE
    + """
local host, wait = ARGV[2], tonumber(ARGV[3])
local due = now + wait
local key = p .. ':backoff:' .. host
if due > tonumber(redis.call('GET', key) or '0') then redis.call('SET', key, due, 'PX', wait) end
redis.call('ZADD', queue, 'XX', 'GT', due, host)
local polite = p .. ':polite:' .. host
if redis.call('PTTL', polite) < wait then redis.call('SET', polite, 1, 'PX', wait) end
return due
"""
)

# ARGV: prefix, worker, timeout_ms, info
# Renew this worker's deadline, then give back the requests of every worker
# whose deadline has passed. Returns {requests reclaimed, workers reclaimed}.
HEARTBEAT = (
    _PRELUDE
    + """
local workers = p .. ':workers'
redis.call('ZADD', workers, now + tonumber(ARGV[3]), ARGV[2])
redis.call('HSET', workers .. ':info', ARGV[2], ARGV[4])
local dead = redis.call('ZRANGEBYSCORE', workers, '-inf', now)
local reclaimed = 0
for _, worker in ipairs(dead) do reclaimed = reclaimed + reclaim(worker) end
return {reclaimed, #dead}
"""
)

# ARGV: prefix, worker. A worker leaving: everything it holds goes back.
LEAVE = (
    _PRELUDE
    + """
return reclaim(ARGV[2])
"""
)
