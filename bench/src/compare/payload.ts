/** The cached values: ~1 KB JSON objects that say which key and version they belong to. */

export interface Payload {
  id: number
  version: number
  name: string
  tags: string[]
  owner: { team: string; region: string }
  body: string
}

const FILLER = 'lorem ipsum dolor sit amet '.repeat(32).slice(0, 880)

/** About 1 KB once serialized to JSON. */
export function makePayload(id: number, version = 0): Payload {
  return {
    id,
    version,
    name: `device-${id}`,
    tags: ['rack', `row-${id % 40}`, `zone-${id % 7}`],
    owner: { team: 'thermal', region: 'eu-west' },
    body: FILLER,
  }
}

/** True when `value` is the payload of `id` (any version unless one is given). */
export function isPayloadOf(value: unknown, id: number, version?: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  const p = value as Partial<Payload>
  return p.id === id && (version === undefined || p.version === version) && typeof p.body === 'string'
}

export function versionOf(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const v = (value as Partial<Payload>).version
  return typeof v === 'number' ? v : undefined
}
