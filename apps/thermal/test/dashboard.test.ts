import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, hasChromium, launchChromium, type Page } from '@strata-cache/app-kit/testing'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, startPods } from './pods.ts'

// The live page in a real browser (Debian's Chromium, driven by playwright-core), on three pods
// sharing one Redis and one database. SCREENSHOT_DIR=docs refreshes the README's screenshot.
const TOKEN = 'dashboard-admin-token-0123456789abcdef'
const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'strata-screenshots')
let dir: string
let redis: RedisServer
let pods: Pod[]
let browser: Browser
let page: Page

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'thermal-dashboard-'))
  redis = await startRedisServer({ ownServer: true })
  pods = await startPods(3, {
    REDIS_URL: redis.url,
    DATABASE_PATH: join(dir, 'thermal.db'),
    CACHE_ADMIN_TOKEN: TOKEN,
    OPTIMIZATION_EVALUATIONS: '10',
    DASHBOARD_SAMPLE_INTERVAL: '250ms',
    DASHBOARD_WINDOW: '20s',
  })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  await page.goto(`${pods[1]!.url}/dashboard`)
  await page.locator('#stream.live').waitFor({ timeout: 10_000 })
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all((pods ?? []).map((pod) => pod.stop()))
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function rackWithDevice(via: Pod, name: string): Promise<number> {
  const rack = await via.json<{ id: number }>('/api/racks', jsonBody('POST', { name, heightU: 42 }))
  expect(rack.status).toBe(201)
  return rack.body.id
}

describe.skipIf(!hasChromium())(
  'the live page (Chromium; skipped without a chromium binary, which .ci/run installs)',
  () => {
    it('on pod 2 shows, within a second, the rack.updated event of a write on pod 1', async () => {
      const [p1] = pods as [Pod]
      const id = await rackWithDevice(p1, 'live')
      const written = performance.now()
      const added = await p1.json(
        `/api/racks/${id}/positions`,
        jsonBody('POST', { name: 'gpu', startU: 10, heightU: 2, powerWatts: 900 }),
      )
      expect(added.status).toBe(201)
      const event = page.locator('#feed-list li[data-channel="rack.updated"]', { hasText: `"rackId":${id}` })
      await event.first().waitFor({ timeout: 1000 })
      const elapsed = performance.now() - written
      console.log(
        `[thermal] rack.updated from pod 1 shown on pod 2's page ${elapsed.toFixed(0)} ms after the write`,
      )
      expect(elapsed).toBeLessThan(1000)
      // It names the pod that took the write: pod 1's host:pid.
      await expect(event.first().textContent()).resolves.toContain(`:${p1.pid}`)
      // And the invalidation it caused arrived over the bus.
      await page
        .locator('#feed-list li[data-kind="invalidation"]', { hasText: 'from another pod' })
        .first()
        .waitFor({ timeout: 1000 })
    })

    it('an invalid token shows a clear message; the right one runs the action', async () => {
      await page.fill('#token', 'not-the-admin-token')
      await page.fill('#pattern', 'thermal:rack:*')
      await page.click('#invalidate')
      const message = page.locator('#admin-message')
      await expect.poll(() => message.textContent()).toContain('Invalid admin token')
      await expect(message.getAttribute('class')).resolves.toBe('error')

      await page.fill('#token', '')
      await page.click('#clear')
      await expect.poll(() => message.textContent()).toContain('Type the admin token first')

      await page.fill('#token', TOKEN)
      await page.click('#invalidate')
      await expect.poll(() => message.textContent()).toMatch(/^Invalidated thermal:rack:\*: \d+ removed$/)
    })

    it('pause-warming sent from the page runs on every pod and shows on each', async () => {
      await page.fill('#token', TOKEN)
      await page.click('button[data-command="pause-warming"]')
      await expect.poll(() => page.locator('#admin-message').textContent()).toContain('sent to every pod')
      for (const pod of pods) {
        await expect
          .poll(async () => (await pod.json<{ paused: boolean }>('/api/warming')).body.paused, {
            timeout: 2000,
          })
          .toBe(true)
      }
      await expect
        .poll(() => page.locator('[data-field="warming.paused"]').textContent(), { timeout: 2000 })
        .toBe('true')
      await expect(
        page.locator('#feed-list li[data-kind="control"]').first().textContent(),
      ).resolves.toContain('pause-warming')
      const resumed = await pods[2]!.json('/admin/control', {
        ...jsonBody('POST', { command: 'resume-warming' }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      })
      expect(resumed.status).toBe(202)
      for (const pod of pods) {
        await expect
          .poll(async () => (await pod.json<{ paused: boolean }>('/api/warming')).body.paused, {
            timeout: 2000,
          })
          .toBe(false)
      }
    })

    it('draws the hit-rate chart from the samples, with L1, L2 and bus health (screenshot taken)', async () => {
      const [, p2] = pods as [Pod, Pod]
      const id = await rackWithDevice(p2, 'chart')
      // Reads over a few seconds: a miss, then hits, and a second rack's miss halfway.
      const other = await rackWithDevice(p2, 'chart-2')
      for (let i = 0; i < 16; i++) {
        const rack = i === 8 ? other : id
        expect((await p2.get(`/api/racks/${rack}/thermal-analysis`)).status).toBe(200)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      const chart = page.locator('#hit-chart')
      await expect
        .poll(async () => Number(await chart.getAttribute('data-samples')), { timeout: 5000 })
        .toBeGreaterThan(10)
      await expect.poll(() => chart.locator('polyline.rate').count(), { timeout: 5000 }).toBeGreaterThan(0)
      await expect(page.locator('#hit-summary').textContent()).resolves.toMatch(/of \d+ reads/)
      const roles = await page.locator('#tiers tbody tr td:first-child').allTextContents()
      expect(roles).toEqual(['L1', 'L2', 'BUS'])
      await expect(page.locator('#tiers tbody tr:nth-child(2) td:nth-child(4)').textContent()).resolves.toBe(
        'closed',
      )
      await expect(page.locator('#status').textContent()).resolves.toBe('up')
      mkdirSync(SCREENSHOTS, { recursive: true })
      const path = join(SCREENSHOTS, 'thermal-dashboard.png')
      await page.screenshot({ path, fullPage: true })
      console.log(`[thermal] dashboard screenshot: ${path}`)
    })
  },
)
