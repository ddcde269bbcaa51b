import { defineScript, LUA_GLOB, LUA_NOW, LUA_NOW_TEXT, SCRIPTS, type Script } from './fence-scripts.ts'

/*
 * The write scripts of a Cluster (prefix without a hash tag): the single node's (see fence-scripts.ts),
 * without the tag sets (they live elsewhere and are written before it), and reading the node's own
 * copies of the clear, pattern and tag fences (see NodeFences). Those live in other slots of the
 * entry's node: a script may declare keys of one slot only (CROSSSLOT), so they come as arguments,
 * and Redis 7's `allow-cross-slot-keys` flag lets the fill read them (a key not on this node fails
 * the script: then the write did not apply). The node's fences share one hash tag, hence one MGET.
 *
 * KEYS: entry, key fence, then the lock key when a lease token is given (all of the entry's slot).
 * ARGV: text, ttlMs, a time in µs (a set's `notAfter`, a fill's `since`), fenceWindowMs; a fill's
 * then the cache key, the node's clear fence, its pattern fences and `m` tag fences; last the lease
 * token if any. Both answer as WriteReply says.
 */

/** A `set` on a Cluster: dropped past its `notAfter`; writes the entry and its key fence. */
export const CLUSTER_SET_SCRIPT = `${LUA_NOW}
if now > tonumber(ARGV[3]) then return 0 end
if #KEYS == 3 and redis.call('GET', KEYS[3]) ~= ARGV[5] then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])${LUA_NOW_TEXT}
redis.call('SET', KEYS[2], nowText, 'PX', ARGV[4])
return now
`

/** A fill on a Cluster, judged against its key's fence and the node's copies of the others. */
export const CLUSTER_FILL_SCRIPT = `#!lua flags=allow-cross-slot-keys
${LUA_NOW}
local leased = #KEYS == 3
if leased and redis.call('GET', KEYS[3]) ~= ARGV[#ARGV] then return -1 end
local since = tonumber(ARGV[3])
if now - since > tonumber(ARGV[4]) * 1000 then return -now end
local f = redis.call('GET', KEYS[2])
if f and tonumber(f) >= since then return -now end
local fences = redis.call('MGET', ARGV[6], unpack(ARGV, 8, leased and #ARGV - 1 or #ARGV))
for i = 1, #fences do
  if fences[i] and tonumber(fences[i]) >= since then return -now end
end
local patterns = redis.call('ZRANGEBYSCORE', ARGV[7], ARGV[3], '+inf')
if #patterns > 0 then
  ${LUA_GLOB}
  for _, p in ipairs(patterns) do
    if glob(p, ARGV[5]) then return -now end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return now
`

/** The cluster write scripts, and the single node's fence script (its keys are all in one slot). */
export const CLUSTER_SCRIPTS: { readonly set: Script; readonly fill: Script; readonly fence: Script } = {
  set: defineScript(CLUSTER_SET_SCRIPT),
  fill: defineScript(CLUSTER_FILL_SCRIPT),
  fence: SCRIPTS.fence,
}
