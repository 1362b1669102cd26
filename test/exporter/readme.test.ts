// The README's metric table is generated from the metric definitions: it must match them, and
// every metric the exporter can serve must be defined there (and so documented).
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {METRICS, metricsTable} from '../../src/exporter/metrics.js'
import {ROOT} from '../helpers/cli.js'

test('the README metric table is the one generated from src/exporter/metrics.ts', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf('<!-- metrics-table:start')
  const end = readme.indexOf('<!-- metrics-table:end -->')
  assert.ok(start >= 0 && end > start, 'README.md has the metrics-table markers')
  const block = readme.slice(readme.indexOf('\n', start) + 1, end).trim()
  assert.equal(
    block,
    metricsTable(),
    'README.md metric table is stale: run `npm run build && node bin/metrics-table.mjs`',
  )
})

test('metric names follow the conventions: one prefix, _total on counters only, _info gauges, base units', () => {
  const names = new Set<string>()
  for (const m of METRICS) {
    assert.ok(!names.has(m.name), `${m.name} defined twice`)
    names.add(m.name)
    assert.match(m.name, /^tailcalls_[a-z][a-z0-9_]*$/)
    assert.equal(m.name.endsWith('_total'), m.type === 'counter', `${m.name}: _total exactly on counters`)
    if (m.name.endsWith('_info')) assert.equal(m.type, 'gauge')
    assert.doesNotMatch(m.name, /_(ns|nanoseconds|ms|milliseconds|kb|mb)(_|$)/, `${m.name}: base units`)
    assert.ok(!m.labels.includes('cpu'), `${m.name}: no per-CPU labels`)
    assert.ok(!m.labels.includes('instance') && !m.labels.includes('node'), `${m.name}: target labels are Prometheus's`)
    assert.ok(m.help.length > 20, `${m.name} has a HELP text`)
  }

  const run = METRICS.find((m) => m.name === 'tailcalls_program_run_count_total')!
  assert.match(run.help, /tail-called programs always read 0/, 'HELP says why tail-called programs read 0')
})
