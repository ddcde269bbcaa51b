import type { ServerResponse } from 'node:http'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Options of {@link EventStream}. */
export interface EventStreamOptions {
  /** Browsers connected at once; past it, 503. @default 100 */
  maxClients?: number
  /** A comment line this often keeps proxies from closing an idle stream. @default 15000 */
  keepAliveMs?: number
  /** A client that has this many bytes unread is too slow: its stream is closed. @default 1048576 */
  maxBufferedBytes?: number
}

/**
 * Server-Sent Events to every connected browser (`GET /events`): `send(event, data)` writes
 * `event: <name>` and one JSON `data:` line to each. A client that does not keep up is dropped,
 * not buffered without bound; `close()` ends every stream so the server can stop.
 */
export class EventStream {
  private readonly clients = new Set<ServerResponse>()
  private readonly maxClients: number
  private readonly maxBufferedBytes: number
  private readonly keepAlive: NodeJS.Timeout
  private closed = false

  constructor(options: EventStreamOptions = {}) {
    this.maxClients = options.maxClients ?? 100
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000)
    this.keepAlive.unref()
  }

  /** Browsers connected now. */
  get size(): number {
    return this.clients.size
  }

  /** The route handler of `GET /events`; `hello` is sent to the new client first. */
  handler(hello: () => unknown) {
    return (request: FastifyRequest, reply: FastifyReply): void => {
      if (this.closed || this.clients.size >= this.maxClients) {
        void reply
          .code(503)
          .header('retry-after', '5')
          .send({
            error: 'Service Unavailable',
            code: 'E_TOO_MANY_STREAMS',
            message: `at most ${this.maxClients} event streams per pod`,
          })
        return
      }
      reply.hijack()
      const response = reply.raw
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      })
      response.write(`retry: 2000\n\n${frame('hello', hello())}`)
      this.clients.add(response)
      request.raw.on('close', () => this.clients.delete(response))
    }
  }

  /** Sends one event to every connected browser. */
  send(event: string, data: unknown): void {
    if (this.clients.size > 0) this.write(frame(event, data))
  }

  /** Ends every stream; later connections get 503. */
  close(): void {
    this.closed = true
    clearInterval(this.keepAlive)
    for (const client of this.clients) client.end()
    this.clients.clear()
  }

  private write(text: string): void {
    for (const client of this.clients) {
      if (client.writableLength > this.maxBufferedBytes) {
        this.clients.delete(client)
        client.destroy()
        continue
      }
      client.write(text)
    }
  }
}

/** One SSE frame; JSON has no raw newline, so one `data:` line holds it. */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}
