import { podLauncher } from '@strata-cache/app-kit/testing'

export type { Pod } from '@strata-cache/app-kit/testing'
export { jsonBody } from '@strata-cache/app-kit/testing'

/** This app's pods: `node dist/main.js` (built by the global setup) run in the app's folder. */
export const { startPods, startPod, runToExit } = podLauncher(new URL('..', import.meta.url).pathname)
