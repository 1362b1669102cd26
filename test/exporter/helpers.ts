// Helpers for the exporter tests: free loopback ports, one HTTP(S) request, the exporter started
// through the CLI, and a real Prometheus server (Debian's `prometheus`) started on a loopback
// port with a temporary config and data folder, stopped by its pid at the end.
// Every wait is bounded by progress (helpers/progress.js), never by the clock.
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {startCli} from '../helpers/cli.js'
import {IDLE_MS, cpuTicks} from '../helpers/progress.js'

/** A port nobody listens on right now (the kernel picks it; we close it again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address() as {port: number}
      s.close(() => resolve(port))
    })
  })
}

export interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

export interface RequestOptions {
  path?: string
  method?: string
  headers?: Record<string, string>
  tls?: {ca?: Buffer}
  auth?: string
}

/** One request to 127.0.0.1:port (a fresh connection; no keep-alive). */
export function scrape(port: number, opts: RequestOptions = {}): Promise<Reply> {
  const mod = opts.tls ? https : http
  return new Promise((resolve, reject) => {
    const req = mod.request(
      {
        agent: false,
        auth: opts.auth,
        ca: opts.tls?.ca,
        headers: opts.headers,
        host: '127.0.0.1',
        method: opts.method ?? 'GET',
        path: opts.path ?? '/metrics',
        port,
        servername: 'localhost',
      },
      (res) => {
        let body = ''
        res
          .setEncoding('utf8')
          .on('data', (d) => (body += d))
          .on('end', () => resolve({body, headers: res.headers, status: res.statusCode ?? 0}))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** The value of one sample line (`name{labels} value`) whose labels include all of `match`. */
export function sample(body: string, name: string, match: Record<string, string> = {}): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(' ') + 1))
  }

  return undefined
}

export async function startExporter(args: string[] = [], {env}: {env?: Record<string, string>} = {}) {
  const port = await freePort()
  const cli = startCli(['exporter', '--listen', `127.0.0.1:${port}`, ...args], {env})
  await cli.waitFor((s: {stderr: string}) => /Serving https?:\/\//.test(s.stderr), 'the exporter to listen')
  return {
    cli,
    port,
    async stop() {
      const end = await cli.stop('SIGTERM')
      return end as {code: number; stderr: string; stdout: string}
    },
  }
}

export interface Prometheus {
  url: string
  port: number
  child: ChildProcess
  query(q: string): Promise<Array<{metric: Record<string, string>; value: [number, string]}>>
  /** Poll a PromQL query until `ok(result)`; fails when Prometheus stops scraping for IDLE_MS. */
  waitFor(
    q: string,
    ok: (r: Array<{metric: Record<string, string>; value: [number, string]}>) => boolean,
    what: string,
  ): Promise<Array<{metric: Record<string, string>; value: [number, string]}>>
  /** The current value of a query that must return one series (waits until it does). */
  value(q: string): Promise<number>
  stop(): Promise<void>
  log(): string
}

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL')
})

/** Start Prometheus with `scrapeConfigs` (YAML list items, already indented for scrape_configs). */
export async function startPrometheus(
  scrapeConfigs: string,
  {files = {}}: {files?: Record<string, string>} = {},
): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'tailcalls-prom-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 2s\n  scrape_timeout: 2s\n  evaluation_interval: 2s\nscrape_configs:\n${scrapeConfigs}`,
  )
  const port = await freePort()
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    {cwd: dir, stdio: ['ignore', 'ignore', 'pipe']},
  )
  running.add(child)
  let log = ''
  child.stderr!.setEncoding('utf8').on('data', (d) => (log = (log + d).slice(-20_000)))
  let exited = false
  const gone = new Promise<void>((resolve) =>
    child.on('close', () => {
      exited = true
      running.delete(child)
      resolve()
    }),
  )
  const url = `http://127.0.0.1:${port}`

  async function query(q: string) {
    const r = await scrapeUrl(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)
    // Until its storage is open Prometheus answers 503 "Service Unavailable" (not JSON).
    if (!r.startsWith('{')) throw new Error(`not ready: ${r.slice(0, 100)}`)
    const j = JSON.parse(r)
    if (j.status !== 'success') throw new Error(`PromQL ${q}: ${r}`)
    return j.data.result
  }

  async function waitFor(q: string, ok: (r: any[]) => boolean, what: string) {
    let last = Date.now()
    let ticks = cpuTicks(child.pid!)
    let result: any[] = []
    for (;;) {
      if (exited) throw new Error(`prometheus exited while waiting for ${what}: ${log.slice(-2000)}`)
      try {
        result = await query(q)
        if (ok(result)) return result
      } catch (error) {
        if (!/ECONNREFUSED|not ready/.test(String(error))) throw error
      }

      // Progress: Prometheus keeps using CPU while it scrapes and evaluates.
      const now = cpuTicks(child.pid!)
      if (now !== ticks) {
        ticks = now
        last = Date.now()
      } else if (Date.now() - last > IDLE_MS) {
        throw new Error(`no progress towards ${what}; last result ${JSON.stringify(result)}`)
      }

      await sleep(250)
    }
  }

  return {
    child,
    log: () => log,
    value: async (q: string) => num(await waitFor(q, (r) => r.length === 1, `one series for ${q}`)),
    port,
    query,
    async stop() {
      if (!exited) child.kill('SIGTERM')
      await gone
      rmSync(dir, {force: true, recursive: true})
    },
    url,
    waitFor,
  }
}

function scrapeUrl(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, {agent: false}, (res) => {
        let body = ''
        res
          .setEncoding('utf8')
          .on('data', (d) => (body += d))
          .on('end', () => resolve(body))
      })
      .on('error', reject)
  })
}

/** `promtool ARGS` with `input` on stdin: {code, out}. */
export function promtool(args: string[], input?: string): {code: number; out: string} {
  try {
    const out = execFileSync('promtool', args, {encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe']})
    return {code: 0, out}
  } catch (error) {
    const e = error as {status: number; stdout: string; stderr: string}
    return {code: e.status, out: `${e.stdout}${e.stderr}`}
  }
}

export const num = (r: Array<{value: [number, string]}>) => (r.length > 0 ? Number(r[0].value[1]) : Number.NaN)
