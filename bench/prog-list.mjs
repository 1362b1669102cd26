#!/usr/bin/env node
// Start-up and `prog list --json`: tailcalls against `node -e 0` and bpftool in one run, with the
// programs already on the machine (the "0" point) and with 1,000 more tiny socket_filter
// programs that this script loads itself and frees at the end. CPU time (user + system) of
// each command, medians of --runs rounds; each round runs every command once, so a change in
// the machine's load hits all of them alike. Reports, with the targets:
//   - `tailcalls --version` / `node -e 0`                                   (≤ 1.6×)
//   - `prog list --json` with no programs / `node -e 0`                     (≤ 1.6×): the cost at
//     the 0 point less the per-program cost of the programs already there (other users' objects
//     are not ours to unload)
//   - per program, (t(1000) - t(0)) / 1000, against bpftool's, `--no-pids`   (≤ 2×) and with pids (≤ 3×)
//   - peak RSS of each command at the 1000 point
//   node bench/prog-list.mjs [--programs 1000] [--runs 15]
// The 1,000 programs are held by this process (as a loader holds its programs), so the pids
// column is computed over 1,000 fds: that cost is ours only (Debian's bpftool prints no pids).
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {nextId} from '../dist/src/kernel/ids.js'
import {sys} from '../dist/src/sys/ffi.js'
import {childrenCpuUs, median} from './cpu.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const {values: opt} = parseArgs({
  options: {programs: {default: '1000', type: 'string'}, runs: {default: '15', type: 'string'}},
})
const N = Number(opt.programs)
const RUNS = Number(opt.runs)

// tailcalls as installed: package.json's `bin` (bin/tailcalls.cjs; a checkout's bin/run.js imports it).
const commands = {
  bpftool: ['bpftool', ['--json', 'prog', 'list']],
  'node -e 0': [process.execPath, ['-e', '0']],
  tailcalls: [process.execPath, [join(ROOT, 'bin', 'tailcalls.cjs'), 'prog', 'list', '--json']],
  'tailcalls --no-pids': [
    process.execPath,
    [join(ROOT, 'bin', 'tailcalls.cjs'), 'prog', 'list', '--json', '--no-pids'],
  ],
  // The framework's floor: oclif starting and printing its version, no BPF, no koffi.
  'tailcalls --version': [process.execPath, [join(ROOT, 'bin', 'tailcalls.cjs'), '--version']],
}

// Every command runs without NODE_EXTRA_CA_CERTS: where it is set (this machine sets it to the
// system's 140-certificate bundle), Node parses every certificate at start-up, before any
// script: it costs more than all the rest of `node -e 0`, and would count in the numerator and
// the denominator of every ratio alike, hiding what tailcalls itself costs.
const ENV = {...process.env}
delete ENV.NODE_EXTRA_CA_CERTS

