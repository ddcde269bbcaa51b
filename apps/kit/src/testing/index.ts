export { buildApp } from './build-app.ts'
export { jsonBody } from './json-body.ts'
export type { Pod, PodLauncher } from './pods.ts'
export { podLauncher } from './pods.ts'
