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

/**
 * What a write script answers, as one integer (Redis converts a table reply for ~5k instructions
 * more, of ~80k a write): Redis's time in µs when the write applied, that time negated when a fill
 * was superseded, or one of these codes — which no time can be.
 */
export const WriteReply = { LATE: 0, LEASE_LOST: -1 } as const

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
// ties with a load it starts after hearing back. \`nowText\` is the exact decimal a fence holds: Lua's
// own number formatting would round 16 digits, and redis.call's (%.17g) costs Redis more than this.
export const LUA_NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
`
export const LUA_NOW_TEXT = `
local nowText = t[1] .. string.sub('000000', #t[2] + 1) .. t[2]
`

/*
 * The write scripts, a set and a fill: one key layout and one argument layout for both, so a pod
 * builds them once.
 *
 * KEYS: entry, key fence, clear fence, pattern fences, then `n` tag sets, then `n` tag fences, then
 * the lock key when a lease token is given.
 * ARGV: text, ttlMs, a time in µs (a set's `notAfter`, a fill's `since`), fenceWindowMs, then the
 * lease token if any. Answers as {@link WriteReply} says.
 *
 * The cache key (a tag set's member, what a pattern is matched against) is the entry key past the
 * prefix, whose length the clear fence `<prefix>#fc` gives: one argument fewer on every write.
 */
const LUA_WRITE_HEAD = `${LUA_NOW}
local token = ARGV[5]
local n = (#KEYS - (token and 5 or 4)) / 2
`
const LUA_LEASE = `
if token and redis.call('GET', KEYS[#KEYS]) ~= token then return -1 end
`
const LUA_STORE = `
local ttl = ARGV[2]
if n > 0 then
  local key = string.sub(KEYS[1], #KEYS[3] - 2)
  for i = 1, n do
    redis.call('SADD', KEYS[4 + i], key)
    if redis.call('PTTL', KEYS[4 + i]) < tonumber(ttl) then redis.call('PEXPIRE', KEYS[4 + i], ttl) end
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
`

/** A `set`: dropped past its `notAfter`; writes the entry and its key fence. */
export const SET_SCRIPT = `${LUA_WRITE_HEAD}
if now > tonumber(ARGV[3]) then return 0 end
${LUA_LEASE}${LUA_STORE}${LUA_NOW_TEXT}
redis.call('SET', KEYS[2], nowText, 'PX', ARGV[4])
return now
`

/**
 * A fill: dropped when older than fenceWindow, or when a fence of its key, the prefix, one of its
 * tags (one MGET) or a matching pattern is at or after `since`.
 */
export const FILL_SCRIPT = `${LUA_WRITE_HEAD}${LUA_LEASE}
local since = tonumber(ARGV[3])
if now - since > tonumber(ARGV[4]) * 1000 then return -now end
local fences = redis.call('MGET', KEYS[2], KEYS[3], unpack(KEYS, 5 + n, 4 + 2 * n))
for i = 1, #fences do
  if fences[i] and tonumber(fences[i]) >= since then return -now end
end
local patterns = redis.call('ZRANGEBYSCORE', KEYS[4], ARGV[3], '+inf')
if #patterns > 0 then
  ${LUA_GLOB}
  local key = string.sub(KEYS[1], #KEYS[3] - 2)
  for _, p in ipairs(patterns) do
    if glob(p, key) then return -now end
  end
end
${LUA_STORE}
return now
`

/** KEYS: pairs of (entry, key fence). ARGV: fenceWindowMs. Returns `{ removed, nowUs }`. */
export const DELETE_SCRIPT = `${LUA_NOW}${LUA_NOW_TEXT}
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
export const FENCE_SCRIPT = `${LUA_NOW}${LUA_NOW_TEXT}
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

/** A script with its SHA1. */
export function defineScript(text: string): Script {
  return { text, sha: createHash('sha1').update(text).digest('hex') }
}

export const SCRIPTS = {
  set: defineScript(SET_SCRIPT),
  fill: defineScript(FILL_SCRIPT),
  delete: defineScript(DELETE_SCRIPT),
  fence: defineScript(FENCE_SCRIPT),
} as const

/** A script's key or argument, as ioredis sends it (a number is sent as its decimal text). */
export type ScriptArg = string | number | Buffer

/** What runs a script: an ioredis client (or pipeline) with evalsha/eval. */
export interface ScriptRunner {
  evalsha(sha: string, numKeys: number, ...args: ScriptArg[]): Promise<unknown>
  eval(script: string, numKeys: number, ...args: ScriptArg[]): Promise<unknown>
}

/** EVALSHA, then EVAL once if the server does not have the script (first use, restart, failover). */
export async function runScript(
  client: ScriptRunner,
  { text, sha }: Script,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  try {
    return await client.evalsha(sha, keys.length, ...keys, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return client.eval(text, keys.length, ...keys, ...args)
  }
}

/**
 * EVALSHA of `script` with its `numKeys` keys and then its arguments in one array, handed to ioredis
 * as is (it flattens an array argument): the hot path's way, with no copies on the way and no
 * wrapper promise. A rejection is the caller's to pass to {@link evalOnNoScript}.
 */
export function evalShaFlat(
  client: ScriptRunner,
  script: Script,
  numKeys: number,
  keysAndArgs: readonly ScriptArg[],
): Promise<unknown> {
  return (client as unknown as FlatEvalSha).evalsha(script.sha, numKeys, keysAndArgs)
}

/** ioredis's evalsha as it is called with one array: its Command flattens the arguments. */
interface FlatEvalSha {
  evalsha(sha: string, numKeys: number, keysAndArgs: readonly ScriptArg[]): Promise<unknown>
}

/** After {@link evalShaFlat} rejected: EVAL once when the server lacked the script, else the same rejection. */
export function evalOnNoScript(
  error: unknown,
  client: ScriptRunner,
  script: Script,
  numKeys: number,
  keysAndArgs: readonly ScriptArg[],
): Promise<unknown> {
  if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) return Promise.reject(error)
  return client.eval(script.text, numKeys, ...keysAndArgs)
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
