#!/usr/bin/env node
// Fuzzing at scale: 1,000,000+ cases over inputs taken from the real kernel, across the BTF
// decoder (alone and against libbpf's btf__new as the oracle), the map-value renderer (captured
// map values, bpftool as the oracle for the unmutated ones) and the tail-call site analyser
// (captured xlated instructions). Every case is time-bounded (a watchdog on shared memory, a
// stuck case is replayed alone), the worker heap is capped, and each case replays alone from
// (target, seed, case). See test/helpers/fuzz.ts for what each target checks.
//   node --import tsx bench/fuzz.mjs [--seed N] [--scale 1] [--workers 2]
import {writeFileSync} from 'node:fs'
import {cpus} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {ROOT} from '../test/helpers/cli.js'
import {fuzz} from '../test/helpers/fuzz.js'

const {values: opt} = parseArgs({
  options: {
    scale: {default: '1', type: 'string'},
    seed: {default: '20261125', type: 'string'},
    workers: {default: String(Math.max(1, cpus().length)), type: 'string'},
  },
})
const scale = Number(opt.scale)
const seed = Number(opt.seed)
// Cases per target (sum 1,000,000 at --scale 1): the cheap targets get more.
const PLAN = {btf: 200_000, 'btf-oracle': 200_000, sites: 300_000, values: 300_000}

const rows = []
let failed = 0
let peakRss = 0
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200)
for (const [target, n] of Object.entries(PLAN)) {
  const cases = Math.round(n * scale)
  const r = await fuzz({
    cases,
    chunk: 25_000,
    seed,
    target,
    workers: Number(opt.workers),
    onChunk: (t) => process.stderr.write(`\r${target}: ${t.cases}/${cases}   `),
  })
  process.stderr.write('\n')
  failed += r.failures.length
  rows.push({cases: r.cases, failures: r.failures, ms: r.ms, slow: r.slow, stats: r.stats, target})
}

clearInterval(rssTimer)
const total = rows.reduce((a, r) => a + r.cases, 0)
const ms = rows.reduce((a, r) => a + r.ms, 0)
console.log(
  `fuzz: seed ${seed}, ${opt.workers} workers, ${total} cases in ${(ms / 1000).toFixed(0)} s, ${failed} failures, parent RSS peak ${Math.round(peakRss / 2 ** 20)} MiB (worker heaps capped at 512 MiB)`,
)
console.log('| target | cases | time | µs/case (wall) | failures | notes |')
console.log('|---|---|---|---|---|---|')
for (const r of rows) {
  const notes = Object.entries(r.stats)
    .filter(([k]) => k !== 'samples')
    .map(([k, v]) => `${k} ${v}`)
  if (r.slow.length) notes.push(`${r.slow.length} cases over the per-case bound in a busy worker passed alone`)
  console.log(
    `| ${r.target} | ${r.cases} | ${(r.ms / 1000).toFixed(0)} s | ${((r.ms * 1000) / r.cases).toFixed(0)} | ${r.failures.length} | ${notes.join(', ')} |`,
  )
}

for (const r of rows) for (const f of r.failures.slice(0, 5)) console.log(`FAIL ${f.error}`)
writeFileSync(join(ROOT, 'bench', 'results', 'fuzz.json'), JSON.stringify({rows, seed, total}, null, 2))
process.exitCode = failed ? 1 : 0
