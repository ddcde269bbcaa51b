import { hashParams } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { roundModelParams, TEMPERATURE_STEP_C } from '../src/model-params.ts'

describe('roundModelParams', () => {
  it('rounds to 0.1 °C, so inputs closer than that are one cache key', () => {
    expect(TEMPERATURE_STEP_C).toBe(0.1)
    const keys = new Set(
      [20, 20.000001, 20.02, 19.96, 20.049999].map((supplyC) =>
        hashParams(roundModelParams({ supplyC, thresholdC: 27 })),
      ),
    )
    expect(keys.size).toBe(1)
    expect(roundModelParams({ supplyC: 20.000001, thresholdC: 26.96 })).toEqual({
      supplyC: 20,
      thresholdC: 27,
    })
    expect(hashParams(roundModelParams({ supplyC: 20.1, thresholdC: 27 }))).not.toBe([...keys][0])
  })

  it('gives the decimal itself, never a float artefact, and no negative zero', () => {
    expect(roundModelParams({ supplyC: 18.25000001, thresholdC: 0.1 + 0.2 })).toEqual({
      supplyC: 18.3,
      thresholdC: 0.3,
    })
    expect(Object.is(roundModelParams({ supplyC: -0.01, thresholdC: 30 }).supplyC, 0)).toBe(true)
  })

  it('bounds the distinct keys a caller can make: at most one per 0.1 °C of the allowed range', () => {
    const keys = new Set<string>()
    for (let i = 0; i <= 30_000; i++) {
      keys.add(hashParams(roundModelParams({ supplyC: 5 + i / 1000, thresholdC: 27 })))
    }
    expect(keys.size).toBe(301) // 5.0 to 35.0
  })
})
