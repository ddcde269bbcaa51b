/**
 * Just enough of a Redis client for starting servers: RESP commands on a fresh socket, raw reply
 * text back. Enough for PING, AUTH and CLUSTER INFO; no client library needed.
 */
import { Socket } from 'node:net'
import { LOOPBACK } from '../testing/free-port.ts'

function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`
  return out
}

/**
 * Sends commands on a fresh connection and resolves the raw reply text once `done(text)` holds
 * (or rejects on timeout).
 */
export function rawCommands(
  port: number,
  commands: readonly (readonly string[])[],
  done: (text: string) => boolean,
  timeoutMs: number,
  host = LOOPBACK,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    let text = ''
    const timer = setTimeout(
      () => finish(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    )
    function finish(error?: Error): void {
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(text)
    }
    socket.once('error', (error) => finish(error))
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8')
      if (done(text)) finish()
    })
    socket.connect(port, host, () => socket.write(commands.map(encodeCommand).join('')))
  })
}

/** True when the server at `host:port` answers PING (after AUTH when a password is given) within `timeoutMs`. */
export async function pingPort(
  port: number,
  password: string | undefined,
  timeoutMs: number,
  host = LOOPBACK,
): Promise<boolean> {
  const commands: string[][] = password === undefined ? [['PING']] : [['AUTH', password], ['PING']]
  try {
    const reply = await rawCommands(
      port,
      commands,
      (t) => t.includes('+PONG') || t.includes('-'),
      timeoutMs,
      host,
    )
    return reply.includes('+PONG')
  } catch {
    return false
  }
}
