/** Analysis parameters a caller may change: supply air and hotspot threshold, in °C. */
export interface ModelParams {
  supplyC: number
  thresholdC: number
}

/**
 * The precision the model's inputs are meaningful to, °C: rack inlet sensors and the ASHRAE
 * envelopes are stated to a tenth of a degree, and the model's answer does not change in a way that
 * matters below it.
 */
export const TEMPERATURE_STEP_C = 0.1

/**
 * The parameters rounded to {@link TEMPERATURE_STEP_C} before they are hashed into a cache key, so
 * that `supplyC=20.000001`, `20.02` and `20` are one entry and one computation, not three: a caller
 * cannot make a pod compute once per float it sends. The answer reports the rounded values.
 */
export function roundModelParams(params: ModelParams): ModelParams {
  return { supplyC: toStep(params.supplyC), thresholdC: toStep(params.thresholdC) }
}

function toStep(value: number): number {
  const steps = Math.round(value / TEMPERATURE_STEP_C)
  // Division by 10 (not multiplication by 0.1) gives the double nearest to the decimal: 20.1, not 20.100000000000001.
  return steps / Math.round(1 / TEMPERATURE_STEP_C) + 0
}
