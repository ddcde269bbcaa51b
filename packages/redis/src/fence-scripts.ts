import { createHash } from 'node:crypto'

/*
 * Fences: how L2 never goes back in time (DESIGN.md, "Partial faults"). Every time below is Redis's
 * own clock (`TIME` inside the script), so pods' clocks never matter.
 *
 *   <prefix>#f:<key>   when `key` was last written by a `set` or deleted   (PX fenceWindow)
 *   <prefix>#ft:<tag>  when `tag` was last invalidated                     (PX fenceWindow)
 *   <prefix>#fp        zset: pattern -> when it was last invalidated       (trimmed to fenceWindow)
 *   <prefix>#fc        when the prefix was last cleared                    (PX fenceWindow)
 *
 * A `set` carries `notAfter`: arriving later than that (bytes held in a queue after its caller gave
 * up) it is dropped, never applied over what came after it. A `fill` (a loader's result) carries
 * `since`, when its loader began: any fence at or after it means the loader may have read data older
 * than that change, so the fill is dropped. A fill older than fenceWindow is dropped too: the fences
 * that would judge it have expired.
 */

/** Outcome codes the write script returns (with Redis's time: `{ code, nowUs }`). */
export const WriteCode = { WRITTEN: 1, SUPERSEDED: 0, LATE: -1, LEASE_LOST: -2 } as const

// Linear-time glob (`*`, `?`) with star backtracking: a crafted pattern cannot make Redis spin.
export const LUA_GLOB = `
local function glob(p, s)
  local pi, si, star, mark = 1, 1, 0, 0
  local pl, sl = #p, #s
  while si <= sl do
    local pc = string.byte(p, pi)
    if pi <= pl and pc ~= 42 and (pc == 63 or pc == string.byte(s, si)) then
      pi = pi + 1; si = si + 1
    elseif pi <= pl and pc == 42 then
      star = pi; mark = si; pi = pi + 1
    elseif star > 0 then
      pi = star + 1; mark = mark + 1; si = mark
    else
      return false
    end
  end
  while pi <= pl and string.byte(p, pi) == 42 do pi = pi + 1 end
  return pi > pl
end
`

// Microseconds: a fill is judged against changes to the microsecond, and a pod's own change never
// ties with a load it starts after hearing back. \`nowText\` is the exact decimal (Lua's own number
// formatting would round 16 digits).
export const LUA_NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowText = t[1] .. string.format('%06d', tonumber(t[2]))
`

/**
 * KEYS: entry, key fence, clear fence, pattern fences, then `n` tag sets, then `n` tag fences,
 * then the lock key when ARGV[8] is a lease token.
 * ARGV: mode ('s' set | 'f' fill), text, ttlMs, since (µs), notAfter (µs, 0: none), fenceWindowMs, n,
 * token, cache key. Returns `{ code, nowUs }` (see WriteCode).
 */
export const WRITE_SCRIPT = `${LUA_GLOB}${LUA_NOW}
local mode, since, notAfter = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
local window, n, token = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
if notAfter > 0 and now > notAfter then return {-1, now} end
if token ~= '' and redis.call('GET', KEYS[5 + 2 * n]) ~= token then return {-2, now} end
if mode == 'f' then
  if now - since > window * 1000 then return {0, now} end
  local f = redis.call('GET', KEYS[2])
  if f and tonumber(f) >= since then return {0, now} end
  local c = redis.call('GET', KEYS[3])
  if c and tonumber(c) >= since then return {0, now} end
  for i = 1, n do
    local tf = redis.call('GET', KEYS[4 + n + i])
    if tf and tonumber(tf) >= since then return {0, now} end
  end
  local patterns = redis.call('ZRANGEBYSCORE', KEYS[4], since, '+inf')
  for _, p in ipairs(patterns) do
    if glob(p, ARGV[9]) then return {0, now} end
  end
