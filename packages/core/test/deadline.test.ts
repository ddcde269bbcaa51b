import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { withDeadline } from '../src/internal.ts'

function blockFor(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // a busy event loop, as under CPU contention or a long synchronous task
  }
}

describe('withDeadline', () => {
  it('resolves with the value when it comes in time', async () => {
    await expect(withDeadline(Promise.resolve(7), 50, () => new Error('late'))).resolves.toBe(7)
  })

  it('rejects with the timeout error when nothing comes, telling how late the timer ran', async () => {
    let late = -1
    const never = new Promise<never>(() => {})
    await expect(
      withDeadline(never, 5, ({ lateMs }) => {
        late = lateMs
        return new Error('too slow')
      }),
    ).rejects.toThrow('too slow')
    expect(late).toBeGreaterThanOrEqual(0)
  })

  it('passes the rejection of the promise through', async () => {
    await expect(
      withDeadline(Promise.reject(new Error('boom')), 50, () => new Error('late')),
    ).rejects.toThrow('boom')
  })

  it('does not fail a reply that arrived while the event loop was blocked past the deadline', async () => {
    // Another process answers at once; this one is blocked until well after the deadline, so when
    // its loop runs again the expired timer comes before the pipe is read (timers precede poll).
    const echo = spawn(process.execPath, [
      '-e',
      "process.stdin.on('data', () => process.stdout.write('pong'))",
    ])
    try {
      echo.stdin.write('warm-up')
      await new Promise((resolve) => echo.stdout.once('data', resolve))
      // Start from the check phase, so the next loop iteration begins with the timers phase.
      await new Promise((resolve) => setImmediate(resolve))
      const reply = new Promise<string>((resolve) =>
        echo.stdout.once('data', (data) => resolve(String(data))),
      )
      echo.stdin.write('ping')
      const pending = withDeadline(reply, 10, ({ lateMs }) => new Error(`timed out, ${lateMs} ms late`))
      blockFor(200)
      await expect(pending).resolves.toBe('pong')
    } finally {
      echo.kill()
    }
  })

  describe('restartAfterStall', () => {
    // Work that only starts once the loop is free again (a command queued for auto-pipelining is
    // written to its socket on the next turn) and then takes a moment.
    const startsAfterTheStall = () =>
      new Promise<string>((resolve) => setImmediate(() => setTimeout(() => resolve('reply'), 5)))

    it('does not count a stall: the deadline starts over once and the late work still makes it', async () => {
      const without = withDeadline(startsAfterTheStall(), 20, () => new Error('timed out'))
      const withRestart = withDeadline(startsAfterTheStall(), 20, () => new Error('timed out'), {
        restartAfterStall: true,
      })
      blockFor(100)
      await expect(without).rejects.toThrow('timed out')
      await expect(withRestart).resolves.toBe('reply')
    })

    it('restarts only once, and reports the blocked time it did not count', async () => {
      let info = { lateMs: -1, forgivenMs: -1 }
      const never = new Promise<never>(() => {})
      const pending = withDeadline(
        never,
        20,
        (i) => {
          info = i
          return new Error('timed out')
        },
        { restartAfterStall: true },
      )
      blockFor(100)
      await expect(pending).rejects.toThrow('timed out')
      expect(info.forgivenMs).toBeGreaterThanOrEqual(70)
    })

    it('does not restart a deadline whose timer ran on time', async () => {
      let info = { lateMs: -1, forgivenMs: -1 }
      await expect(
        withDeadline(
          new Promise<never>(() => {}),
          100,
          (i) => {
            info = i
            return new Error('timed out')
          },
          { restartAfterStall: true },
        ),
      ).rejects.toThrow('timed out')
      expect(info.forgivenMs).toBe(0)
    })
  })
})
