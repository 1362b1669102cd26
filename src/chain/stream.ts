/**
 * Streaming a chain's events to stdout until Ctrl-C, SIGTERM/SIGHUP, --count or --duration,
 * then a summary that accounts for every event: received, dropped by the ring buffer
 * (counted in the kernel), and what the chain's own counters saw.
 */
import {type Batch, RingBufferReader} from '../libbpf/ringbuf.js'
import {EVENT, EVENT_KIND, STAGE_PROGS, TAIL_CALL_SLOTS} from '../sys/layouts.js'
import type {ChainStats} from './chain.js'
import {WallClock, formatRecord} from './events.js'

export interface EventSource {
  eventsFd: number
  stats(): ChainStats
  /** Stop new events at the source (detach prog1), before the final drain. */
  detach(): void
}

export interface StreamOptions {
  json: boolean
  count?: number
  durationSec?: number
  out: NodeJS.WritableStream & {writableNeedDrain?: boolean}
  /** Status lines (never events). */
  status: (line: string) => void
  /** How often the kernel's drop counter is checked while streaming. */
  dropCheckMs?: number
}

export interface StreamSummary {
  events: Record<string, number>
  events_total: number
  tail_call_failed: number[]
  ringbuf_drops: number
  /** Events consumed after --count was reached (not printed). */
  unprinted: number
  /** What the chain's per-CPU counters saw while we streamed: runs per program. */
  stage_runs: Record<string, number>
  stop_reason: 'count' | 'duration' | 'signal' | 'closed-output'
  signal?: string
  duration_s: number
  /** CPU time this process spent while streaming (user + system), for the event-path bench. */
  cpu_us: number
}

export async function streamEvents(source: EventSource, opts: StreamOptions): Promise<StreamSummary> {
  const clock = new WallClock()
  const started = process.hrtime.bigint()
  const cpuStart = process.cpuUsage()
  const baseline = source.stats()
  const events: Record<string, number> = Object.fromEntries(STAGE_PROGS.map((p) => [p, 0]))
  const failed = Array.from({length: TAIL_CALL_SLOTS}, () => 0)
  let printed = 0
  let unprinted = 0
  let lastDrops = 0

  let finish!: (reason: StreamSummary['stop_reason'], signal?: string) => void
  const done = new Promise<{reason: StreamSummary['stop_reason']; signal?: string}>((resolve) => {
    let settled = false
    finish = (reason, signal) => {
      if (settled) return
      settled = true
      resolve({reason, signal})
    }
  })

  const onBatch = ({buf, count}: Batch) => {
    let chunk = ''
    for (let i = 0; i < count; i++) {
      if (opts.count !== undefined && printed >= opts.count) {
        unprinted += count - i
        break
      }

      const off = i * EVENT.size
      if (buf.readUInt32LE(off + EVENT.kind) === EVENT_KIND.tailCallFailed) {
        const slot = buf.readUInt32LE(off + EVENT.slot)
        failed[slot] = (failed[slot] ?? 0) + 1
      } else {
        const prog = STAGE_PROGS[buf.readUInt32LE(off + EVENT.prog)] ?? 'unknown'
        events[prog] = (events[prog] ?? 0) + 1
      }

      chunk += formatRecord(buf, off, clock, opts.json) + '\n'
      printed++
    }

    if (chunk && !outputClosed) {
      const ok = opts.out.write(chunk)
      // A slow reader: stop draining the ring; the kernel side counts what it drops.
      if (!ok) {
        reader.pause()
        opts.out.once('drain', () => reader.resume())
      }
    }

    if (opts.count !== undefined && printed >= opts.count) finish('count')
  }

  let outputClosed = false
  const onOutputError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      outputClosed = true
      finish('closed-output')
    }
  }

  opts.out.on('error', onOutputError)
  const reader = new RingBufferReader(source.eventsFd, EVENT.size, onBatch)

  const checkDrops = () => {
    const drops = source.stats().ringbufDrops - baseline.ringbufDrops
    if (drops > lastDrops) {
      const delta = drops - lastDrops
      lastDrops = drops
      if (opts.json && !outputClosed) {
        opts.out.write(`{"timestamp":"${new Date().toISOString()}","level":"WARN","event":"ringbuf_drops","dropped":${delta},"dropped_total":${drops}}\n`)
      } else {
        opts.status(`warning: the ring buffer dropped ${delta} events (${drops} in all); the reader is too slow`)
      }
    }
  }

  const dropTimer = setInterval(checkDrops, opts.dropCheckMs ?? 1000)
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  const onSignal = (signal: string) => finish('signal', signal)
  for (const s of signals) process.on(s, onSignal)
  const durationTimer = opts.durationSec === undefined ? undefined : setTimeout(() => finish('duration'), opts.durationSec * 1000)

  opts.status('Waiting for Ctrl-C...')
  reader.start()
  const {reason, signal} = await done

  // Teardown order: stop producing, drain what is already in the ring, then count.
  for (const s of signals) process.off(s, onSignal)
  clearInterval(dropTimer)
  if (durationTimer) clearTimeout(durationTimer)
  source.detach()
  reader.drain()
  reader.close()
  checkDrops()
  opts.out.off('error', onOutputError)

  const end = source.stats()
  const stageRuns = Object.fromEntries(STAGE_PROGS.map((p) => [p, end.runs[p] - baseline.runs[p]]))
  const cpu = process.cpuUsage(cpuStart)
  return {
    cpu_us: cpu.user + cpu.system,
    duration_s: Number(process.hrtime.bigint() - started) / 1e9,
    events,
    events_total: printed,
    ringbuf_drops: end.ringbufDrops - baseline.ringbufDrops,
    signal,
    stage_runs: stageRuns,
    stop_reason: reason,
    tail_call_failed: failed,
    unprinted,
  }
}

export function formatSummary(s: StreamSummary): string {
  const perProg = Object.entries(s.events)
    .filter(([p, n]) => n > 0 || p !== 'prog3_v2')
    .map(([p, n]) => `${p} ${n}`)
    .join(', ')
  const failed = s.tail_call_failed.reduce((a, b) => a + b, 0)
  const failedSlots = failed ? ` (${s.tail_call_failed.map((n, i) => `slot ${i}: ${n}`).join(', ')})` : ''
  const extra = s.unprinted ? `; ${s.unprinted} more received after --count` : ''
  return `Summary: ${s.events_total} events in ${s.duration_s.toFixed(1)} s (${perProg}); failed tail calls: ${failed}${failedSlots}; ring-buffer drops: ${s.ringbuf_drops}${extra}`
}
