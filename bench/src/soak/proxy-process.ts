/**
 * The fault proxy in a process of its own (forked by the soak with `host port`): a stall of the
 * soak's own event loop must not hold pod A's bytes, which would be a fault nobody injected.
 * Answers `{ id, op: 'reset' | 'hold' | 'heal' | 'close', args: { ms } }` over IPC; exits when the
 * parent goes. Reports its own stalls (no 20 ms tick for 100 ms or more: pod A's bytes, its bus
 * messages included, waited that long with no fault injected) as `{ event: 'stall', at, ms }`, `at`
 * in epoch ms.
 */
import { startFaultProxy } from '@strata-cache/test-suite/testing'

interface Request {
  id: number
  op: string
  args: { ms?: number }
}

const [host = '127.0.0.1', port = ''] = process.argv.slice(2)
const proxy = await startFaultProxy({ host, port: Number(port) })
const send = (message: unknown) => process.send?.(message)

process.on('message', async (request: Request) => {
  try {
    switch (request.op) {
      case 'reset':
        proxy.reset(request.args.ms ?? 0)
        break
      case 'hold':
        proxy.hold(request.args.ms ?? 0)
        break
      case 'heal':
        proxy.heal()
        break
      case 'close':
        await proxy.close()
        send({ id: request.id, ok: true })
        process.exit(0)
        break
      default:
        throw new Error(`unknown op ${request.op}`)
    }
    send({ id: request.id, ok: true })
  } catch (error) {
    send({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) })
  }
})
process.on('disconnect', () => process.exit(0))

let lastTick = Date.now()
setInterval(() => {
  const now = Date.now()
  if (now - lastTick >= 100) send({ event: 'stall', at: lastTick, ms: now - lastTick })
  lastTick = now
}, 20).unref()
send({ event: 'started', port: proxy.port, url: proxy.url })
