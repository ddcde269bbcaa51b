/**
 * Helpers the workspace's tests share (`@strata-cache/test-suite/testing`): free loopback ports,
 * polling waits, one launcher for child-process pods, and a TCP fault proxy (reset / hold one
 * pod's connections). Private to the workspace.
 * @packageDocumentation
 */
export type { ChildPod, ChildPodOptions, PodChannel, PodEvent, PodStopOptions } from './child-pod.ts'
export { SOURCE_EXEC_ARGV, startChildPod } from './child-pod.ts'
export type { FaultProxy, FaultProxyTarget } from './fault-proxy.ts'
export { startFaultProxy } from './fault-proxy.ts'
export { freePort, LOOPBACK } from './free-port.ts'
export { sleep, steady, until } from './wait.ts'
