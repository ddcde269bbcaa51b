import { createHash } from 'node:crypto'
import { LUA_GLOB, LUA_NOW, SCRIPTS, type Script } from './fence-scripts.ts'

/**
 * The write script of a Cluster (prefix without a hash tag): the single node's (see fence-scripts.ts),
 * without the tag sets (they live elsewhere and are written before it), and reading the node's own
 * copies of the clear, pattern and tag fences (see NodeFences). Those live in other slots of the
 * entry's node: a script may declare keys of one slot only (CROSSSLOT), so they come as arguments,
 * and Redis 7's `allow-cross-slot-keys` flag lets the script read them (a key not on this node
 * fails the script: then the write did not apply).
 *
 * KEYS: entry, key fence, then the lock key when ARGV[8] is a lease token (all of the entry's slot).
 * ARGV: as the single node's, with `m` (the tag fences) in place of `n`, then the node's clear
 * fence, its pattern fences and `m` tag fences. Returns `{ code, nowUs }`.
 */
export const CLUSTER_WRITE_SCRIPT = `#!lua flags=allow-cross-slot-keys
${LUA_GLOB}${LUA_NOW}
local mode, since, notAfter = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
local window, m, token = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
if notAfter > 0 and now > notAfter then return {-1, now} end
if token ~= '' and redis.call('GET', KEYS[3]) ~= token then return {-2, now} end
if mode == 'f' then
  if now - since > window * 1000 then return {0, now} end
  local f = redis.call('GET', KEYS[2])
  if f and tonumber(f) >= since then return {0, now} end
  local c = redis.call('GET', ARGV[10])
  if c and tonumber(c) >= since then return {0, now} end
  for i = 1, m do
    local tf = redis.call('GET', ARGV[11 + i])
    if tf and tonumber(tf) >= since then return {0, now} end
  end
  local patterns = redis.call('ZRANGEBYSCORE', ARGV[11], since, '+inf')
  for _, p in ipairs(patterns) do
    if glob(p, ARGV[9]) then return {0, now} end
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
if mode == 's' then redis.call('SET', KEYS[2], nowText, 'PX', window) end
return {1, now}
`

/** The cluster write script, and the single node's fence script (its keys are all in one slot). */
export const CLUSTER_SCRIPTS: { readonly write: Script; readonly fence: Script } = {
  write: { text: CLUSTER_WRITE_SCRIPT, sha: createHash('sha1').update(CLUSTER_WRITE_SCRIPT).digest('hex') },
  fence: SCRIPTS.fence,
}
