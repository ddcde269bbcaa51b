/** Request/response over a Node IPC channel (parent ↔ forked child), in either direction. */
import type { ChildProcess } from 'node:child_process'

type Endpoint = Pick<ChildProcess, 'send' | 'on' | 'off'> | NodeJS.Process

interface Request {
  rpc: 'req'
  id: number
  cmd: string
  args: unknown
}

interface Response {
  rpc: 'res'
  id: number
  ok: boolean
  value?: unknown
  error?: string
}

type Handler = (args: never) => unknown | Promise<unknown>

let nextId = 1
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
const listening = new WeakSet<object>()

function listen(endpoint: Endpoint): void {
  if (listening.has(endpoint)) return
  listening.add(endpoint)
  ;(endpoint as NodeJS.EventEmitter).on('message', (message: unknown) => {
    const res = message as Response
    if (res?.rpc !== 'res') return
    const waiter = pending.get(res.id)
    if (waiter === undefined) return
    pending.delete(res.id)
    if (res.ok) waiter.resolve(res.value)
    else waiter.reject(new Error(res.error))
  })
}

/** Calls `cmd` on the other side; rejects with its error message. */
export function call<T>(endpoint: Endpoint, cmd: string, args: unknown = {}): Promise<T> {
  listen(endpoint)
  const id = nextId++
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
    const request: Request = { rpc: 'req', id, cmd, args }
    const send = endpoint.send as (message: unknown, callback: (error: Error | null) => void) => boolean
    send.call(endpoint, request, (error) => {
      if (error) {
        pending.delete(id)
        reject(error)
      }
    })
  })
}

/** Answers the other side's calls with `handlers`. */
export function serve(endpoint: Endpoint, handlers: Record<string, Handler>): void {
  ;(endpoint as NodeJS.EventEmitter).on('message', async (message: unknown) => {
    const req = message as Request
    if (req?.rpc !== 'req') return
    const handler = handlers[req.cmd]
    let res: Response
    try {
      if (handler === undefined) throw new Error(`unknown command ${req.cmd}`)
      res = { rpc: 'res', id: req.id, ok: true, value: await handler(req.args as never) }
    } catch (error) {
      res = {
        rpc: 'res',
        id: req.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }
    }
    endpoint.send?.(res)
  })
}