end
local ttl = tonumber(ARGV[3])
for i = 1, n do
  redis.call('SADD', KEYS[4 + i], ARGV[9])
  if redis.call('PTTL', KEYS[4 + i]) < ttl then redis.call('PEXPIRE', KEYS[4 + i], ttl) end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
if mode == 's' then redis.call('SET', KEYS[2], nowText, 'PX', window) end
return {1, now}
`

/** KEYS: pairs of (entry, key fence). ARGV: fenceWindowMs. Returns `{ removed, nowUs }`. */
export const DELETE_SCRIPT = `${LUA_NOW}
local window, removed = tonumber(ARGV[1]), 0
for i = 1, #KEYS, 2 do
  removed = removed + redis.call('UNLINK', KEYS[i])
  redis.call('SET', KEYS[i + 1], nowText, 'PX', window)
end
return {removed, now}
`

/**
 * Records an invalidation's fence before its keys are removed, so a fill racing the removal sees it.
 * KEYS: tag fences (ARGV[1] = 't'), or the pattern zset (ARGV[1] = 'p', ARGV[3] = pattern), or the
 * clear fence (ARGV[1] = 'c'). ARGV[2]: fenceWindowMs. ARGV[4]: most patterns kept. Returns Redis's
 * time in µs (the fence's own).
 */
export const FENCE_SCRIPT = `${LUA_NOW}
local kind, window = ARGV[1], tonumber(ARGV[2])
if kind == 'p' then
  redis.call('ZADD', KEYS[1], nowText, ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window * 1000))
  local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
  if extra > 0 then
    -- Past the bound the oldest patterns go, but their fence must not: widen it to a clear fence.
    local oldest = redis.call('ZRANGE', KEYS[1], extra - 1, extra - 1, 'WITHSCORES')
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
    local c = tonumber(redis.call('GET', KEYS[2]) or '0')
    if tonumber(oldest[2]) > c then redis.call('SET', KEYS[2], oldest[2], 'PX', window) end
  end
  redis.call('PEXPIRE', KEYS[1], window)
else
  for i = 1, #KEYS do redis.call('SET', KEYS[i], nowText, 'PX', window) end
end
return now
`

/** A script and its SHA1, for EVALSHA with a fallback to EVAL after a server restart (NOSCRIPT). */
export interface Script {
  readonly text: string
  readonly sha: string
}

function script(text: string): Script {
  return { text, sha: createHash('sha1').update(text).digest('hex') }
}

export const SCRIPTS = {
  write: script(WRITE_SCRIPT),
  delete: script(DELETE_SCRIPT),
  fence: script(FENCE_SCRIPT),
} as const

/** What runs a script: an ioredis client (or pipeline) with evalsha/eval. */
interface ScriptRunner {
  evalsha(sha: string, numKeys: number, ...args: (string | number | Buffer)[]): Promise<unknown>
  eval(script: string, numKeys: number, ...args: (string | number | Buffer)[]): Promise<unknown>
}

/** EVALSHA, then EVAL once if the server does not have the script (first use, restart, failover). */
export async function runScript(
  client: ScriptRunner,
  { text, sha }: Script,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
): Promise<unknown> {
  try {
    return await client.evalsha(sha, keys.length, ...keys, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return client.eval(text, keys.length, ...keys, ...args)
  }
}

/** What a connection needs to load scripts: ioredis's `script` and its events. */
interface ScriptLoader {
  status: string
  script(subcommand: 'LOAD', script: string): Promise<unknown>
  on(event: 'ready', listener: () => void): unknown
}

/**
 * Loads the scripts on every (re)connection, so that a write and the PUBLISH that follows it
 * normally never meet NOSCRIPT (whose EVAL retry would run after the PUBLISH); a failure here is
 * harmless, {@link runScript} falls back to EVAL.
 */
export function loadScriptsOnReady(client: ScriptLoader): void {
  const load = () => {
    for (const { text } of Object.values(SCRIPTS)) client.script('LOAD', text).catch(() => {})
  }
  client.on('ready', load)
  if (client.status === 'ready') load()
}
