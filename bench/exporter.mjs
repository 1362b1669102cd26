#!/usr/bin/env node
// `tailcalls exporter` under load: with --programs tiny socket_filter programs and --arrays prog
// arrays of --slots slots each (filled with those programs) loaded by this script, 50 concurrent
// scrapers (--scrapers) hit /metrics on loopback for --seconds. Reports:
//   - errors (any non-200 or connection error) — must be 0
//   - the exporter's RSS sampled every second: first, last, max (flat = bounded)
//   - cost of one scrape alone (sequential scrapes): exporter CPU ms and wall ms, median, as a
//     ratio to one `bpftool --json prog list` + `bpftool --json map list` (CPU of both, median)
//   - under load: scrapes served, kernel reads (concurrent scrapes share one), CPU per scrape
// Bounded in count and time: at most --max-scrapes requests, --seconds of load; loopback only;
// everything loaded is freed and the exporter stopped (by pid) at the end.
//   node bench/exporter.mjs [--programs 1000] [--arrays 100] [--slots 10] [--scrapers 50] [--seconds 30]
import {spawn, spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import http from 'node:http'
import {createServer} from 'node:net'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

import {sys} from '../dist/src/sys/ffi.js'
import {median} from './cpu.mjs'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const {values: opt} = parseArgs({
  options: {
    arrays: {default: '100', type: 'string'},
    'max-scrapes': {default: '200000', type: 'string'},
    programs: {default: '1000', type: 'string'},
    scrapers: {default: '50', type: 'string'},
    seconds: {default: '30', type: 'string'},
    slots: {default: '10', type: 'string'},
  },
})
const N = Number(opt.programs)
const ARRAYS = Number(opt.arrays)
const SLOTS = Number(opt.slots)
const SCRAPERS = Number(opt.scrapers)
const SECONDS = Number(opt.seconds)
const MAX_SCRAPES = Number(opt['max-scrapes'])
const TICK = 100 // clock ticks per second (USER_HZ)

const cpuMs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK
}

const childrenCpuMs = () => {
  const f = readFileSync('/proc/self/stat', 'utf8')
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICK
}

const rssKiB = (pid) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    })
  })
}

function get(agent, port) {
  return new Promise((resolve) => {
    const req = http.get({agent, host: '127.0.0.1', path: '/metrics', port}, (res) => {
      let n = 0
      res.on('data', (d) => (n += d.length)).on('end', () => resolve({bytes: n, ok: res.statusCode === 200}))
    })
    req.on('error', () => resolve({bytes: 0, ok: false}))
  })
}

