/**
 * `tailcalls exporter`: serve the node's tail-call state to Prometheus until a signal.
 *
 * Safe by default: it listens on 127.0.0.1:9435 (ebpf_exporter's port) unless --listen says
 * otherwise, changes nothing in the kernel, and with --enable-stats holds a BPF_ENABLE_STATS
 * fd (never the sysctl) for exactly its own life.
 */
import type {Server} from 'node:net'

import {DEFAULT_PIN_PATH} from '../chain/pinpath.js'
import {TailcallsError} from '../errors.js'
import {effectiveCapabilities} from '../kernel/privileges.js'
import {StatsFd} from '../stats/enable.js'
import {sys} from '../sys/ffi.js'
import {collectScrape} from './collect.js'
import type {ExporterState} from './registry.js'
import {DEFAULT_LIMITS, HEALTH_PATH, type Limits, METRICS_PATH, createExporterServer} from './server.js'
import {type WebConfig, loadWebConfig} from './web-config.js'

export const DEFAULT_LISTEN = '127.0.0.1:9435'

export interface ExporterOptions {
  listen: string
  webConfig?: string
  enableStats: boolean
  pinPaths: string[]
  limits: Partial<Limits>
  version: string
  /** Status lines (stderr). */
  status: (line: string) => void
}

/** `host:port`, `[v6]:port` or `:port` (every interface: only when asked for). */
export function parseListen(listen: string): {host: string; port: number} {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen)
  const port = m ? Number(m[3]) : Number.NaN
  if (!m || port > 65_535) {
    throw new TailcallsError('usage', `--listen '${listen}' is not host:port`, {
      hint: `e.g. --listen ${DEFAULT_LISTEN}, --listen [::1]:9435, or --listen :9435 for every interface`,
    })
  }

  return {host: m[1] ?? (m[2] || '::'), port}
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({host, port}, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

export async function runExporter(opts: ExporterOptions): Promise<void> {
  const {host, port} = parseListen(opts.listen)
  const web: WebConfig = opts.webConfig ? await loadWebConfig(opts.webConfig) : {}
  const limits = {...DEFAULT_LIMITS, ...opts.limits}
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v <= 0)
      throw new TailcallsError('usage', `${k} must be a positive integer`, {hint: 'see tailcalls exporter --help'})
  }

  const {libbpf} = sys()
  const state: ExporterState = {
    errors: new Map(),
    libbpf: `${libbpf.libbpf_major_version()}.${libbpf.libbpf_minor_version()}`,
    refused: new Map(),
    scrapes: 0,
    version: opts.version,
  }
  const caps = effectiveCapabilities()
  if ((caps & (1n << 21n)) === 0n) {
    opts.status(
      'warning: without CAP_SYS_ADMIN the kernel refuses to list BPF objects by id: scrapes will report tailcalls_scrape_error{operation="snapshot"}',
    )
  }

  const stats = opts.enableStats ? StatsFd.enable() : undefined
  const server = createExporterServer({
    collect: () =>
      collectScrape({
        pinPaths: opts.pinPaths.length > 0 ? opts.pinPaths : [DEFAULT_PIN_PATH],
        statsHeld: stats !== undefined,
      }),
    limits,
    onScrapeError: (operation, message) => opts.status(`scrape: ${operation} failed: ${message}`),
    state,
    web,
  })

  let stop: (signal: string) => void = () => {}
  const stopped = new Promise<string>((resolve) => {
    stop = resolve
  })
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  for (const s of signals) process.on(s, stop)
  try {
    try {
      await listen(server, host, port)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE')
        throw new TailcallsError('conflict', `${opts.listen} is already in use`, {
          hint: 'choose another --listen address or port',
        })
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
        throw new TailcallsError('usage', `cannot listen on ${opts.listen}: no such local address`, {
          hint: 'give an address of this machine, e.g. 127.0.0.1',
        })
      if (code === 'EACCES')
        throw new TailcallsError('permission', `cannot listen on ${opts.listen}: ${code}`, {
          hint: 'ports below 1024 need CAP_NET_BIND_SERVICE; use 9435',
        })
      throw error
    }

    const address = server.address()
    const where =
      typeof address === 'object' && address
        ? `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
        : opts.listen
    const scheme = web.tls ? 'https' : 'http'
    opts.status(
      `Serving ${scheme}://${where}${METRICS_PATH} (health: ${HEALTH_PATH}); kernel stats: ${stats ? 'on while this runs (BPF_ENABLE_STATS fd)' : 'not enabled by this exporter'}${web.users ? '; basic auth' : ''}`,
    )
    const signal = await stopped
    opts.status(`Stopping (${signal})`)
  } finally {
    for (const s of signals) process.off(s, stop)
    server.close()
    ;(server as unknown as {closeAllConnections?: () => void}).closeAllConnections?.()
    stats?.close()
  }
}
