import { JsonSerializer } from '@strata-cache/core'
import { makePayload } from '../compare/payload.ts'
import { type BenchRow, type BenchSuite, measure, type Task } from '../harness.ts'

// Issue 15: JsonSerializer on bench:compare's ~1 KB payload, as ratios against plain JSON.stringify
// and JSON.parse of the same values in the same run. `pnpm bench serializer`.
const VALUES = 64
const ROUNDS = 3

export const suite: BenchSuite = {
  name: 'serializer',
  async run() {
    const json = new JsonSerializer()
    const plain = Array.from({ length: VALUES }, (_, i) => makePayload(i))
    // One Date sends a value down the guarded path (a replacer): what every value paid before.
    const dated = plain.map((p, i) => ({ ...p, at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)) }))
    const plainText = plain.map((p) => JSON.stringify(p))
    const datedText = dated.map((p) => json.serialize(p))
    const identity = (_key: string, value: unknown) => value
    let i = 0
    const next = () => {
      i = (i + 1) % VALUES
      return i
    }
    const stringify = 'JSON.stringify(value)'
    const parse = 'JSON.parse(text)'
    const tasks: Task[] = [
      { name: stringify, fn: () => JSON.stringify(plain[next()]) },
      {
        name: 'JsonSerializer.serialize (plain: fast path)',
        fn: () => json.serialize(plain[next()]),
        baseline: stringify,
      },
      {
        name: 'JsonSerializer.serialize (with a Date: guarded path)',
        fn: () => json.serialize(dated[next()]),
        baseline: stringify,
      },
      {
        name: 'JSON.stringify(value, identity replacer)',
        fn: () => JSON.stringify(plain[next()], identity),
        baseline: stringify,
      },
      { name: parse, fn: () => JSON.parse(plainText[next()]!) },
      {
        name: 'JsonSerializer.deserialize (no Date)',
        fn: () => json.deserialize(plainText[next()]!),
        baseline: parse,
      },
      {
        name: 'JsonSerializer.deserialize (with a Date: reviver)',
        fn: () => json.deserialize(datedText[next()]!),
        baseline: parse,
      },
    ]
    // A shared machine: several rounds, each row from the round with its median ratio.
    const rounds: BenchRow[][] = []
    for (let r = 0; r < ROUNDS; r++)
      rounds.push(await measure('serializer', tasks, { time: 700, warmupTime: 200 }))
    return tasks.map((_task, t) => {
      const byRatio = rounds.map((round) => round[t]!).sort((a, b) => (a.slowdown ?? 0) - (b.slowdown ?? 0))
      const row = byRatio[Math.floor(ROUNDS / 2)]!
      if (row.slowdown === undefined) return row
      return { ...row, note: `(rounds: ${byRatio.map((x) => x.slowdown?.toFixed(2)).join(', ')})` }
    })
  },
}
