import type { Registry } from 'prom-client'

/** One sample of the Prometheus text format. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the text exposition format (what Prometheus scrapes) into samples. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null) throw new Error(`unparseable exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const m of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[m[1]!] = m[2]!.replace(/\\(.)/g, '$1')
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return samples
}

/** Scrapes the registry the way Prometheus would. */
export async function scrape(registry: Registry): Promise<Sample[]> {
  return parseExposition(await registry.metrics())
}

/** The samples of one metric summed by the labels given (like PromQL `sum by`), as `label=value,...` → value. */
export function series(samples: Sample[], name: string, labelNames: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of samples) {
    if (s.name !== name) continue
    const id = labelNames.map((l) => `${l}=${s.labels[l] ?? ''}`).join(',')
    out[id] = (out[id] ?? 0) + s.value
  }
  return out
}