// --- load the objects: socket_filter programs (r0 = 0; exit) and prog arrays holding them
const INSNS = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])
const {libbpf, libc} = sys()
const progLoad = sys().optional(
  'int bpf_prog_load(int type, const char *name, const char *license, const void *insns, size_t cnt, const void *opts)',
)
const fds = []
let exporter
const out = {}
try {
  for (let i = 0; i < N; i++) {
    const fd = progLoad(1, `tcx_${i}`, 'GPL', INSNS, 2, null)
    if (fd < 0) throw new Error(`loading program ${i}: ${fd}`)
    fds.push(fd)
  }

  const key = Buffer.alloc(4)
  const value = Buffer.alloc(4)
  for (let a = 0; a < ARRAYS; a++) {
    const fd = libbpf.bpf_map_create(3 /* prog_array */, `tcx_pa_${a}`, 4, 4, SLOTS, null)
    if (fd < 0) throw new Error(`creating prog array ${a}: ${fd}`)
    fds.push(fd)
    for (let s = 0; s < SLOTS; s++) {
      key.writeUInt32LE(s)
      value.writeInt32LE(fds[(a * SLOTS + s) % N])
      const r = libbpf.bpf_map_update_elem(fd, key, value, 0)
      if (r < 0) throw new Error(`filling prog array ${a}[${s}]: ${r}`)
    }
  }

  // --- the reference: one bpftool prog list + map list (CPU of both, median of 9)
  const bpftool = []
  for (let i = 0; i < 9; i++) {
    const c0 = childrenCpuMs()
    const t0 = process.hrtime.bigint()
    for (const what of ['prog', 'map']) {
      const r = spawnSync('bpftool', ['--json', what, 'list'], {
        maxBuffer: 1 << 28,
        stdio: ['ignore', 'pipe', 'ignore'],
      })
      if (r.status !== 0) throw new Error(`bpftool ${what} list failed`)
    }

    bpftool.push({cpu: childrenCpuMs() - c0, wall: Number(process.hrtime.bigint() - t0) / 1e6})
  }

  // --- the exporter
  const port = await freePort()
  exporter = spawn(
    process.execPath,
    [join(ROOT, 'bin/run.js'), 'exporter', '--listen', `127.0.0.1:${port}`, '--max-connections', String(SCRAPERS * 2)],
    {stdio: ['ignore', 'ignore', 'pipe']},
  )
  let stderr = ''
  await new Promise((resolve, reject) => {
    exporter.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d
      if (stderr.includes('Serving')) resolve()
    })
    exporter.on('close', () => reject(new Error(`exporter exited: ${stderr}`)))
  })
  const agent = new http.Agent({keepAlive: true, maxSockets: SCRAPERS})
  const first = await get(agent, port)
  if (!first.ok) throw new Error('first scrape failed')

  // One scrape alone (sequential), 15 times.
  const alone = []
  for (let i = 0; i < 15; i++) {
    const c0 = cpuMs(exporter.pid)
    const t0 = process.hrtime.bigint()
    const r = await get(agent, port)
    if (!r.ok) throw new Error('sequential scrape failed')
    alone.push({cpu: cpuMs(exporter.pid) - c0, wall: Number(process.hrtime.bigint() - t0) / 1e6})
  }

  // --- 50 concurrent scrapers for SECONDS (and at most MAX_SCRAPES requests)
  const rss = [rssKiB(exporter.pid)]
  const sampler = setInterval(() => rss.push(rssKiB(exporter.pid)), 1000)
  const cpu0 = cpuMs(exporter.pid)
  const readsBefore = await readsTotal(agent, port)
  const end = Date.now() + SECONDS * 1000
  let served = 0
  let errors = 0
  let started = 0
  const t0 = Date.now()
  await Promise.all(
    Array.from({length: SCRAPERS}, async () => {
      while (Date.now() < end && started < MAX_SCRAPES) {
        started++
        const r = await get(agent, port)
        if (r.ok) served++
        else errors++
      }
    }),
  )
  const elapsed = (Date.now() - t0) / 1000
  clearInterval(sampler)
  rss.push(rssKiB(exporter.pid))
  const cpuLoad = cpuMs(exporter.pid) - cpu0
  const reads = (await readsTotal(agent, port)) - readsBefore - 1
  agent.destroy()

  const bt = median(bpftool.map((b) => b.cpu))
  const one = median(alone.map((a) => a.cpu))
  Object.assign(out, {
    objects: {arrays: ARRAYS, programs: N, slots_filled: ARRAYS * SLOTS},
    scrape_bytes: first.bytes,
    bpftool_prog_plus_map_list: {cpu_ms_median: bt, wall_ms_median: median(bpftool.map((b) => b.wall))},
    one_scrape_alone: {
      cpu_ms_median: one,
      ratio_to_bpftool_cpu: Number((one / bt).toFixed(2)),
      wall_ms_median: median(alone.map((a) => a.wall)),
    },
    load: {
      scrapers: SCRAPERS,
      seconds: Number(elapsed.toFixed(1)),
      served,
      errors,
      scrapes_per_s: Number((served / elapsed).toFixed(1)),
      kernel_reads: reads,
      scrapes_per_kernel_read: Number((served / Math.max(1, reads)).toFixed(1)),
      exporter_cpu_ms_per_scrape: Number((cpuLoad / Math.max(1, served)).toFixed(2)),
      exporter_cpu_share: Number((cpuLoad / 1000 / elapsed).toFixed(2)),
      cpu_per_scrape_ratio_to_bpftool: Number((cpuLoad / Math.max(1, served) / bt).toFixed(3)),
    },
    rss_kib: {first: rss[0], last: rss.at(-1), max: Math.max(...rss), samples: rss.length},
    load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  })
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  if (errors > 0) process.exitCode = 1
} finally {
  if (exporter && exporter.exitCode === null) {
    exporter.kill('SIGTERM')
    await new Promise((resolve) => exporter.on('close', resolve))
  }

  for (const fd of fds) libc.close(fd)
}

async function readsTotal(agent, port) {
  return new Promise((resolve, reject) => {
    http
      .get({agent, host: '127.0.0.1', path: '/metrics', port}, (res) => {
        let body = ''
        res
          .setEncoding('utf8')
          .on('data', (d) => (body += d))
          .on('end', () => {
            const m = /^tailcalls_scrapes_total (\d+)/m.exec(body)
            if (m) resolve(Number(m[1]))
            else reject(new Error('no tailcalls_scrapes_total'))
          })
      })
      .on('error', reject)
  })
}
