import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Browser,
  hasChromium,
  launchChromium,
  openLivePage,
  type Page,
  screenshotPage,
} from '@strata-cache/app-kit/testing'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, startPods } from './pods.ts'

// The live page in headless Chromium on three pods (one Redis, one database file).
const TOKEN = 'analytics-dashboard-token-0123456789abcdef'
let dir: string
let redis: RedisServer
let pods: Pod[]
let browser: Browser
let page: Page

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'analytics-dashboard-'))
  redis = await startRedisServer({ ownServer: true })
  pods = await startPods(3, {
    REDIS_URL: redis.url,
    DATABASE_PATH: join(dir, 'analytics.db'),
    CACHE_ADMIN_TOKEN: TOKEN,
    DASHBOARD_SAMPLE_INTERVAL: '250ms',
    DASHBOARD_WINDOW: '20s',
  })
  if (!hasChromium()) return
  browser = await launchChromium()
  page = await openLivePage(browser, pods[1]!.url)
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all((pods ?? []).map((pod) => pod.stop()))
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!hasChromium())(
  'the live page (Chromium; skipped without a chromium binary, which .ci/run installs)',
  () => {
    it('on pod 2 shows, within a second, the invalidation of an event posted to pod 1', async () => {
      const [p1, p2] = pods as [Pod, Pod]
      const event = (value: number) => ({
        workspace: 'ws1',
        user: 'alice',
        agent: 'coder',
        metric: 'tokens',
        value,
        time: new Date().toISOString(),
      })
      expect((await p1.json('/api/v1/events', jsonBody('POST', event(1)))).status).toBe(202)
      // Pod 2 reads the aggregate (a miss, then hits): what the chart shows.
      for (let i = 0; i < 12; i++) {
        expect((await p2.get('/api/v1/analytics/tokens?timeframe=7d')).status).toBe(200)
        await new Promise((resolve) => setTimeout(resolve, 150))
      }
      const written = performance.now()
      expect((await p1.json('/api/v1/events', jsonBody('POST', event(2)))).status).toBe(202)
      await page
        .locator('#feed-list li[data-kind="invalidation"]', { hasText: 'metric:tokens' })
        .filter({ hasText: 'from another pod' })
        .nth(1)
        .waitFor({ timeout: 1000 })
      expect(performance.now() - written).toBeLessThan(1000)
    })

    it('an invalid token shows a clear message', async () => {
      await page.fill('#token', 'wrong-token')
      await page.click('#clear')
      await expect.poll(() => page.locator('#admin-message').textContent()).toContain('Invalid admin token')
    })

    it('draws the hit-rate chart, with L1, L2 and bus health (screenshot taken)', async () => {
      const chart = page.locator('#hit-chart')
      await expect
        .poll(() => chart.locator('polyline.rate, circle.dot').count(), { timeout: 5000 })
        .toBeGreaterThan(0)
      expect(await page.locator('#tiers tbody tr td:first-child').allTextContents()).toEqual([
        'L1',
        'L2',
        'BUS',
      ])
      // No control commands in this app: no buttons.
      expect(await page.locator('#controls button').count()).toBe(0)
      console.log(
        `[analytics] dashboard screenshot: ${await screenshotPage(page, 'analytics-dashboard.png')}`,
      )
    })
  },
)
