import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'

export type { Browser, Page } from 'playwright-core'

/** Debian's Chromium (`apt-get install chromium`, which .ci/run does); `CHROMIUM_PATH` points elsewhere. No browser is downloaded. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Whether the browser tests can run here. */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH)
}

/** Headless Chromium driven by playwright-core (sandbox off: CI runs as root). Close it after. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] })
}

/** Opens `<podUrl>/dashboard` in a new page and waits until its event stream is live. */
export async function openLivePage(browser: Browser, podUrl: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  await page.goto(`${podUrl}/dashboard`)
  await page.locator('#stream.live').waitFor({ timeout: 10_000 })
  return page
}

/** A full-page screenshot under `SCREENSHOT_DIR` (`docs` refreshes an app's README picture), else the temp folder; returns its path. */
export async function screenshotPage(page: Page, name: string): Promise<string> {
  const dir = process.env.SCREENSHOT_DIR ?? join(tmpdir(), 'strata-screenshots')
  mkdirSync(dir, { recursive: true })
  const path = join(dir, name)
  await page.screenshot({ path, fullPage: true })
  return path
}
