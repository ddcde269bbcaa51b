import { type Cache, CacheError, CacheErrorCode } from '@strata-cache/core'
import { badRequest, HttpError } from '../http-error.ts'

/** What goes over the control channel: a command, who sent it, when. */
export interface ControlMessage {
  command: string
  /** The pod that took the admin request. */
  by: string
  /** ISO 8601. */
  at: string
}

/** A command as one pod ran it. */
export interface ControlOutcome extends ControlMessage {
  /** The pod that ran it (this one). */
  pod: string
  ok: boolean
  /** Why it failed or was refused. */
  error?: string
}

const COMMAND = /^[a-z][a-z0-9-]{0,63}$/

/**
 * Commands an operator sends to every pod at once: `POST /admin/control` on any pod publishes
 * `{ command, by, at }` on the cache's `control` channel, and each pod (the sender too) runs the
 * handler the app registered for it. At most once, like every channel: a pod whose subscription
 * dropped meanwhile misses it (its dashboard shows the gap).
 */
export class ControlChannel {
  /** The application channel commands travel on. */
  static readonly CHANNEL = 'control'
  private readonly handlers = new Map<string, (message: ControlMessage) => unknown>()

  constructor(
    private readonly cache: Cache,
    private readonly pod: string,
    private readonly ran: (outcome: ControlOutcome) => void,
  ) {}

  /** Registers what `command` does on every pod (kebab-case, e.g. `pause-warming`); `run` gets the message. */
  register(command: string, run: (message: ControlMessage) => unknown): void {
    if (!COMMAND.test(command)) throw new Error(`control command "${command}": use 1 to 64 of a-z 0-9 -`)
    this.handlers.set(command, run)
  }

  /** The registered commands. */
  commands(): string[] {
    return [...this.handlers.keys()]
  }

  /** Publishes `command` to every pod; a command nobody registered is a 400 before anything is sent, Redis not taking it a 503. */
  async send(command: string): Promise<ControlMessage> {
    if (!this.handlers.has(command)) {
      const known = this.commands()
      throw badRequest(
        `unknown control command "${String(command).slice(0, 64)}" (known: ${known.length > 0 ? known.join(', ') : 'none'})`,
        'E_UNKNOWN_COMMAND',
      )
    }
    const message: ControlMessage = { command, by: this.pod, at: new Date().toISOString() }
    try {
      await this.cache.publish(ControlChannel.CHANNEL, message)
    } catch (error) {
      if (!CacheError.is(error, CacheErrorCode.STORE_UNAVAILABLE)) throw error
      throw new HttpError(503, 'E_CONTROL_UNAVAILABLE', `"${command}" was not sent: ${error.message}`)
    }
    return message
  }

  /** Subscribes to the channel; resolves the function that unsubscribes. */
  start(): Promise<() => void> {
    return this.cache.subscribe(ControlChannel.CHANNEL, (message) => this.receive(message))
  }

  private async receive(message: unknown): Promise<void> {
    const m = message as Partial<ControlMessage> | null
    const valid =
      typeof m === 'object' &&
      m !== null &&
      typeof m.command === 'string' &&
      typeof m.by === 'string' &&
      typeof m.at === 'string' &&
      m.by.length <= 64 &&
      m.at.length <= 40
    if (!valid) return
    const outcome = { command: m.command!, by: m.by!, at: m.at!, pod: this.pod }
    const run = this.handlers.get(outcome.command)
    if (run === undefined) {
      this.ran({ ...outcome, ok: false, error: 'not a command of this pod' })
      return
    }
    try {
      await run({ command: outcome.command, by: outcome.by, at: outcome.at })
      this.ran({ ...outcome, ok: true })
    } catch (error) {
      this.ran({ ...outcome, ok: false, error: error instanceof Error ? error.message : String(error) })
    }
  }
}
