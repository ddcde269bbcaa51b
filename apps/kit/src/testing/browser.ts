import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

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
