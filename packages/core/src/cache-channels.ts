import type { CacheStore } from './cache-store.ts'
import type { ChannelTransport } from './channels.ts'
import { CacheError, CacheErrorCode } from './errors.ts'
import { LocalChannels } from './local-channels.ts'

/** Each store without channels of its own gets one in-process transport, shared by the Caches over it. */
const local = new WeakMap<CacheStore, LocalChannels>()

const closedError = () => new CacheError(CacheErrorCode.CLOSED, 'the cache is closed')

/** What a closed Cache publishes and subscribes through: every call rejects with `E_CLOSED`. */
const closedChannels: ChannelTransport = {
  publish: () => Promise.reject(closedError()),
  subscribe: () => Promise.reject(closedError()),
}

/**
 * The transport of a Cache's `publish` and `subscribe`: the store's own (`CacheStore.channels`,
 * across processes) or else one within this process; one that rejects once the Cache is closed.
 */
export function channelsOf(store: CacheStore, closed: boolean): ChannelTransport {
  if (closed) return closedChannels
  if (store.channels !== undefined) return store.channels
  let channels = local.get(store)
  if (channels === undefined) {
    channels = new LocalChannels()
    local.set(store, channels)
  }
  return channels
}
