#!/usr/bin/env node
// `prog list --json`: tailcalls against bpftool in one run, with the programs already on the
// machine (the "0" point) and with 1,000 more tiny socket_filter programs that this script
// loads itself and frees at the end. Reports, as medians of --runs runs each:
//   - fixed cost: wall time at the 0 point, vs bpftool and vs `node -e 0`
//   - per-program cost: (t(1000) - t(0)) / 1000, vs bpftool's
//   - peak RSS of each command at the 1000 point
//   node bench/prog-list.mjs [--programs 1000] [--runs 15]
// The 1,000 programs are held by this process (as a loader holds its programs), so the pids
// column is computed over 1,000 fds: that cost is ours only (Debian's bpftool prints no pids).
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {nextId} from '../dist/src/kernel/ids.js'
import {sys} from '../dist/src/sys/ffi.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const {values: opt} = parseArgs({options: {programs: {default: '1000', type: 'string'}, runs: {default: '15', type: 'string'}}})
const N = Number(opt.programs)
const RUNS = Number(opt.runs)

const commands = {
  bpftool: ['bpftool', ['--json', 'prog', 'list']],
  'node -e 0': [process.execPath, ['-e', '0']],
  tailcalls: [process.execPath, [join(ROOT, 'bin', 'run.js'), 'prog', 'list', '--json']],
}

/** Median wall ms and max peak RSS (KiB, from /usr/bin/time) of RUNS runs, output to /dev/null. */
function measure(name) {
  const [cmd, args] = commands[name]
  const times = []
  let rss = 0
  let bytes = 0
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint()
    const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], {encoding: 'utf8', maxBuffer: 1 << 28})
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`)
    rss = Math.max(rss, Number(r.stderr.trim().split('\n').at(-1)))
    bytes = r.stdout.length
  }

  times.sort((a, b) => a - b)
  return {bytes, ms: times[Math.floor(times.length / 2)], rssKiB: rss}
}

function countProgs() {
  let n = 0
  for (let id = nextId('prog', 0); id !== undefined; id = nextId('prog', id)) n++
  return n
}

// A socket_filter program of two instructions: r0 = 0; exit.
const INSNS = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])
const {libc} = sys()
const progLoad = sys().optional('int bpf_prog_load(int type, const char *name, const char *license, const void *insns, size_t cnt, const void *opts)')
if (!progLoad) throw new Error('libbpf lacks bpf_prog_load')

const fds = []
const results = {}
try {
  const before = countProgs()
  for (const name of Object.keys(commands)) results[`${name} @0`] = measure(name)

  for (let i = 0; i < N; i++) {
    const fd = progLoad(1, `tcbench_${i}`, 'GPL', INSNS, 2, null)
    if (fd < 0) throw new Error(`loading program ${i} failed: ${fd}`)
    fds.push(fd)
  }

  const loaded = countProgs()
  for (const name of ['tailcalls', 'bpftool']) results[`${name} @${N}`] = measure(name)

  const per = (name) => (results[`${name} @${N}`].ms - results[`${name} @0`].ms) / N
  const summary = {
    date: new Date().toISOString(),
    fixed_ms: {bpftool: results['bpftool @0'].ms, node_e_0: results['node -e 0 @0'].ms, tailcalls: results['tailcalls @0'].ms},
    fixed_vs_bpftool: results['tailcalls @0'].ms / results['bpftool @0'].ms,
    fixed_vs_node_e_0: results['tailcalls @0'].ms / results['node -e 0 @0'].ms,
    kernel: execFileSync('uname', ['-r'], {encoding: 'utf8'}).trim(),
    per_program_us: {bpftool: per('bpftool') * 1000, tailcalls: per('tailcalls') * 1000},
    per_program_vs_bpftool: per('tailcalls') / per('bpftool'),
    programs_on_machine: {at_0: before, at_n: loaded},
    results,
    runs: RUNS,
  }
  console.log(JSON.stringify(summary, null, 2))
  console.log(`\n| | tailcalls | bpftool | ratio |\n|---|---|---|---|`)
  console.log(`| fixed cost (${before} programs on the machine) | ${summary.fixed_ms.tailcalls.toFixed(1)} ms | ${summary.fixed_ms.bpftool.toFixed(1)} ms | ${summary.fixed_vs_bpftool.toFixed(2)}× |`)
  console.log(`| fixed cost vs \`node -e 0\` (${summary.fixed_ms.node_e_0.toFixed(1)} ms) | | | ${summary.fixed_vs_node_e_0.toFixed(2)}× |`)
  console.log(`| per program (+${N}) | ${summary.per_program_us.tailcalls.toFixed(1)} µs | ${summary.per_program_us.bpftool.toFixed(1)} µs | ${summary.per_program_vs_bpftool.toFixed(2)}× |`)
  console.log(`| peak RSS at +${N} | ${(results[`tailcalls @${N}`].rssKiB / 1024).toFixed(0)} MB | ${(results[`bpftool @${N}`].rssKiB / 1024).toFixed(0)} MB | |`)
  mkdirSync(join(ROOT, 'bench', 'results'), {recursive: true})
  writeFileSync(join(ROOT, 'bench', 'results', 'prog-list.json'), JSON.stringify(summary, null, 2) + '\n')
} finally {
  for (const fd of fds) libc.close(fd)
}
