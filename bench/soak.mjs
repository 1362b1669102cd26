#!/usr/bin/env node
// Loss-accounting soak: `tailcalls load --json` while a C exec storm (bench/ref/storm.c) runs
// --execs execs from each worker count in --workers, one round per count. For every round:
// every exec of the storm arrives as prog1 → prog2 → prog3 with the seed's counters or its
// missing stages are covered by counted drops, and events received + dropped == the runs the
// chain's own counters saw, exactly (test/helpers/soak.ts checks all of it). Reports the exec
// rate of each round and the top rate held with zero drops.
//   node --import tsx bench/soak.mjs [--execs 100000] [--workers 1,2,4,8] [--ringbuf-size BYTES]
import {writeFileSync} from 'node:fs'
import {cpus, loadavg} from 'node:os'
import {join} from 'node:path'
import {parseArgs} from 'node:util'

import {ROOT} from '../test/helpers/cli.js'
import {buildStorm, soakRound} from '../test/helpers/soak.ts'

const {values: opt} = parseArgs({
  options: {
    execs: {default: '100000', type: 'string'},
    'ringbuf-size': {type: 'string'},
    workers: {default: '1,2,4,8', type: 'string'},
  },
})
const execs = Number(opt.execs)
const ringbufSize = opt['ringbuf-size'] ? Number(opt['ringbuf-size']) : undefined
buildStorm()

const rows = []
let failed = false
for (const workers of opt.workers.split(',').map(Number)) {
  const load = loadavg()[0]
  const r = await soakRound({execs, ringbufSize, workers})
  const ok = r.problems.length === 0
  failed ||= !ok
  rows.push({...r, loadavg: load, ok})
  console.error(
    `workers ${workers}: ${r.execRate} exec/s, ${r.events} events, ${r.drops} drops, ${ok ? 'accounted exactly' : r.problems.join('; ')}`,
  )
}

const zeroDrop = rows.filter((r) => r.ok && r.drops === 0)
const top = zeroDrop.sort((a, b) => b.execRate - a.execRate)[0]
console.log(`soak: ${execs} execs per round, ${cpus().length} CPUs, ring ${ringbufSize ?? 262144} bytes`)
console.log(
  '| workers | execs | exec/s | events | drops | received + dropped = runs | complete chains | load avg at start |',
)
console.log('|---|---|---|---|---|---|---|---|')
for (const r of rows) {
  console.log(
    `| ${r.workers} | ${r.execs} | ${r.execRate} | ${r.events} | ${r.drops} | ${r.ok ? `${r.events} + ${r.drops} = ${r.runs} ✓` : `✗ ${r.problems.join('; ')}`} | ${r.complete} | ${r.loadavg.toFixed(1)} |`,
  )
}

console.log(
  top ? `top exec rate held with zero drops: ${top.execRate}/s (${top.workers} workers)` : 'no round without drops',
)
writeFileSync(
  join(ROOT, 'bench', 'results', 'soak.json'),
  JSON.stringify(
    rows.map(({summary, ids, problems, ...r}) => ({...r, problems})),
    null,
    2,
  ),
)
process.exitCode = failed ? 1 : 0
