/** Values every store must round-trip unchanged (JSON-like plus Dates), with a label for test names. */
export const sampleValues: readonly (readonly [label: string, value: unknown])[] = [
  [
    'a nested object',
    {
      user: { id: 7, name: 'Ada', roles: ['admin', 'ops'], address: { city: 'Zürich', zip: null } },
      ok: true,
    },
  ],
  ['an array of mixed items', [1, 'two', { three: 3 }, [4, [5]], null, false]],
  ['a string', 'rack 12 / slot 3'],
  ['an empty string', ''],
  ['a string with non-ASCII characters', 'Grüße — 日本語 🚀'],
  ['an integer', 42],
  ['zero', 0],
  ['a negative fraction', -12.375],
  ['a large safe integer', Number.MAX_SAFE_INTEGER],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an empty object', {}],
  ['an empty array', []],
  ['a Date', new Date('2024-05-06T07:08:09.010Z')],
  [
    'an object holding Dates',
    { at: new Date('2023-01-02T03:04:05.006Z'), history: [new Date('2020-02-29T00:00:00.000Z')], label: 'x' },
  ],
]

/** Values a JSON store must refuse with E_SERIALIZATION rather than store changed. */
export function unserializableValues(): (readonly [label: string, value: unknown])[] {
  const cycle: Record<string, unknown> = { name: 'loop' }
  cycle.self = cycle
  return [
    ['a function', () => 1],
    ['an object holding a function', { compute: () => 1 }],
    ['a cycle', cycle],
    ['a BigInt', { count: 10n }],
    ['a Map', new Map([['a', 1]])],
  ]
}
