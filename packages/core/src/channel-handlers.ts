import type { ChannelHandler, ChannelMessageInfo } from './channels.ts'
import { ListenerSet, reportListenerError } from './listener-set.ts'

interface Delivery {
  message: unknown
  info: ChannelMessageInfo
}

/**
 * The handlers of every channel a transport subscribed, one ListenerSet per channel: a handler that
 * throws, or whose promise rejects, is reported (`CacheListenerWarning`) and the others still run.
 */
export class ChannelHandlers {
  private readonly sets = new Map<string, ListenerSet<Delivery>>()

  /** Adds a handler; `first` is true when the channel had none (subscribe it), and `remove` reports whether it was the last (unsubscribe it). */
  add(channel: string, handler: ChannelHandler): { first: boolean; remove: () => boolean } {
    let set = this.sets.get(channel)
    const first = set === undefined
    if (set === undefined) {
      set = new ListenerSet<Delivery>(`channel "${channel}"`)
      this.sets.set(channel, set)
    }
    const source = `channel "${channel}"`
    const off = set.add(({ message, info }) => {
      const result = handler(message, info)
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        ;(result as Promise<void>).then(undefined, (error: unknown) => reportListenerError(error, source))
      }
    })
    let removed = false
    return {
      first,
      remove: () => {
        if (removed) return false
        removed = true
        off()
        if (set.size > 0 || this.sets.get(channel) !== set) return false
        this.sets.delete(channel)
        return true
      },
    }
  }

  /** Whether anyone listens on `channel`. */
  has(channel: string): boolean {
    return this.sets.has(channel)
  }

  /** The channels that have handlers. */
  channels(): string[] {
    return [...this.sets.keys()]
  }

  /** Hands `message` to every handler of `channel`. */
  deliver(channel: string, message: unknown, from: string): void {
    this.sets.get(channel)?.emit({ message, info: { channel, from } })
  }

  /** Removes every handler. */
  clear(): void {
    this.sets.clear()
  }
}
