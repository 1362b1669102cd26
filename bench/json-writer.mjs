#!/usr/bin/env node
// The project's JSON writer (src/render/json.ts: writeJsonArray over a lazy iterable, toJson per
// element) against json-stream-stringify 3.1.7, on the shapes tailcalls writes, produced
// lazily by a generator (as the commands produce them from the kernel) and written to
// /dev/null. Each case runs in its own process; CPU time (user + sys) and peak RSS, medians of
// --runs runs:
//   - `prog list`: 1,000 and 100,000 objects shaped as bpftool's prog JSON
//   - `map dump`: 100,000 entries shaped as bpftool's map dump JSON (hex byte arrays, per-CPU
//     values and the BTF-formatted value), the largest document the CLI writes
// json-stream-stringify is not a dependency (this measurement is why): install it first with
//   npm install --no-save json-stream-stringify@3.1.7
//   node bench/json-writer.mjs [--runs 5]
import {spawnSync} from 'node:child_process'
import {openSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {median} from './cpu.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const {values: opt} = parseArgs({
  options: {case: {type: 'string'}, runs: {default: '5', type: 'string'}, writer: {type: 'string'}},
})

const hex = (n, seed) => Array.from({length: n}, (_, i) => `0x${((seed + i * 7) & 0xff).toString(16).padStart(2, '0')}`)

function* progs(n) {
  for (let i = 0; i < n; i++) {
    yield {
      id: 1000 + i,
      type: 'socket_filter',
      name: `tcbench_${i}`,
      tag: 'a04f5eef06a7f555',
      gpl_compatible: true,
      run_time_ns: 123456789012n + BigInt(i),
      run_cnt: 4242n,
      loaded_at: 1796075023,
      uid: 0,
      bytes_xlated: 16,
      jited: true,
      bytes_jited: 18,
      bytes_memlock: 4096,
      map_ids: [359, 360],
      btf_id: 709,
      pids: [{pid: 22471, comm: 'tailcalls'}],
    }
  }
}

function* entries(n) {
  for (let i = 0; i < n; i++) {
    yield {
      key: hex(4, i),
      values: [
        {cpu: 0, value: hex(24, i)},
        {cpu: 1, value: hex(24, i + 1)},
      ],
      formatted: {
        key: i,
        values: [
          {cpu: 0, value: {packets: BigInt(i), bytes: BigInt(i) * 64n, flags: 1, tag: 'abc'}},
          {cpu: 1, value: {packets: 0n, bytes: 0n, flags: 0, tag: ''}},
        ],
      },
    }
  }
}

const CASES = {
  'map dump 100,000': () => entries(100_000),
  'prog list 1,000': () => progs(1000),
  'prog list 100,000': () => progs(100_000),
}

if (opt.case) {
  // One measured run, in a child process of its own.
  const out = (await import('node:fs')).createWriteStream('/dev/null')
  const items = CASES[opt.case]()
  if (opt.writer === 'ours') {
    const {writeJsonArray} = await import(join(ROOT, 'dist/src/render/json.js'))
    await writeJsonArray(items, out)
  } else {
    const {JsonStreamStringify} = await import('json-stream-stringify')
    const {Readable} = await import('node:stream')
    const {pipeline} = await import('node:stream/promises')
    // Generators are not recognised by json-stream-stringify: an object-mode stream becomes an array.
    await pipeline(new JsonStreamStringify(Readable.from(items), undefined, undefined, false, 65_536), out)
  }

  out.end()
  process.exit(0)
}

try {
  await import('json-stream-stringify')
} catch {
  console.error('json-stream-stringify is not installed: npm install --no-save json-stream-stringify@3.1.7')
  process.exit(1)
}

console.log('| shape | writer | CPU | peak RSS |\n|---|---|---|---|')
for (const name of Object.keys(CASES)) {
  for (const writer of ['ours', 'json-stream-stringify']) {
    const cpu = []
    const rss = []
    for (let i = 0; i < Number(opt.runs); i++) {
      const r = spawnSync(
        '/usr/bin/time',
        [
          '-f',
          '%U %S %M',
          process.execPath,
          fileURLToPath(import.meta.url),
          '--case',
          name,
          '--writer',
          writer === 'ours' ? 'ours' : 'jss',
        ],
        {encoding: 'utf8', stdio: ['ignore', openSync('/dev/null', 'w'), 'pipe']},
      )
      if (r.status !== 0) throw new Error(`${name} ${writer}: ${r.stderr}`)
      const [u, s, m] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number)
      cpu.push((u + s) * 1000)
      rss.push(m / 1024)
    }

    console.log(`| ${name} | ${writer} | ${median(cpu).toFixed(0)} ms | ${median(rss).toFixed(0)} MB |`)
  }
}
