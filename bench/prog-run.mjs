#!/usr/bin/env node
// `tailcalls prog run` against `bpftool prog run` and `node -e 0` in one run: CPU time (user +
// system) per invocation, medians of --runs rounds, each round running every command once so a
// change in the machine's load hits all alike. The program: the run-io fixture's XDP entry with
// its stage in the slot (a 2-program chain), loaded and pinned by `tailcalls load` and removed at
// the end. Also the kernel's own per-run duration (`--repeat`), read from both tools' JSON: the
// same syscall, so the ratio should be 1.
//   node bench/prog-run.mjs [--runs 15] [--repeat 100000]
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {childrenCpuUs, median} from './cpu.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const {values: opt} = parseArgs({
  options: {repeat: {default: '100000', type: 'string'}, runs: {default: '15', type: 'string'}},
})
const RUNS = Number(opt.runs)
const BIN = join(ROOT, 'bin', 'run.js')
const tmp = mkdtempSync(join(tmpdir(), 'tailcalls-bench-run-'))
const pin = `/sys/fs/bpf/tailcalls-bench-run-${process.pid}`
const object = join(tmp, 'run-io.bpf.o')
const packet = join(tmp, 'packet')
writeFileSync(packet, Buffer.alloc(64))

const tc = (...args) => execFileSync(process.execPath, [BIN, ...args], {encoding: 'utf8'})

execFileSync('clang', [
  '-O2',
  '-g',
  '-target',
  'bpf',
  `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
  '-c',
  join(ROOT, 'test', 'fixtures', 'tailcall-scenarios', 'run-io.bpf.c'),
  '-o',
  object,
])
tc('load', object, '--pin-path', pin, '--no-attach')
try {
  tc('map', 'update', 'pinned', `${pin}/io_slots`, 'key', '0', 'prog', 'pinned', `${pin}/xdp_stage`)
  const prog = `${pin}/xdp_entry`
  const commands = {
    'bpftool prog run': ['bpftool', ['prog', 'run', 'pinned', prog, 'data_in', packet]],
    'node -e 0': [process.execPath, ['-e', '0']],
    'tailcalls prog run': [process.execPath, [BIN, 'prog', 'run', 'pinned', prog, '--data-in', packet]],
    'tailcalls prog run --no-graph': [
      process.execPath,
      [BIN, 'prog', 'run', 'pinned', prog, '--data-in', packet, '--no-graph'],
    ],
  }
  const cpu = Object.fromEntries(Object.keys(commands).map((k) => [k, []]))
  for (let r = 0; r < RUNS; r++) {
    for (const [name, [cmd, args]] of Object.entries(commands)) {
      const c0 = childrenCpuUs()
      execFileSync(cmd, args, {stdio: ['ignore', 'ignore', 'ignore']})
      cpu[name].push((childrenCpuUs() - c0) / 1000)
    }
  }

  const bpftool = median(cpu['bpftool prog run'])
  const node = median(cpu['node -e 0'])
  console.log(`CPU ms per invocation, median of ${RUNS} rounds (ratios in the same run):`)
  for (const name of Object.keys(commands)) {
    const m = median(cpu[name])
    console.log(
      `  ${name.padEnd(30)} ${m.toFixed(0).padStart(5)} ms  ${(m / bpftool).toFixed(1)}× bpftool  ${(m / node).toFixed(2)}× node -e 0`,
    )
  }

  const repeat = opt.repeat
  const ours = JSON.parse(
    tc('prog', 'run', 'pinned', prog, '--data-in', packet, '--repeat', repeat, '--no-graph', '--json'),
  )
  const theirs = JSON.parse(
    execFileSync('bpftool', ['--json', 'prog', 'run', 'pinned', prog, 'data_in', packet, 'repeat', repeat], {
      encoding: 'utf8',
    }),
  )
  console.log(
    `kernel duration per run (repeat ${repeat}): tailcalls ${ours.duration} ns, bpftool ${theirs.duration} ns (${(ours.duration / theirs.duration).toFixed(2)}×); retval ${ours.retval} / ${theirs.retval}`,
  )
} finally {
  tc('unload', '--pin-path', pin)
  rmSync(tmp, {force: true, recursive: true})
}
