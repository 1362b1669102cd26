// Hostile and broken clients: slowloris connections that drip headers, oversized headers, a flood
// of idle connections beyond --max-connections, unknown paths, other methods, a GET with a body.
// Each is bounded (closed by the server), refused with the right status, counted in
// tailcalls_http_requests_refused_total, and the exporter keeps serving scrapes throughout.
// Every loop here is bounded by count; waits end on progress (sockets closing), not on a clock.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {type Socket, connect} from 'node:net'
import {test} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {until} from '../helpers/progress.js'
import {sample, scrape, startExporter} from './helpers.js'

const rssKiB = (pid: number) => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1])

function open(port: number): Promise<{socket: Socket; closed: () => boolean; data: () => string}> {
  return new Promise((resolve, reject) => {
    let closed = false
    let data = ''
    const socket = connect(port, '127.0.0.1', () => resolve({closed: () => closed, data: () => data, socket}))
    socket.setEncoding('utf8').on('data', (d) => (data += d))
    socket.on('close', () => (closed = true))
    socket.on('error', (error) => {
      if (!socket.connecting) return
      reject(error)
    })
  })
}

/**
 * A scrape while the server is still tearing down the abusive connections of the step before:
 * it resets connections beyond --max-connections at accept, so a scrape that races the release
 * of a slot sees ECONNRESET; try again, a bounded number of times, as a scraper would.
 */
async function scrapeSettled(port: number, opts?: Parameters<typeof scrape>[1]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await scrape(port, opts)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET' || attempt === 5) throw error
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

/** One raw request; resolves with what the server sent before closing (or after the first response). */
async function raw(port: number, text: string): Promise<string> {
  const c = await open(port)
  c.socket.write(text)
  await until(() => c.closed() || /\r\n\r\n/.test(c.data()), 'a response', {progress: () => c.data().length})
  c.socket.destroy()
  return c.data()
}

test('slow, oversized, unknown and flooding clients are bounded and refused; scrapes go on', async () => {
  const MAX = 40
  const exporter = await startExporter(['--max-connections', String(MAX), '--header-timeout', '2'])
  const pid = exporter.cli.child.pid!
  const sockets: Array<Awaited<ReturnType<typeof open>>> = []
  try {
    assert.equal((await scrapeSettled(exporter.port)).status, 200)
    const rssStart = rssKiB(pid)

    // Slowloris: 20 connections send a request line and then one header byte at a time.
    const slow = await Promise.all(Array.from({length: 20}, () => open(exporter.port)))
    sockets.push(...slow)
    for (const c of slow) c.socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
    // Scrapes are served while they drip.
    for (let i = 0; i < 3; i++) assert.equal((await scrapeSettled(exporter.port)).status, 200)
    // Drip until the server closes each one (bounded: 400 rounds; the header timeout is 2 s).
    for (let round = 0; round < 400 && slow.some((c) => !c.closed()); round++) {
      for (const c of slow) if (!c.closed()) c.socket.write('a')
      await sleep(250)
    }

    assert.ok(
      slow.every((c) => c.closed()),
      'the server closed every slowloris connection',
    )

    // Oversized headers: 431, connection closed.
    const big = await raw(exporter.port, `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`)
    assert.match(big, /^HTTP\/1\.1 431 /)

    // Unknown paths and other methods.
    for (const path of ['/', '/metricsx', '/metrics/../admin', '/debug/pprof'])
      assert.equal((await scrapeSettled(exporter.port, {path})).status, 404, path)
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await scrapeSettled(exporter.port, {method})
      assert.equal(r.status, 405, method)
      assert.equal(r.headers.allow, 'GET, HEAD')
    }

    const head = await scrapeSettled(exporter.port, {method: 'HEAD'})
    assert.equal(head.status, 200)
    assert.equal(head.body, '')
    const withBody = await raw(exporter.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello')
    assert.match(withBody, /^HTTP\/1\.1 400 /)
    assert.match(await raw(exporter.port, 'NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1\.1 400 /)

    // A flood of idle connections beyond --max-connections: the extra ones are dropped at once.
    const flood = await Promise.all(Array.from({length: MAX + 20}, () => open(exporter.port).catch(() => undefined)))
    const held = flood.filter((c) => c !== undefined)
    sockets.push(...held)
    await until(() => held.filter((c) => c.closed()).length >= 20, 'the connections beyond the limit to be dropped', {
      progress: () => held.filter((c) => c.closed()).length,
    })
    for (const c of held) c.socket.destroy()

    // Still serving, and every refusal counted.
    const after = await scrapeSettled(exporter.port)
    assert.equal(after.status, 200)
    const refused = (reason: string) => sample(after.body, 'tailcalls_http_requests_refused_total', {reason}) ?? 0
    assert.ok(refused('header_timeout') >= 20, `header_timeout ${refused('header_timeout')}`)
    assert.ok(refused('header_too_large') >= 1)
    assert.ok(refused('not_found') >= 4)
    assert.ok(refused('method') >= 5)
    assert.ok(refused('bad_request') >= 2)
    assert.ok(refused('too_many_connections') >= 20, `too_many_connections ${refused('too_many_connections')}`)
    // Memory stayed bounded (the limits cap what a client can make it hold).
    const grown = rssKiB(pid) - rssStart
    assert.ok(grown < 64 * 1024, `RSS grew ${grown} KiB`)
  } finally {
    for (const c of sockets) c.socket.destroy()
    const end = await exporter.stop()
    assert.equal(end.code, 0, end.stderr)
  }
})
