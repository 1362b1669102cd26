#!/usr/bin/env node
// Fuzzing the object-file reader behind `graph --object` at scale: 1,000,000 mutated BPF objects
// (the bundled chain and test/fixtures/graph-object, byte mutations plus damaged section headers,
// symbols and relocations). Each must give a graph or one ObjectError naming a byte offset;
// every case is time-bounded and replays alone from (seed, case). test/graph/fuzz-object.test.ts
// runs a bounded slice of the same target.
// Each finished chunk prints a line (cases so far, failures so far), so a run cut short still
// says how far it got; --from starts at another case number (resume a run, or split one).
//   node --import tsx bench/fuzz-object.mjs [--seed N] [--cases 1000000] [--workers 2] [--chunk 25000] [--from 0]
import {cpus} from 'node:os'
import {parseArgs} from 'node:util'

import {fuzz} from '../test/helpers/fuzz.js'

const {values: opt} = parseArgs({
  options: {
    cases: {default: '1000000', type: 'string'},
    chunk: {default: '25000', type: 'string'},
    from: {default: '0', type: 'string'},
    seed: {default: '20261130', type: 'string'},
    workers: {default: String(Math.max(1, cpus().length)), type: 'string'},
  },
})
const cases = Number(opt.cases)
let reported = 0
const r = await fuzz({
  cases,
  chunk: Number(opt.chunk),
  from: Number(opt.from),
  seed: Number(opt.seed),
  target: 'object',
  workers: Number(opt.workers),
  onChunk: (t) => {
    // Failures as they come (a run cut short still names them), then the running totals.
    for (const f of t.failures.slice(reported)) process.stderr.write(`failure: ${JSON.stringify(f)}\n`)
    reported = t.failures.length
    process.stderr.write(
      `object: ${t.cases}/${cases} cases, ${t.failures.length} failures, ${t.slow.length} slow, ${JSON.stringify(t.stats)}, ${Math.round(process.uptime())} s\n`,
    )
  },
})
console.log(
  JSON.stringify({
    cases: r.cases,
    failures: r.failures.slice(0, 20),
    failureCount: r.failures.length,
    ms: Math.round(r.ms),
    seed: Number(opt.seed),
    slow: r.slow.length,
    stats: r.stats,
  }),
)
process.exit(r.failures.length === 0 ? 0 : 1)
