#!/usr/bin/env node
// `map dump --json` of big per-CPU arrays with a BTF struct value (test/fixtures/big-maps.bpf.c:
// struct big_val {u64 packets; u64 bytes; u32 flags; char tag[4];}, filled with distinct values),
// tailcalls against `bpftool --json map dump` in the same run, both writing to /dev/null.
// For each size: median wall time of --runs runs, peak RSS (/usr/bin/time -v), and the ratio.
// Also: tailcalls --no-batch (bpftool's get_next_key + lookup loop) and the table view.
// Before timing, it checks once that both outputs are byte-identical.
//   node --import tsx bench/map-dump.mjs [--sizes 100000,1000000] [--runs 3]
// Needs root and `npm run build`. The maps are this process's and are freed at the end.
import {createHash} from 'node:crypto'
import {spawn, spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {release} from 'node:os'

import {possibleCpus} from '../dist/src/inspect/map-read.js'
import {fillBig, loadMaps} from '../test/helpers/maps.js'
import {median} from './cpu.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const {values: opt} = parseArgs({
  options: {runs: {default: '3', type: 'string'}, sizes: {default: '100000,1000000', type: 'string'}},
})
const SIZES = opt.sizes.split(',').map(Number)
const RUNS = Number(opt.runs)

function variants(id) {
  const run = [process.execPath, join(ROOT, 'bin', 'run.js'), 'map', 'dump', 'id', String(id)]
  return {
    bpftool: ['bpftool', '--json', 'map', 'dump', 'id', String(id)],
    tailcalls: [...run, '--json'],
    'tailcalls --no-batch': [...run, '--json', '--no-batch'],
    'tailcalls (table)': run,
  }
}

/** One run under /usr/bin/time -v, stdout to /dev/null: {wallMs, rssKiB}. */
function timed(argv) {
  const t0 = process.hrtime.bigint()
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], {
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1'},
    maxBuffer: 1 << 20,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`)
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1])
  return {rssKiB: rss, wallMs}
}

/** sha256 and size of a command's stdout, streamed (a 1M-entry dump is ~600 MB). */
function digest(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'pipe', 'inherit']})
    const hash = createHash('sha256')
    let bytes = 0
    child.stdout.on('data', (d) => {
      bytes += d.length
      hash.update(d)
    })
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve({bytes, sha: hash.digest('hex')}) : reject(new Error(`${argv.join(' ')} exited ${code}`)),
    )
  })
}

const results = []
for (const n of SIZES) {
  const maps = loadMaps('big-maps', {maxEntries: {big_hash: 1, big_pcpu: n}})
  try {
    const t0 = Date.now()
    fillBig(maps.maps, {n})
    const id = maps.ids.big_pcpu
    const v = variants(id)
    process.stderr.write(`${n} entries: map ${id} filled in ${Date.now() - t0} ms; checking outputs…\n`)
    const a = await digest(v.bpftool)
    const b = await digest(v.tailcalls)
    if (a.sha !== b.sha) throw new Error(`outputs differ at ${n}: bpftool ${a.bytes} B, tailcalls ${b.bytes} B`)
    const row = {bytes: a.bytes, entries: n}
    for (const [name, argv] of Object.entries(v)) {
      const runs = Array.from({length: RUNS}, () => timed(argv))
      row[name] = {rssMiB: Math.max(...runs.map((r) => r.rssKiB)) / 1024, wallMs: median(runs.map((r) => r.wallMs))}
      process.stderr.write(
        `  ${name.padEnd(22)} ${row[name].wallMs.toFixed(0).padStart(7)} ms  ${row[name].rssMiB.toFixed(1).padStart(6)} MiB\n`,
      )
    }

    results.push(row)
  } finally {
    maps.close()
  }
}

const fmt = (x) => x.toFixed(2)
console.log(
  `\nmap dump --json, per-CPU array of struct big_val (24 B × ${possibleCpus()} possible CPUs), kernel ${release()}, stdout to /dev/null, median of ${RUNS}`,
)
console.log(
  '| entries | output | bpftool | tailcalls | ratio | tailcalls --no-batch | peak RSS bpftool | peak RSS tailcalls | table view |',
)
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
for (const r of results) {
  const b = r.bpftool
  const t = r.tailcalls
  console.log(
    `| ${r.entries.toLocaleString('en')} | ${(r.bytes / 1048576).toFixed(0)} MiB | ${(b.wallMs / 1000).toFixed(2)} s | ${(t.wallMs / 1000).toFixed(2)} s | **${fmt(t.wallMs / b.wallMs)}×** | ${(r['tailcalls --no-batch'].wallMs / 1000).toFixed(2)} s (${fmt(r['tailcalls --no-batch'].wallMs / b.wallMs)}×) | ${b.rssMiB.toFixed(0)} MiB | ${t.rssMiB.toFixed(0)} MiB | ${(r['tailcalls (table)'].wallMs / 1000).toFixed(2)} s, ${r['tailcalls (table)'].rssMiB.toFixed(0)} MiB |`,
  )
}

console.log(JSON.stringify({results}, null, 1))
