/**
 * Starts real `redis-server` processes for tests, benchmarks and demo scripts: a single node, a
 * 3-master cluster (with replicas, to fail it over: see cluster-failover.ts), a sentinel, or a
 * Sentinel set (master, replicas, sentinels) for failovers, each on free loopback ports with its own
 * temp dir, stopped by pid (and on exit). Set REDIS_URL to use an existing server instead (then pause/kill/restart are
 * unavailable), and REDIS_CLUSTER_NODES=host:port,host:port,... to use an existing cluster.
 * Import from `@strata-cache/test-suite/redis-server`.
 * @packageDocumentation
 */
export type { RedisCluster, RedisClusterNode, RedisClusterOptions } from './redis/cluster.ts'
export { startRedisCluster } from './redis/cluster.ts'
export type { ClusterNodeState } from './redis/cluster-failover.ts'
export { clusterNodes, killMasterOf, masterOf, waitForClusterFailover } from './redis/cluster-failover.ts'
export type { RedisSentinelOptions } from './redis/sentinel.ts'
export { startRedisSentinel } from './redis/sentinel.ts'
export type { RedisSentinelSet, RedisSentinelSetOptions } from './redis/sentinel-set.ts'
export { startRedisSentinelSet } from './redis/sentinel-set.ts'
export type { RedisServer, RedisServerOptions } from './redis/single-node.ts'
export { startRedisServer } from './redis/single-node.ts'
