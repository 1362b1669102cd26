#!/usr/bin/env node
// Long fuzz run of the BTF decoder and value renderer (the test suite runs a 3,000-case slice):
// mutated kernel-captured BTF blobs and random type graphs, parsed, described, resolved,
// compiled into renderers and rendered over random bytes (test/helpers/fuzz-btf.ts). Cases
// are split over worker threads; when a worker stops reporting progress for --stall-ms, the 16
// cases it was on are replayed alone: still stuck is a hang (a failure, with its seed and case),
// done is a worker starved by a busy machine (counted as starvedThenPassed).
//   node --import tsx bench/fuzz-btf.mjs [--cases 1000000] [--workers <cpus>] [--seed 1]
// Exit 0 when every case passed; 1 with the failing cases otherwise (each names its seed and case:
// runFuzz({seed, from: case, cases: 1}) in test/helpers/fuzz-btf.ts replays it alone).
import {availableParallelism} from 'node:os'
import {parseArgs} from 'node:util'

import {runFuzzInWorker} from '../test/helpers/fuzz-btf.js'

const {values: opt} = parseArgs({
  options: {
    cases: {default: '1000000', type: 'string'},
    seed: {default: '1', type: 'string'},
    'stall-ms': {default: '30000', type: 'string'},
    workers: {default: String(availableParallelism()), type: 'string'},
  },
})
const CASES = Number(opt.cases)
const WORKERS = Math.max(1, Number(opt.workers))
const SEED = Number(opt.seed)
const SLICE = 50_000

// Slices of SLICE cases, each with its own seed, handed out to WORKERS parallel loops.
const slices = Array.from({length: Math.ceil(CASES / SLICE)}, (_, i) => ({
  cases: Math.min(SLICE, CASES - i * SLICE),
  seed: SEED * 100_003 + i,
}))
const t0 = Date.now()
const total = {cases: 0, failures: [], parsed: 0, rendered: 0, slow: []}
let next = 0
async function loop() {
  while (next < slices.length && total.failures.length === 0) {
    const s = slices[next++]
    const stats = await runFuzzInWorker(s, {stallMs: Number(opt['stall-ms'])}).catch((error) => ({
      cases: 0,
      failures: [{case: -1, error: `seed ${s.seed}: ${error.message}`}],
      parsed: 0,
      rendered: 0,
      slow: [],
    }))
    total.cases += stats.cases
    total.parsed += stats.parsed
    total.rendered += stats.rendered
    total.failures.push(...stats.failures)
    total.slow.push(...stats.slow)
    const secs = (Date.now() - t0) / 1000
    process.stderr.write(
      `\r${total.cases.toLocaleString('en')} / ${CASES.toLocaleString('en')} cases, ${Math.round(total.cases / secs)} cases/s, ${total.failures.length} failures   `,
    )
  }
}

await Promise.all(Array.from({length: WORKERS}, loop))
const secs = (Date.now() - t0) / 1000
process.stderr.write('\n')
console.log(
  JSON.stringify({
    cases: total.cases,
    casesPerSecond: Math.round(total.cases / secs),
    failures: total.failures.length,
    parsed: total.parsed,
    rendered: total.rendered,
    seconds: Math.round(secs),
    starvedThenPassed: total.slow.length,
    workers: WORKERS,
  }),
)
for (const f of total.failures) console.log(`FAIL ${f.error}\n  blob: ${f.blob ?? '(none)'}`)
process.exitCode = total.failures.length === 0 && total.cases >= CASES ? 0 : 1
