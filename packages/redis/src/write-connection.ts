import type { RedisClient } from './redis-store-options.ts'

/** A connection of the store: `id` names it within the store; its commands reach Redis in the order issued. */
export interface WriteConnection {
  /** The ioredis client of this connection. */
  readonly client: RedisClient
  /** The connection's position in the store's pool, from 0: stable for the store's lifetime. */
  readonly id: number
}

/**
 * Commands issued right behind a write, on its connection, in the same socket write. Issue them
 * before the first `await` (the socket is written at the end of the tick); the returned promise
 * settles when Redis has answered them. `writeBytes` is the size of the write it follows (its
 * encoded entry), for a follow-up shared by several writes to bound what they wait for. See
 * {@link RedisStore.setFollowedBy}.
 */
export type WriteFollowUp = (connection: WriteConnection, writeBytes?: number) => Promise<unknown>
