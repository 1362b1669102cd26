/**
 * The exporter's HTTP(S) server: read-only, two paths, bounded.
 *
 *   GET|HEAD /metrics   the scrape (Prometheus text 0.0.4, or OpenMetrics 1.0.0 when the Accept
 *                       header prefers it, as Prometheus does)
 *   GET|HEAD /healthz   "ok" (no kernel access, no auth: for liveness probes)
 *   other paths 404, other methods 405 (Allow: GET, HEAD), a request with a body 400.
 *
 * A slow or hostile client cannot stall others or grow memory without bound: headers must
 * arrive within headersTimeout and fit in maxHeaderSize (431 otherwise), a whole request within
 * requestTimeout, an idle socket is closed after idleTimeout, and connections beyond
 * maxConnections are dropped at accept. Memory per connection is therefore bounded by the
 * header limit plus one response.
 *
 * Scrapes that arrive together share one kernel read: a request queues itself and the read
 * runs on the next turn of the event loop (setImmediate), for every request queued by then.
 * Each response still reflects the kernel after its request arrived; 50 concurrent scrapers cost
 * a handful of reads, not 50. The read is synchronous (bpf() syscalls through koffi), so
 * nothing else runs during it; its duration is tailcalls_scrape_duration_seconds.
 */
import {type IncomingMessage, type ServerResponse, createServer as createHttp} from 'node:http'
import {createServer as createHttps} from 'node:https'
import type {Server} from 'node:net'

import type {ScrapeData} from './collect.js'
import {type ExporterState, type Format, type Rendered, render} from './registry.js'
import {BasicAuth, type WebConfig} from './web-config.js'

export interface Limits {
  maxConnections: number
  maxHeaderSize: number
  headersTimeoutMs: number
  requestTimeoutMs: number
  idleTimeoutMs: number
}

export const DEFAULT_LIMITS: Limits = {
  headersTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  maxConnections: 128,
  maxHeaderSize: 8192,
  requestTimeoutMs: 30_000,
}

export const METRICS_PATH = '/metrics'
export const HEALTH_PATH = '/healthz'

export interface ServerOptions {
  web: WebConfig
  limits: Limits
  state: ExporterState
  collect: () => ScrapeData
  /** Told once per operation whose error changed (the exporter logs it). */
  onScrapeError: (operation: string, message: string) => void
}

/** Which format the Accept header prefers (OpenMetrics only when it ranks above text/plain). */
export function negotiate(accept: string | undefined): Format {
  if (!accept) return 'prometheus'
  let om = -1
  let text = -1
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    let q = 1
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2))
    if (!Number.isFinite(q)) continue
    if (type === 'application/openmetrics-text') om = Math.max(om, q)
    else if (type === 'text/plain') text = Math.max(text, q)
  }

  return om > 0 && om > text ? 'openmetrics' : 'prometheus'
}

interface Pending {
  res: ServerResponse
  format: Format
  head: boolean
}

