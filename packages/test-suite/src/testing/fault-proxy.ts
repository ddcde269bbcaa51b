import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

/** Where the proxy forwards to. */
export interface FaultProxyTarget {
  host: string
  port: number
}

/** A TCP proxy on loopback that can fail one pod's Redis connections the way networks do. */
export interface FaultProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number
  /** `redis://127.0.0.1:<port>`, for a pod that should reach Redis through the proxy. */
  readonly url: string
  /** Connections currently open through the proxy. */
  readonly openConnections: number
  /**
   * Resets every open connection (TCP RST both ways) and refuses new ones for `ms`: what a pod
   * sees when a middlebox or the node's network drops its flows.
   */
  reset(ms: number): void
  /**
   * Holds every byte in both directions for `ms`, then delivers them in order: a retransmission
   * queue that drains late. New connections made meanwhile are held too.
   */
  hold(ms: number): void
  /** Ends any fault at once (held bytes are delivered). */
  heal(): void
  /** Closes the proxy and every connection through it. */
  close(): Promise<void>
}

interface Pipe {
  client: Socket
  upstream: Socket
  /** Chunks waiting while held, per direction, in arrival order. */
  toUpstream: Buffer[]
  toClient: Buffer[]
}

/** Starts a fault proxy on a free loopback port in front of `target`. */
export async function startFaultProxy(target: FaultProxyTarget): Promise<FaultProxy> {
  const pipes = new Set<Pipe>()
  let refuseUntil = 0
  let holdUntil = 0
  let holdTimer: NodeJS.Timeout | undefined

  const holding = () => Date.now() < holdUntil

  const destroy = (pipe: Pipe, reset: boolean) => {
    pipes.delete(pipe)
    for (const socket of [pipe.client, pipe.upstream]) {
      if (reset && typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy()
      else socket.destroy()
    }
  }

  const release = () => {
    holdUntil = 0
    clearTimeout(holdTimer)
    holdTimer = undefined
    for (const pipe of pipes) {
      for (const chunk of pipe.toUpstream.splice(0)) pipe.upstream.write(chunk)
      for (const chunk of pipe.toClient.splice(0)) pipe.client.write(chunk)
    }
  }

  const server: Server = createServer((client) => {
    if (Date.now() < refuseUntil) {
      client.resetAndDestroy()
      return
    }
    client.setNoDelay(true)
    const upstream = tcpConnect({ host: target.host, port: target.port })
    upstream.setNoDelay(true)
    const pipe: Pipe = { client, upstream, toUpstream: [], toClient: [] }
    pipes.add(pipe)
    client.on('data', (chunk: Buffer) => {
      if (holding()) pipe.toUpstream.push(chunk)
      else upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (holding()) pipe.toClient.push(chunk)
      else client.write(chunk)
    })
    const end = () => {
      if (pipes.has(pipe)) destroy(pipe, false)
    }
    for (const socket of [client, upstream]) {
      socket.on('error', end)
      socket.on('close', end)
    }
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('fault proxy: no port')
  const port = address.port

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get openConnections() {
      return pipes.size
    },
    reset(ms) {
      refuseUntil = Date.now() + ms
      for (const pipe of [...pipes]) destroy(pipe, true)
    },
    hold(ms) {
      holdUntil = Date.now() + ms
      clearTimeout(holdTimer)
      holdTimer = setTimeout(release, ms)
    },
    heal() {
      refuseUntil = 0
      release()
    },
    async close() {
      release()
      for (const pipe of [...pipes]) destroy(pipe, false)
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
