import { buildApp } from '@strata-cache/app-kit/testing'

/** Builds dist/main.js once: the HTTP tests run the artifact that ships, as separate processes. */
export default function setup(): void {
  buildApp(new URL('..', import.meta.url).pathname)
}