/** One run of a command: wall ms, CPU ms (user + sys) and output bytes. */
function runOnce(name) {
  const [cmd, args] = commands[name]
  const c0 = childrenCpuUs()
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {encoding: 'utf8', env: ENV, maxBuffer: 1 << 28})
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  const cpuMs = (childrenCpuUs() - c0) / 1000
  if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`)
  // How many programs this run listed: other users load and free programs during the bench.
  const listed = name.includes('--version') || name.startsWith('node') ? undefined : JSON.parse(r.stdout).length
  return {bytes: r.stdout.length, cpuMs, listed, ms}
}

/**
 * Median wall ms and CPU ms of RUNS rounds of every command in `names` (interleaved), and the
 * peak RSS (KiB) of one more run of each under /usr/bin/time.
 */
function measure(names) {
  const samples = Object.fromEntries(names.map((n) => [n, []]))
  for (let i = 0; i < RUNS; i++) for (const n of names) samples[n].push(runOnce(n))
  const out = {}
  for (const n of names) {
    const [cmd, args] = commands[n]
    const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], {encoding: 'utf8', env: ENV, maxBuffer: 1 << 28})
    const rssKiB = Number(r.stderr.trim().split('\n').at(-1))
    const listed = samples[n][0].listed === undefined ? undefined : median(samples[n].map((x) => x.listed))
    out[n] = {
      bytes: samples[n].at(-1).bytes,
      cpuMs: median(samples[n].map((x) => x.cpuMs)),
      listed,
      ms: median(samples[n].map((x) => x.ms)),
      rssKiB,
    }
  }

  return out
}

function countProgs() {
  let n = 0
  for (let id = nextId('prog', 0); id !== undefined; id = nextId('prog', id)) n++
  return n
}

// A socket_filter program of two instructions: r0 = 0; exit.
const INSNS = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])
const {libc} = sys()
const progLoad = sys().optional(
  'int bpf_prog_load(int type, const char *name, const char *license, const void *insns, size_t cnt, const void *opts)',
)
if (!progLoad) throw new Error('libbpf lacks bpf_prog_load')

const fds = []
const results = {}
try {
  const before = countProgs()
  for (const [name, r] of Object.entries(measure(Object.keys(commands)))) results[`${name} @0`] = r

  for (let i = 0; i < N; i++) {
    const fd = progLoad(1, `tcbench_${i}`, 'GPL', INSNS, 2, null)
    if (fd < 0) throw new Error(`loading program ${i} failed: ${fd}`)
    fds.push(fd)
  }

  const loaded = countProgs()
  for (const [name, r] of Object.entries(measure(['tailcalls', 'tailcalls --no-pids', 'bpftool'])))
    results[`${name} @${N}`] = r

  // Per program listed (the medians of what the runs listed), not per program loaded.
  const added = (name) => results[`${name} @${N}`].listed - results[`${name} @0`].listed
  const per = (name) => (results[`${name} @${N}`].ms - results[`${name} @0`].ms) / added(name)
  const perCpu = (name) => (results[`${name} @${N}`].cpuMs - results[`${name} @0`].cpuMs) / added(name)
  const summary = {
    date: new Date().toISOString(),
    fixed_ms: {
      bpftool: results['bpftool @0'].ms,
      node_e_0: results['node -e 0 @0'].ms,
      tailcalls: results['tailcalls @0'].ms,
      tailcalls_version: results['tailcalls --version @0'].ms,
    },
    fixed_vs_bpftool: results['tailcalls @0'].ms / results['bpftool @0'].ms,
    fixed_vs_node_e_0: results['tailcalls @0'].ms / results['node -e 0 @0'].ms,
    load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    kernel: execFileSync('uname', ['-r'], {encoding: 'utf8'}).trim(),
    per_program_us: {bpftool: per('bpftool') * 1000, tailcalls: per('tailcalls') * 1000},
    per_program_cpu_us: {
      bpftool: perCpu('bpftool') * 1000,
      tailcalls: perCpu('tailcalls') * 1000,
      tailcalls_no_pids: perCpu('tailcalls --no-pids') * 1000,
    },
    fixed_cpu_ms: {
      bpftool: results['bpftool @0'].cpuMs,
      node_e_0: results['node -e 0 @0'].cpuMs,
      tailcalls: results['tailcalls @0'].cpuMs,
      tailcalls_version: results['tailcalls --version @0'].cpuMs,
    },
    per_program_vs_bpftool: per('tailcalls') / per('bpftool'),
    // The ratios the targets are about, all from CPU time.
    ratios: (() => {
      const node = results['node -e 0 @0'].cpuMs
      // The programs already on the machine cost what the 1,000 more cost each.
      const noPrograms =
        results['tailcalls --no-pids @0'].cpuMs -
        results['tailcalls --no-pids @0'].listed * perCpu('tailcalls --no-pids')
      return {
        list_no_programs_vs_node: noPrograms / node,
        per_program_no_pids_vs_bpftool: perCpu('tailcalls --no-pids') / perCpu('bpftool'),
        per_program_pids_vs_bpftool: perCpu('tailcalls') / perCpu('bpftool'),
        version_vs_node: results['tailcalls --version @0'].cpuMs / node,
      }
    })(),
    programs_on_machine: {at_0: before, at_n: loaded},
    results,
    runs: RUNS,
  }
  console.log(JSON.stringify(summary, null, 2))
  const f = (x) => x.toFixed(1)
  const {fixed_cpu_ms: fc, per_program_us: pw, per_program_cpu_us: pc} = summary
  const x = (v) => `${v.toFixed(2)}×`
  const q = summary.ratios
  const ok = (v, max) => (v <= max ? 'met' : `missed by ${((v / max - 1) * 100).toFixed(0)}%`)
  console.log(
    `\nCPU time (user + sys), medians of ${RUNS} interleaved rounds; ${results['tailcalls --no-pids @0'].listed} programs listed at the 0 point, ${results['tailcalls --no-pids @' + N].listed} at +${N}; load average ${summary.load_average}`,
  )
  console.log(`| | tailcalls | reference | ratio | target |\n|---|---|---|---|---|`)
  console.log(
    `| \`tailcalls --version\` | ${f(fc.tailcalls_version)} ms | \`node -e 0\` ${f(fc.node_e_0)} ms | ${x(q.version_vs_node)} | ≤ 1.6× (${ok(q.version_vs_node, 1.6)}) |`,
  )
  console.log(
    `| \`prog list --json\`, no programs | ${f(q.list_no_programs_vs_node * fc.node_e_0)} ms | \`node -e 0\` ${f(fc.node_e_0)} ms | ${x(q.list_no_programs_vs_node)} | ≤ 1.6× (${ok(q.list_no_programs_vs_node, 1.6)}) |`,
  )
  console.log(
    `| per program, \`--no-pids\` | ${f(pc.tailcalls_no_pids)} µs | bpftool ${f(pc.bpftool)} µs | ${x(q.per_program_no_pids_vs_bpftool)} | ≤ 2× (${ok(q.per_program_no_pids_vs_bpftool, 2)}) |`,
  )
  console.log(
    `| per program, with pids | ${f(pc.tailcalls)} µs | bpftool ${f(pc.bpftool)} µs | ${x(q.per_program_pids_vs_bpftool)} | ≤ 3× (${ok(q.per_program_pids_vs_bpftool, 3)}) |`,
  )
  console.log(
    `| \`prog list --json\` at the 0 point (${results['tailcalls @0'].listed} programs) | ${f(fc.tailcalls)} ms | bpftool ${f(fc.bpftool)} ms | ${f(fc.tailcalls / Math.max(fc.bpftool, 0.001))}× | |`,
  )
  console.log(
    `| per program, wall | ${f(pw.tailcalls)} µs | bpftool ${f(pw.bpftool)} µs | ${x(pw.tailcalls / pw.bpftool)} | |`,
  )
  console.log(
    `| peak RSS at +${N} | ${(results[`tailcalls @${N}`].rssKiB / 1024).toFixed(0)} MB | bpftool ${(results[`bpftool @${N}`].rssKiB / 1024).toFixed(0)} MB | | |`,
  )
  mkdirSync(join(ROOT, 'bench', 'results'), {recursive: true})
  writeFileSync(join(ROOT, 'bench', 'results', 'prog-list.json'), JSON.stringify(summary, null, 2) + '\n')
} finally {
  for (const fd of fds) libc.close(fd)
}
