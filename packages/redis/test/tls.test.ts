import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import { freePort, sleep } from '@strata-cache/test-suite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { entry, recordEvents, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

// rediss:// end to end: a CA and a server certificate made here with openssl, a redis-server of our
// own serving TLS only (--port 0 --tls-port), and a RedisStore that trusts that CA and no other.
const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server'
const PASSWORD = 'tls-test-password'
const hasOpenssl = spawnSync('openssl', ['version']).status === 0
const hasTlsRedis =
  spawnSync(REDIS_SERVER_BIN, ['--version']).status === 0 &&
  // A build without TLS refuses the option at once; one with it fails later (no certificate given).
  !/Unrecognized option|Bad directive/i.test(
    spawnSync(
      REDIS_SERVER_BIN,
      ['--port', '0', '--tls-port', '0', '--daemonize', 'no', '--loglevel', 'warning'],
      {
        timeout: 2_000,
        encoding: 'utf8',
      },
    ).stdout ?? '',
  )

let dir: string
let port: number
let ca: string
let server: ChildProcess | undefined

/** A CA, and a certificate for 127.0.0.1 and localhost that it signed (EC keys: fast to make). */
function makeCertificates(folder: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: folder, stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=strata test CA',
  )
  openssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost')
  writeFileSync(join(folder, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.cnf',
  )
}

/** True once a TLS handshake with the server (trusting `ca`) succeeds. */
function handshake(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      socket.end()
      resolve(true)
    })
    socket.setTimeout(500, () => {
      socket.destroy()
      resolve(false)
    })
    socket.on('error', () => resolve(false))
  })
}

describe.skipIf(!hasOpenssl || !hasTlsRedis)(
  'RedisStore over TLS (rediss://, a CA made by the test; skipped without openssl or a TLS build of redis-server)',
  () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'strata-tls-'))
      makeCertificates(dir)
      ca = readFileSync(join(dir, 'ca.crt'), 'utf8')
      port = await freePort()
      const child = spawn(
        REDIS_SERVER_BIN,
        [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--tls-cert-file',
          join(dir, 'server.crt'),
          '--tls-key-file',
          join(dir, 'server.key'),
          '--tls-ca-cert-file',
          join(dir, 'ca.crt'),
          '--tls-auth-clients',
          'no',
          '--requirepass',
          PASSWORD,
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          dir,
          '--logfile',
          join(dir, 'redis.log'),
        ],
        { stdio: 'ignore' },
      )
      server = child
      const deadline = Date.now() + 10_000
      while (!(await handshake())) {
        if (child.exitCode !== null)
          throw new Error(`redis-server exited: ${readFileSync(join(dir, 'redis.log'), 'utf8')}`)
        if (Date.now() > deadline) throw new Error('redis-server did not answer TLS within 10 s')
        await sleep(50)
      }
    }, 30_000)

    afterAll(async () => {
      const child = server
      if (child?.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        process.kill(child.pid, 'SIGTERM')
        await Promise.race([exited, sleep(5_000)])
        if (child.exitCode === null) process.kill(child.pid, 'SIGKILL')
      }
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
    })

    it('writes and reads an entry through rediss:// with the CA given in redisOptions.tls', async () => {
      const store = new RedisStore({
        url: `rediss://:${PASSWORD}@127.0.0.1:${port}`,
        prefix: uniquePrefix('tls'),
        commandTimeout: TEST_COMMAND_TIMEOUT,
        redisOptions: { tls: { ca, servername: 'localhost' } },
      })
      try {
        await store.set('secure:1', entry({ over: 'tls' }, { tags: ['t:1'] }))
        expect((await store.get('secure:1'))?.value).toEqual({ over: 'tls' })
        expect(await store.deleteTags(['t:1'])).toBe(1)
        expect(await store.get('secure:1')).toBeUndefined()
        expect(store.isAvailable()).toBe(true)
      } finally {
        await store.close()
      }
    })

    it('refuses a server whose certificate it cannot verify (no CA given): a miss and an error, never plain text', async () => {
      const store = new RedisStore({
        url: `rediss://:${PASSWORD}@127.0.0.1:${port}`,
        prefix: uniquePrefix('tls'),
        commandTimeout: TEST_COMMAND_TIMEOUT,
      })
      const events = recordEvents(store)
      try {
        await store.set('secure:2', entry('v')).catch(() => {})
        expect(await store.get('secure:2').catch(() => undefined)).toBeUndefined()
        const deadline = Date.now() + 5_000
        const reported = () =>
          events
            .filter((e) => e.type === 'error')
            .map((e) =>
              String((e as { error?: { cause?: unknown } }).error?.cause ?? (e as { error?: unknown }).error),
            )
            .join(' | ')
        while (!/certificate/i.test(reported()) && Date.now() < deadline) await sleep(50)
        expect(reported()).toMatch(/self[- ]signed certificate|unable to verify/i)
        expect(store.isAvailable()).toBe(false)
      } finally {
        await store.close()
      }
    })
  },
)
