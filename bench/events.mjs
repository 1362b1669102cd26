#!/usr/bin/env node
// Event-path cost: `tailcalls load` (NDJSON and text) against a C/libbpf consumer of the same
// object, under the same bounded exec storm, in one run. Reports events received, ring-buffer
// drops and CPU time per event of the consumer while streaming (user + system).
//   node bench/events.mjs [--execs 20000] [--workers 2] [--rounds 2]
import {execFileSync, spawn} from 'node:child_process'
import {mkdirSync, openSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'bench', 'results')
const {values: opt} = parseArgs({
  options: {
    execs: {default: '20000', type: 'string'},
    rounds: {default: '2', type: 'string'},
    workers: {default: '2', type: 'string'},
  },
})
const execs = Number(opt.execs)
const workers = Number(opt.workers)

mkdirSync(OUT, {recursive: true})
const storm = join(OUT, 'storm')
const consumer = join(OUT, 'consumer')
execFileSync('gcc', ['-O2', '-o', storm, join(ROOT, 'bench', 'ref', 'storm.c')])
execFileSync('gcc', ['-O2', '-o', consumer, join(ROOT, 'bench', 'ref', 'consumer.c'), '-lbpf'])

function start(cmd, args) {
  const devnull = openSync('/dev/null', 'w')
  const child = spawn(cmd, args, {cwd: ROOT, stdio: ['ignore', devnull, 'pipe']})
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
  const ready = new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (stderr.includes('Waiting for Ctrl-C...')) {
        clearInterval(t)
        resolve()
      }
    }, 20)
    child.on('close', () => {
      clearInterval(t)
      reject(new Error(`${cmd} exited early: ${stderr}`))
    })
  })
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)))
  return {child, exited, ready, stderr: () => stderr}
}

async function round(name, cmd, args, parse) {
  const c = start(cmd, args)
  await c.ready
  const t0 = performance.now()
  execFileSync(storm, [String(execs), String(workers)])
  const seconds = (performance.now() - t0) / 1000
  await new Promise((r) => setTimeout(r, 500))
  c.child.kill('SIGINT')
  const code = await c.exited
  if (code !== 0) throw new Error(`${name} exited ${code}: ${c.stderr()}`)
  const r = parse(c.stderr())
  return {name, ...r, exec_rate: Math.round(execs / seconds), us_per_event: r.cpu_us / r.events}
}

const tailcalls = (json) => [join(ROOT, 'bin', 'run.js'), 'load', ...(json ? ['--json'] : [])]
const parseTailcalls = (stderr) => {
  const line = stderr.split('\n').find((l) => l.startsWith('{"summary"'))
  if (line) {
    const s = JSON.parse(line).summary
    return {cpu_us: s.cpu_us, drops: s.ringbuf_drops, events: s.events_total}
  }

  const m = /Summary: (\d+) events .*ring-buffer drops: (\d+)/.exec(stderr)
  return {cpu_us: NaN, drops: Number(m[2]), events: Number(m[1])}
}

const parseC = (stderr) => {
  const s = JSON.parse(stderr.trim().split('\n').at(-1))
  return {cpu_us: s.cpu_us, drops: 0, events: s.events}
}

const results = []
for (let i = 0; i < Number(opt.rounds); i++) {
  results.push(await round('C/libbpf consumer', consumer, [join(ROOT, 'bpf', 'tailcalls.bpf.o')], parseC))
  results.push(await round('tailcalls load --json', process.execPath, tailcalls(true), parseTailcalls))
}

const best = (name) => results.filter((r) => r.name === name).sort((a, b) => a.us_per_event - b.us_per_event)[0]
const c = best('C/libbpf consumer')
const t = best('tailcalls load --json')
console.log(`exec storm: ${execs} execs from ${workers} workers, ${opt.rounds} rounds (best round shown)`)
console.log('| consumer | events | drops | exec/s | CPU µs/event | ratio vs C |')
console.log('|---|---|---|---|---|---|')
for (const r of [c, t]) {
  console.log(
    `| ${r.name} | ${r.events} | ${r.drops} | ${r.exec_rate} | ${r.us_per_event.toFixed(2)} | ${(r.us_per_event / c.us_per_event).toFixed(1)}× |`,
  )
}
