/**
 * Helpers the workspace's tests share (`@strata-cache/test-suite/testing`): free loopback ports,
 * polling waits, and one launcher for child-process pods. Private to the workspace.
 * @packageDocumentation
 */
export type { ChildPod, ChildPodOptions, PodChannel, PodEvent, PodStopOptions } from './child-pod.ts'
export { SOURCE_EXEC_ARGV, startChildPod } from './child-pod.ts'
export { freePort, LOOPBACK } from './free-port.ts'
export { sleep, until } from './wait.ts'
