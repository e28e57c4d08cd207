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

# ARGV: prefix, worker, m, k, site_limit,
#       n, n × (h1, h2, filter, host, site, entry),   -- new requests
#       n, n × host,                                  -- responses in: free a host slot
#       n, n × lease,                                 -- done: items stored
#       n, n × lease                                  -- not done: back to the queue
# Returns {added, duplicates, capped}.
FLUSH = (
    _PRELUDE
    + """
local worker = ARGV[2]
local m, k, site_limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local bloom = p .. ':dupefilter'
local sites = p .. ':sites'
local added, dups, capped, fresh = 0, 0, 0, 0
local i = 6
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local h1, h2, filter = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), ARGV[i + 2]
  local host, site, entry = ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  i = i + 6
  local new = true
  if filter == '1' then
    -- Bloom filter check-and-set: SETBIT answers the old bit, so one call a bit.
    new = false
    for j = 0, k - 1 do
      if redis.call('SETBIT', bloom, (h1 + j * h2) % m, 1) == 0 then new = true end
    end
    if new then
      fresh = fresh + 1
      if site ~= '' and site_limit > 0 and redis.call('HINCRBY', sites, site, 1) > site_limit then
        new = false
        capped = capped + 1
      end
    else
      dups = dups + 1
    end
  end
  if new then
    redis.call('RPUSH', queue .. ':' .. host, entry)
    schedule(host)
    added = added + 1
  end
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
if added > 0 then redis.call('HINCRBY', stats, 'queued', added) end
if fresh > 0 then redis.call('HINCRBY', stats, 'seen', fresh) end
if dups > 0 then redis.call('HINCRBY', stats, 'duplicates', dups) end
if capped > 0 then redis.call('HINCRBY', stats, 'capped', capped) end
return {added, dups, capped}
"""
)

# ARGV: prefix, worker, n, delay_ms, host_limit, scan, seeds_max
# Lease up to n requests, at most host_limit in flight per host across the
# cluster, and (with a delay) one per host per delay. Also takes up to
# seeds_max raw seeds from P:start_urls, so seeds never wait behind the queue.
# Returns {seeds, {lease, host, entry, …}, queued, leased, wait_ms, start_urls}:
# wait_ms is how long until some host is ready (-1: nothing queued).
POP = (
    _PRELUDE
    + """
local worker = ARGV[2]
local n, delay, limit = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local scan, seeds_max = tonumber(ARGV[6]), tonumber(ARGV[7])
local start_urls = p .. ':start_urls'
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
        redis.call('LLEN', start_urls)}
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