export function createExporterServer(opts: ServerOptions): Server {
  const {limits, state, web} = opts
  const auth = web.users ? new BasicAuth(web.users) : undefined
  const refuse = (reason: string) => state.refused.set(reason, (state.refused.get(reason) ?? 0) + 1)
  const lastErrors = new Map<string, string>()

  let queue: Pending[] = []
  let scheduled = false
  const runScrape = async () => {
    scheduled = false
    const batch = queue
    queue = []
    const live = batch.filter((p) => !p.res.destroyed)
    if (live.length === 0) return
    let data: ScrapeData
    try {
      data = opts.collect()
    } catch (error) {
      // collectScrape records syscall failures itself; anything else is a bug: answer, never hang.
      for (const p of live) send(p.res, 500, `exporter error: ${(error as Error).message}\n`, p.head)
      throw error
    }

    state.scrapes++
    for (const [operation, message] of data.errors) {
      state.errors.set(operation, (state.errors.get(operation) ?? 0) + 1)
      if (lastErrors.get(operation) !== message) opts.onScrapeError(operation, message)
      lastErrors.set(operation, message)
    }

    for (const operation of lastErrors.keys()) if (!data.errors.has(operation)) lastErrors.delete(operation)
    const rendered = new Map<Format, Promise<Rendered>>()
    for (const p of live) {
      if (!rendered.has(p.format)) rendered.set(p.format, render(data, state, p.format))
      let out: Rendered
      try {
        out = await rendered.get(p.format)!
      } catch (error) {
        send(p.res, 500, `exporter error: ${(error as Error).message}\n`, p.head)
        continue
      }

      if (p.res.destroyed) continue
      p.res.writeHead(200, {
        'Cache-Control': 'no-store',
        'Content-Length': Buffer.byteLength(out.body),
        'Content-Type': out.contentType,
      })
      p.res.end(p.head ? undefined : out.body)
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]
    const head = req.method === 'HEAD'
    if (req.method !== 'GET' && !head) {
      refuse('method')
      res.setHeader('Allow', 'GET, HEAD')
      send(res, 405, 'only GET and HEAD are served\n', false, true)
      return
    }

    // A GET with a body is not a scrape; refusing it (and closing) means we never buffer one.
    if (
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
      req.headers['transfer-encoding'] !== undefined
    ) {
      refuse('bad_request')
      send(res, 400, 'a request body is not accepted\n', head, true)
      return
    }

    if (path === HEALTH_PATH) {
      send(res, 200, 'ok\n', head)
      return
    }

    if (path !== METRICS_PATH) {
      refuse('not_found')
      send(res, 404, `not found; metrics are at ${METRICS_PATH}\n`, head)
      return
    }

    if (auth && !(await auth.check(req.headers.authorization))) {
      refuse('unauthorized')
      res.setHeader('WWW-Authenticate', 'Basic realm="tailcalls exporter", charset="UTF-8"')
      send(res, 401, 'unauthorized\n', head)
      return
    }

    queue.push({format: negotiate(req.headers.accept), head, res})
    if (!scheduled) {
      scheduled = true
      setImmediate(() => {
        runScrape().catch((error) => opts.onScrapeError('exporter', (error as Error).message))
      })
    }
  }

  const httpOptions = {
    connectionsCheckingInterval: 1000,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: 5000,
    maxHeaderSize: limits.maxHeaderSize,
    requestTimeout: limits.requestTimeoutMs,
  }
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error) => send(res, 500, `exporter error: ${(error as Error).message}\n`, false, true))
  }

  const server = web.tls
    ? createHttps(
        {
          ...httpOptions,
          ca: web.tls.ca,
          cert: web.tls.cert,
          key: web.tls.key,
          minVersion: web.tls.minVersion,
          rejectUnauthorized: web.tls.requestCert,
          requestCert: web.tls.requestCert,
        },
        listener,
      )
    : createHttp(httpOptions, listener)
  server.maxConnections = limits.maxConnections
  server.maxRequestsPerSocket = 1000
  server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy())
  server.on('drop', () => refuse('too_many_connections'))
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const code = error.code ?? ''
    const reason =
      code === 'HPE_HEADER_OVERFLOW'
        ? 'header_too_large'
        : code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT'
          ? 'header_timeout'
          : 'bad_request'
    refuse(reason)
    if (socket.writable && !socket.destroyed) {
      const status =
        reason === 'header_too_large'
          ? '431 Request Header Fields Too Large'
          : reason === 'header_timeout'
            ? '408 Request Timeout'
            : '400 Bad Request'
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }

    socket.destroy()
  })
  if (web.tls)
    server.on('tlsClientError', (_error, socket) => {
      refuse('tls_handshake')
      socket.destroy()
    })
  return server
}

function send(res: ServerResponse, status: number, body: string, head: boolean, close = false): void {
  if (res.destroyed || res.headersSent) return
  res.writeHead(status, {
    'Content-Length': Buffer.byteLength(body),
    'Content-Type': 'text/plain; charset=utf-8',
    ...(close ? {Connection: 'close'} : {}),
  })
  res.end(head ? undefined : body)
}
