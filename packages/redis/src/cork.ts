/** Sockets held corked until the end of the current tick. */
const corked = new WeakSet<object>()

/**
 * Holds the commands a connection is sent during this tick in its socket and writes them together
 * (one writev) once the tick's callbacks have run. Concurrent callers then share a syscall — on a
 * small VM it costs more than the rest of a GET — and a lone command still leaves before the loop
 * moves on, where ioredis auto-pipelining waits for setImmediate. Order on the connection is
 * unchanged. A client without a single socket (a Cluster) is left alone. Measured (100 concurrent
 * L2 reads of 1 KB values through createCache): 32.5k -> 41k ops/s; one caller at a time: 8.9k -> 10.8k.
 */
export function corkUntilNextTick(client: object): void {
  const stream = (client as { stream?: { cork?(): void; uncork(): void } }).stream
  if (stream === undefined || typeof stream.cork !== 'function' || corked.has(stream)) return
  stream.cork()
  corked.add(stream)
  process.nextTick(() => {
    corked.delete(stream)
    stream.uncork()
  })
}
