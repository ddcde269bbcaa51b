import { describe, expect, it } from 'vitest'
import { ConfigError, describeCluster, envRedisCluster, loadBaseConfig } from '../src/index.ts'

const DEFAULTS = { port: 3999, databasePath: './data/kit.db' }

describe('REDIS_CLUSTER_NODES', () => {
  it('reads seed nodes as host:port or URLs; the first URL with credentials gives every node its user', () => {
    expect(envRedisCluster({})).toBeUndefined()
    expect(envRedisCluster({ REDIS_CLUSTER_NODES: ' redis-0:6379, redis-1 ' })).toEqual({
      nodes: [
        { host: 'redis-0', port: 6379 },
        { host: 'redis-1', port: 6379 },
      ],
    })
    const cluster = envRedisCluster({
      REDIS_CLUSTER_NODES: 'rediss://thermal:s%40cret@redis-0:7000,redis://other:pw@redis-1:7001',
    })
    expect(cluster).toEqual({
      nodes: [
        { host: 'redis-0', port: 7000 },
        { host: 'redis-1', port: 7001 },
      ],
      options: { redisOptions: { username: 'thermal', password: 's@cret', tls: {} } },
    })
    expect(describeCluster(cluster!)).toBe('redis-0:7000,redis-1:7001')
  })

  it('refuses what is not a node, masking credentials, and REDIS_URL with it', () => {
    expect(() => envRedisCluster({ REDIS_CLUSTER_NODES: 'http://x:1' })).toThrow(ConfigError)
    expect(() => envRedisCluster({ REDIS_CLUSTER_NODES: 'redis://u:secret@:7000' })).toThrow(/\*\*\*@/)
    expect(() =>
      loadBaseConfig({ REDIS_URL: 'redis://x:1', REDIS_CLUSTER_NODES: 'redis-0:6379' }, DEFAULTS),
    ).toThrow(/not both/)
    expect(loadBaseConfig({ REDIS_CLUSTER_NODES: 'redis-0:6379' }, DEFAULTS).redisCluster).toEqual({
      nodes: [{ host: 'redis-0', port: 6379 }],
    })
  })
})
