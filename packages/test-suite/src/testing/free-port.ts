import { createServer } from 'node:net'

/** The loopback address every test server and pod binds to. */
export const LOOPBACK = '127.0.0.1'

/** A port nobody listens on right now: bind port 0 on loopback, read it, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, LOOPBACK, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('freePort: no port assigned'))))
    })
  })
}
