import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { Cache } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { prometheusMetrics } from '../src/prometheus.ts'

// The operator-facing files in deploy/ must parse and may only use metrics this package exports.
const deploy = new URL('../../../deploy/', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, deploy), 'utf8')

interface Rule {
  alert: string
  expr: string
  for?: string
  labels: Record<string, string>
  annotations: Record<string, string>
}
interface Panel {
  type: string
  title: string
  targets?: { expr: string }[]
}

function exportedNames(): Set<string> {
  const registry = new Registry()
  prometheusMetrics(new Cache({ store: new MemoryStore() }), { registry })
  const names = new Set<string>()
  for (const metric of registry.getMetricsAsArray() as unknown as { name: string; type: string }[]) {
    names.add(metric.name)
    if (metric.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(metric.name + s)
  }
  return names
}

/** Metric names a PromQL expression reads (every `cache_…` identifier). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(cache_[a-z_]+)\b/g)].map((m) => m[1]!)
}

const alerts = parse(read('prometheus/alerts.yml')) as { groups: { name: string; rules: Rule[] }[] }
const rules = alerts.groups.flatMap((g) => g.rules.map((r) => ({ ...r, expr: r.expr.trim() })))
const dashboard = JSON.parse(read('grafana/strata-dashboard.json')) as { uid: string; panels: Panel[] }
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))

describe('deploy/prometheus/alerts.yml', () => {
  it("has the operator's four alerts with their thresholds", () => {
    const byName = new Map(rules.map((r) => [r.alert, r]))
    expect(byName.get('StrataCacheHitRateLow')?.expr).toMatch(/> 0\.30/) // miss ratio above 30 % = hit rate below 70 %
    expect(byName.get('StrataCacheErrors')?.expr).toMatch(/increase\(cache_errors_total\[5m\]\)\) > 10$/)
    expect(byName.get('StrataCacheLatencyHigh')?.expr).toMatch(/histogram_quantile\(0\.99,.*\) > 0\.1$/s)
    expect(byName.get('StrataCacheCircuitBreakerOpen')?.expr).toMatch(/cache_circuit_breaker_state\) == 2$/)
    for (const rule of rules) {
      expect(rule.labels.severity, rule.alert).toMatch(/^(warning|critical)$/)
      expect(rule.annotations.summary, rule.alert).toBeTruthy()
      expect(rule.annotations.description, rule.alert).toBeTruthy()
    }
  })

  it('reads only metrics that prometheusMetrics exports', () => {
    const names = exportedNames()
    const used = rules.flatMap((r) => metricsIn(r.expr))
    expect(used.length).toBeGreaterThan(0)
    for (const name of used) expect(names, name).toContain(name)
  })
})

describe('deploy/prometheus/prometheus.yml', () => {
  it('scrapes the three demo apps on their compose ports and paths, and loads the alerts', () => {
    const config = parse(read('prometheus/prometheus.yml')) as {
      rule_files: string[]
      scrape_configs: {
        job_name: string
        metrics_path: string
        dns_sd_configs: { names: string[]; port: number }[]
      }[]
    }
    expect(config.rule_files).toEqual(['alerts.yml'])
    const jobs = Object.fromEntries(
      config.scrape_configs.map((c) => [
        c.job_name,
        `${c.dns_sd_configs[0]!.names[0]}:${c.dns_sd_configs[0]!.port}${c.metrics_path}`,
      ]),
    )
    expect(jobs).toEqual({
      thermal: 'thermal:3001/metrics',
      'device-info': 'device-info:3002/metrics',
      analytics: 'analytics:3003/api/v1/metrics',
    })
  })
})

describe('deploy/grafana/strata-dashboard.json', () => {
  it('has the panels operators asked for', () => {
    const titles = dashboard.panels.map((p) => p.title)
    for (const title of [
      'Hit rate over time',
      'Latency percentiles per tier',
      'Errors by operation and type',
      'Circuit breaker state',
      'L1 entries per pod',
      'L1 bytes per pod',
    ]) {
      expect(titles).toContain(title)
    }
    const ids = dashboard.panels.map((p) => (p as unknown as { id: number }).id)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('reads only metrics that prometheusMetrics exports', () => {
    const names = exportedNames()
    for (const name of exprs.flatMap(metricsIn)) expect(names, name).toContain(name)
  })
})

// promtool is not part of the project's tooling: the test uses it when it is on PATH (or PROMTOOL
// points at it), e.g. from Debian's `prometheus` package, and says so when it is not.
const promtool =
  process.env.PROMTOOL ??
  (process.env.PATH ?? '')
    .split(delimiter)
    .map((d) => join(d, 'promtool'))
    .find(existsSync)

describe.skipIf(promtool === undefined)(
  'promtool checks of deploy/prometheus (skipped without promtool on PATH or PROMTOOL; .ci/run provides it)',
  () => {
    const run = (...args: string[]) =>
      execFileSync(promtool!, args, { cwd: new URL('prometheus/', deploy), encoding: 'utf8', stdio: 'pipe' })

    it('checks the rules and the config, and passes the alert unit tests (alerts.test.yml)', () => {
      expect(run('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: 5 rules found/)
      expect(run('check', 'config', 'prometheus.yml')).toMatch(/SUCCESS/)
      expect(run('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/)
    })

    it('parses every dashboard query as PromQL', () => {
      // Grafana's variables replaced by what they expand to, each query wrapped as a recording rule.
      const concrete = exprs.map((e) =>
        e
          .replaceAll('$__rate_interval', '1m')
          .replaceAll('$job', '.*')
          .replaceAll('$cache', '.*')
          .replaceAll('$l1', 'memory|l1'),
      )
      const rulesYaml = `groups:\n  - name: dashboard\n    rules:\n${concrete
        .map((e, i) => `      - record: dashboard:q${i}\n        expr: ${JSON.stringify(e)}\n`)
        .join('')}`
      const dir = mkdtempSync(join(tmpdir(), 'strata-dashboard-'))
      try {
        writeFileSync(join(dir, 'dashboard-rules.yml'), rulesYaml)
        expect(
          execFileSync(promtool!, ['check', 'rules', join(dir, 'dashboard-rules.yml')], { encoding: 'utf8' }),
        ).toMatch(new RegExp(`SUCCESS: ${concrete.length} rules found`))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  },
)
